"""Index items by (stage, category), replacing the stage index it extends.

The list's exact count over stage + category then reads the index, not the wide rows.

Revision ID: 0005_items_stage_category_index
Revises: 0004_escalation_policies
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0005_items_stage_category_index"
down_revision = "0004_escalation_policies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the composite index; stage-only lists use its leading column."""
    op.create_index("ix_items_stage_category", "items", ["stage", "category"])
    op.drop_index("ix_items_stage", table_name="items")


def downgrade() -> None:
    """Back to the stage index alone."""
    op.create_index("ix_items_stage", "items", ["stage"])
    op.drop_index("ix_items_stage_category", table_name="items")
