"""The tables as the queries see them; `migrations/versions` creates them (keep the two in step)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

# The 考核, ledger, notification, password, policy and rhythm tables join the same metadata in their
# own modules, imported here so that `store.schema.metadata` holds every table (migrations compare
# against it).
import store.assessment_tables
import store.ledger_tables
import store.notify_tables
import store.password_tables
import store.policy_tables
import store.rhythm_tables  # noqa: F401
from store.metadata import ID, metadata
from store.utc import UTCDateTime

__all__ = ["ID", "metadata"]

audit_events = Table(
    "audit_events",
    metadata,
    # The surrogate key only identifies a row; order comes from (item_id, seq).
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(ID), nullable=False),
    Column("item_id", String(ID), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("actor_id", String(ID), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("actor_unit", String(ID), nullable=True),
    Column("actor_name", String(200), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False, server_default=FetchedValue()),
    Column("payload", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("event_id", name="uq_audit_events_event_id"),
    UniqueConstraint("item_id", "seq", name="uq_audit_events_item_seq"),
    Index("ix_audit_events_occurred_at", "occurred_at"),
    Index("ix_audit_events_actor_id", "actor_id"),
)

items = Table(
    "items",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("number", String(32), nullable=False),
    Column("title", String(400), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("light", String(8), nullable=False),
    Column("category", String(32), nullable=True),
    Column("priority", String(16), nullable=True),
    Column("source", String(32), nullable=True),
    Column("lead_unit", String(ID), nullable=False),
    Column("supervisor", String(ID), nullable=False),
    Column("leader", String(ID), nullable=False),
    Column("deadline", UTCDateTime(), nullable=True),
    Column("next_due", UTCDateTime(), nullable=True),
    Column("opened_at", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=True),
    Column("last_seq", Integer, nullable=False),
    Column("search", Text, nullable=False),
    Column("state", JSON, nullable=False),
    Index("ix_items_number", "number"),
    Index("ix_items_stage_category_id", "stage", "category", "id"),
    Index("ix_items_stage_light", "stage", "light"),  # the open-items gauge (migration 0010)
    Index("ix_items_next_due", "next_due"),
    Index("ix_items_updated_at", "updated_at"),
)

item_units = Table(
    "item_units",
    metadata,
    Column("item_id", String(ID), ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", String(ID), primary_key=True),
    Column("part", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_item_units_unit_item", "unit_id", "item_id"),
)

item_numbers = Table(
    "item_numbers",
    metadata,
    Column("item_id", String(ID), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("serial", Integer, nullable=False),
    Column("number", String(32), nullable=False),
    UniqueConstraint("number", name="uq_item_numbers_number"),
    UniqueConstraint("year", "serial", name="uq_item_numbers_year_serial"),
)

units = Table(
    "units",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("type", String(64), nullable=False),
    Column("leader_user_id", String(ID), nullable=True),
    Column("kind", String(16), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("unit", String(ID), ForeignKey("units.id"), nullable=True),
    Column("title", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("top_leader", Boolean, nullable=False, server_default=false()),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("actor_id", String(ID), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("item_id", String(ID), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
