"""Signed checkpoints: (size, root, time) of the ledger, signed with Ed25519 outside the database."""

from __future__ import annotations

import hashlib
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from pydantic import BaseModel, ConfigDict

STATEMENT_ORIGIN = "duban-audit-ledger/v1"


class BadKey(ValueError):
    """A key file that is not an Ed25519 key in PEM."""


class Checkpoint(BaseModel):
    """The ledger's first `size` entries have Merkle root `root` (hex), as of `created_at`."""

    model_config = ConfigDict(frozen=True)

    size: int
    root: str
    created_at: datetime
    key_id: str
    signature: str  # hex Ed25519 signature of `statement()`

    def statement(self) -> bytes:
        """The signed text: origin, size, root, time (UTC, ISO 8601) and key id, one per line."""
        return checkpoint_statement(self.size, self.root, self.created_at, self.key_id)


def checkpoint_statement(size: int, root: str, created_at: datetime, key_id: str) -> bytes:
    """The canonical bytes a checkpoint's signature covers."""
    when = created_at.isoformat(timespec="microseconds")
    return f"{STATEMENT_ORIGIN}\nsize {size}\nroot {root}\ntime {when}\nkey {key_id}\n".encode("ascii")


def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable name of a public key: the first 16 hex digits of sha256 of its raw bytes."""
    return hashlib.sha256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


class Signer:
    """Signs checkpoints with one Ed25519 private key."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id(self.public)

    @classmethod
    def generate(cls) -> Signer:
        """A signer with a fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes) -> Signer:
        """The signer of a PKCS#8 PEM private key; BadKey if it is not an Ed25519 key."""
        try:
            private = load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as error:
            raise BadKey(f"不是 PEM 私钥 / not a PEM private key: {error}") from error
        if not isinstance(private, Ed25519PrivateKey):
            raise BadKey("不是 Ed25519 私钥 / not an Ed25519 private key")
        return cls(private)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (for the key file)."""
        return self._private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())

    def public_pem(self) -> bytes:
        """The public key as SubjectPublicKeyInfo PEM (to publish)."""
        return self.public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)

    def sign(self, size: int, root: str, created_at: datetime) -> Checkpoint:
        """A signed checkpoint of (size, root) at `created_at`."""
        statement = checkpoint_statement(size, root, created_at, self.key_id)
        return Checkpoint(
            size=size,
            root=root,
            created_at=created_at,
            key_id=self.key_id,
            signature=self._private.sign(statement).hex(),
        )


def public_key_from_pem(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; BadKey if it is anything else."""
    try:
        public = load_pem_public_key(pem)
    except (ValueError, TypeError) as error:
        raise BadKey(f"不是 PEM 公钥 / not a PEM public key: {error}") from error
    if not isinstance(public, Ed25519PublicKey):
        raise BadKey("不是 Ed25519 公钥 / not an Ed25519 public key")
    return public


def signature_valid(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bool:
    """True when `checkpoint` was signed by `public`'s private key and names that key."""
    if checkpoint.key_id != key_id(public):
        return False
    try:
        public.verify(bytes.fromhex(checkpoint.signature), checkpoint.statement())
    except (InvalidSignature, ValueError):
        return False
    return True
