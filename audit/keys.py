"""The checkpoint signing key on disk: generated once, read by the worker and the CLI, never in the DB."""

from __future__ import annotations

import os
from pathlib import Path

from ledger.checkpoint import BadKey, Signer
from settings import Settings
from setup_errors import SetupUnusable


class KeyUnavailable(SetupUnusable):
    """The signing key file is missing or unreadable; the message says what to do."""


def public_path(private: Path) -> Path:
    """Where the public half of the key at `private` is written (`<name>.pub`)."""
    return private.with_name(private.name + ".pub")


def generate_key(path: Path) -> Signer:
    """Write a new private key to `path` (mode 0600) and its public key beside it; never overwrite."""
    if path.exists():
        raise KeyUnavailable(f"密钥文件已存在，不覆盖 / the key file exists, not overwriting it: {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(signer.private_pem())
    public_path(path).write_bytes(signer.public_pem())
    return signer


def load_signer(settings: Settings, *, create_if_missing: bool = False) -> Signer:
    """The signer of the configured key file; the embedded default may create it on first use."""
    path = settings.resolved_audit_signer_file
    if not path.exists():
        if create_if_missing and settings.environment != "production":
            return generate_key(path)
        raise KeyUnavailable(
            f"找不到检查点签名密钥 {path}，请运行 duban audit keygen / no checkpoint signing key at {path};"
            " run `duban audit keygen` (or set AUDIT_SIGNER_FILE)"
        )
    try:
        return Signer.from_pem(path.read_bytes())
    except OSError as error:
        raise KeyUnavailable(f"无法读取密钥 {path} / cannot read the key: {error.strerror}") from error
    except BadKey as error:
        raise KeyUnavailable(f"{path}: {error}") from error
