"""Pure rules of the supervision closed loop: no I/O, no framework imports.

The same `evolve` fold serves the workflow, the read-model projection and the
auditor's replay; `decide` turns a command into events or a refusal.
"""
