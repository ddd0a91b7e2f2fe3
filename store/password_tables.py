"""Sign-in passwords of org-chart users: one Argon2id hash per user, never the password itself."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table

from store.metadata import ID, metadata
from store.utc import UTCDateTime

user_passwords = Table(
    "user_passwords",
    metadata,
    Column("user_id", String(ID), ForeignKey("users.id"), primary_key=True),
    # An encoded Argon2 hash carries its own parameters and salt (about 100 characters).
    Column("hash", String(255), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
