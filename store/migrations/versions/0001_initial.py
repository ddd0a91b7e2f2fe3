"""Initial schema: the append-only audit log, read models, item numbers and the org chart.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = 128

_SQLITE_NOW = sa.text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")  # microsecond width, like the rest
_PG_NOW = sa.text("now()")

_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
    """,
    """
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
    """,
)

_PG_TRIGGERS = (
    """
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
    """,
)


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(ID), nullable=False),
        sa.Column("item_id", sa.String(ID), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(ID), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_unit", sa.String(ID), nullable=True),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("occurred_at", _utc(), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False, server_default=_SQLITE_NOW if sqlite else _PG_NOW),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("event_id", name="uq_audit_events_event_id"),
        sa.UniqueConstraint("item_id", "seq", name="uq_audit_events_item_seq"),
    )
    op.create_index("ix_audit_events_occurred_at", "audit_events", ["occurred_at"])
    op.create_index("ix_audit_events_actor_id", "audit_events", ["actor_id"])
    for statement in _SQLITE_TRIGGERS if sqlite else _PG_TRIGGERS:
        op.execute(statement)

    op.create_table(
        "items",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("title", sa.String(400), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("light", sa.String(8), nullable=False),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("priority", sa.String(16), nullable=True),
        sa.Column("source", sa.String(32), nullable=True),
        sa.Column("lead_unit", sa.String(ID), nullable=False),
        sa.Column("supervisor", sa.String(ID), nullable=False),
        sa.Column("leader", sa.String(ID), nullable=False),
        sa.Column("deadline", _utc(), nullable=True),
        sa.Column("next_due", _utc(), nullable=True),
        sa.Column("opened_at", _utc(), nullable=True),
        sa.Column("updated_at", _utc(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("search", sa.Text(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
    )
    op.create_index("ix_items_number", "items", ["number"])
    op.create_index("ix_items_stage", "items", ["stage"])
    op.create_index("ix_items_next_due", "items", ["next_due"])
    op.create_index("ix_items_updated_at", "items", ["updated_at"])

    op.create_table(
        "item_units",
        sa.Column("item_id", sa.String(ID), sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("unit_id", sa.String(ID), primary_key=True),
        sa.Column("part", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_item_units_unit_id", "item_units", ["unit_id"])

    op.create_table(
        "item_numbers",
        sa.Column("item_id", sa.String(ID), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.UniqueConstraint("number", name="uq_item_numbers_number"),
        sa.UniqueConstraint("year", "serial", name="uq_item_numbers_year_serial"),
    )

    op.create_table(
        "units",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("leader_user_id", sa.String(ID), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(ID), sa.ForeignKey("units.id"), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_table("units")
    op.drop_table("item_numbers")
    op.drop_table("item_units")
    op.drop_table("items")
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        op.drop_table("audit_events")
    else:
        op.drop_table("audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
