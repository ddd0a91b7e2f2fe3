"""Escalation policies as data: versioned ladders per category and priority, seeded with the default ladder.

Revision ID: 0004_escalation_policies
Revises: 0003_ledger
Create Date: 2026-11-27
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004_escalation_policies"
down_revision = "0003_ledger"
branch_labels = None
depends_on = None

ID = 128
TABLE = "escalation_policies"
CATEGORIES = ("major_policy", "major_funds", "major_project", "other")
PRIORITIES = ("normal", "high", "urgent")
# The default ladder, frozen here as it was when seeded (later edits are new versions, not new seeds).
DEFAULT_RUNGS = [
    {"level": "reminder", "offset_days": -2, "audience": ["unit_handlers"]},
    {"level": "warning", "offset_days": 0, "audience": ["unit_handlers", "unit_leader"]},
    {"level": "overdue", "offset_days": 3, "audience": ["responsible_leader"]},
    {"level": "top", "offset_days": 7, "audience": ["top_leader", "discipline"]},
]

_PG = (
    f"""
    CREATE FUNCTION {TABLE}_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'policy versions are immutable: publish a new version'
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    f"CREATE TRIGGER {TABLE}_no_update_or_delete BEFORE UPDATE OR DELETE ON {TABLE}"
    f" FOR EACH ROW EXECUTE FUNCTION {TABLE}_immutable()",
)
_SQLITE = tuple(
    f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE}"
    " BEGIN SELECT RAISE(ABORT, 'policy versions are immutable: publish a new version'); END"
    for verb in ("UPDATE", "DELETE")
)


def upgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    table = op.create_table(
        TABLE,
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rungs", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(ID), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("category", "priority", "version", name="pk_escalation_policies"),
    )
    seeded = datetime(2026, 11, 27, tzinfo=UTC)
    op.bulk_insert(
        table,
        [
            {
                "category": category,
                "priority": priority,
                "version": 1,
                "rungs": DEFAULT_RUNGS,
                "note": "默认督办阶梯 / default ladder",
                "created_by": "system",
                "created_at": seeded.replace(tzinfo=None) if sqlite else seeded,
            }
            for category in CATEGORIES
            for priority in PRIORITIES
        ],
    )
    for statement in _SQLITE if sqlite else _PG:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table(TABLE)
    if op.get_context().dialect.name != "sqlite":
        op.execute(f"DROP FUNCTION IF EXISTS {TABLE}_immutable()")
