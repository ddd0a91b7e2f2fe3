"""The auditor's pure core: Merkle trees (RFC 6962), signed checkpoints, chain walks, bundles.

No I/O, no database, no server: the offline verifier imports only this package and `domain`.
"""
