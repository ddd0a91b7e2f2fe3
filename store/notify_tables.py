"""The notification tables: each user's in-app inbox and the queue of the daily reminder digest.

Both are keyed by the notice's item and audit event, so an activity retried by Temporal
writes its row once.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from store.metadata import ID, metadata
from store.utc import UTCDateTime

DAY = 10  # a Beijing calendar day, "YYYY-MM-DD"

notify_inbox = Table(
    "notify_inbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("user_id", String(ID), nullable=False),
    Column("item_id", String(ID), nullable=False),
    Column("event_seq", Integer, nullable=False),
    Column("number", String(32), nullable=False),
    Column("title", String(400), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("rule", String(200), nullable=False),
    Column("due", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("read_at", UTCDateTime(), nullable=True),
    UniqueConstraint("item_id", "event_seq", "user_id", name="uq_notify_inbox_notice"),
    Index("ix_notify_inbox_user_id", "user_id", "id"),
)

notify_digest_entries = Table(
    "notify_digest_entries",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("item_id", String(ID), nullable=False),
    Column("event_seq", Integer, nullable=False),
    Column("recipient", String(ID), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("notice", JSON, nullable=False),
    Column("queued_at", UTCDateTime(), nullable=False),
    # Set when a day's digest claims the entry; entries queued after that day's digest wait for the next.
    Column("digest_day", String(DAY), nullable=True),
    UniqueConstraint("item_id", "event_seq", "recipient", "channel", name="uq_notify_digest_entries_notice"),
    Index("ix_notify_digest_entries_digest_day", "digest_day"),
)

notify_digests = Table(
    "notify_digests",
    metadata,
    Column("recipient", String(ID), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("day", String(DAY), primary_key=True),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
)
