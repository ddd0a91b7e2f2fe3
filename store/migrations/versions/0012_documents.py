"""The rhythms' runs, each unit's monthly request, and the generated documents (通报, 调度 summary).

Each is keyed by (rhythm or kind, period), so a period's run writes its notices and documents once.

Revision ID: 0012_documents
Revises: 0010_items_stage_light_index
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_documents"
down_revision = "0011_assessment_policies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `rhythm_runs`, `rhythm_requests` and `documents`."""
    op.create_table(
        "rhythm_runs",
        sa.Column("rhythm", sa.String(16), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("figures_hash", sa.String(64), nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
    )
    op.create_table(
        "rhythm_requests",
        sa.Column("rhythm", sa.String(16), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("unit_id", sa.String(128), primary_key=True),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "documents",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("figures_hash", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("kind", "period", name="uq_documents_kind_period"),
    )


def downgrade() -> None:
    """Drop the three tables (the generated documents are lost; the audit log is untouched)."""
    op.drop_table("documents")
    op.drop_table("rhythm_requests")
    op.drop_table("rhythm_runs")
