"""The ledger (every audit event once, at a gapless position) and its signed checkpoints."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, FetchedValue, Index, Integer, String, Table, UniqueConstraint

from store.metadata import ID, metadata
from store.utc import UTCDateTime

ledger = Table(
    "ledger",
    metadata,
    Column("position", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("event_id", String(ID), nullable=False),
    Column("item_id", String(ID), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("sealed_at", UTCDateTime(), nullable=False, server_default=FetchedValue()),
    UniqueConstraint("event_id", name="uq_ledger_event_id"),
    Index("ix_ledger_item_id", "item_id"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("signature", String(128), nullable=False),
    Index("ix_checkpoints_size", "size"),
)
