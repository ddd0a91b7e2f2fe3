"""考核 as data: versioned scoring policies (seeded with the default) and published assessments.

Both tables are append-only, like the escalation policies: the database refuses UPDATE and DELETE.

Revision ID: 0011_assessment_policies
Revises: 0010_items_stage_light_index
Create Date: 2026-12-03
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011_assessment_policies"
down_revision = "0010_items_stage_light_index"
branch_labels = None
depends_on = None

ID = 128
TABLES = ("assessment_policies", "assessment_publications")
# The default scoring policy, frozen here as it was when seeded (later edits are new versions).
DEFAULT_RULES = {
    "base": 100.0,
    "overdue_day": 0.5,
    "red_card": 3.0,
    "top_rung": 5.0,
    "unjustified_return": 2.0,
    "ineffective": 5.0,
    "rectify_loop": 2.0,
    "early_completion": 0.2,
    "early_days_cap": 10,
    "bonus_cap": 5.0,
    "bands": {"excellent": 90.0, "good": 80.0, "passing": 60.0},
}


def _pg(table: str) -> tuple[str, str]:
    return (
        f"""
        CREATE FUNCTION {table}_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{table} rows are immutable: append a new version'
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """,
        f"CREATE TRIGGER {table}_no_update_or_delete BEFORE UPDATE OR DELETE ON {table}"
        f" FOR EACH ROW EXECUTE FUNCTION {table}_immutable()",
    )


def _sqlite(table: str) -> tuple[str, ...]:
    return tuple(
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}"
        f" BEGIN SELECT RAISE(ABORT, '{table} rows are immutable: append a new version'); END"
        for verb in ("UPDATE", "DELETE")
    )


def upgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    policies = op.create_table(
        "assessment_policies",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("draft", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(ID), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_assessment_policies"),
    )
    op.create_table(
        "assessment_publications",
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("period_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("figures_hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("published_by", sa.String(ID), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_assessment_publications"),
        sa.UniqueConstraint("period_from", "period_to", "revision", name="uq_assessment_publications_period"),
    )
    seeded = datetime(2026, 12, 3, tzinfo=UTC)
    op.bulk_insert(
        policies,
        [
            {
                "version": 1,
                "rules": DEFAULT_RULES,
                "draft": False,
                "note": "默认考核办法 / default scoring policy",
                "created_by": "system",
                "created_at": seeded.replace(tzinfo=None) if sqlite else seeded,
            }
        ],
    )
    for table in TABLES:
        for statement in _sqlite(table) if sqlite else _pg(table):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
        if op.get_context().dialect.name != "sqlite":
            op.execute(f"DROP FUNCTION IF EXISTS {table}_immutable()")
