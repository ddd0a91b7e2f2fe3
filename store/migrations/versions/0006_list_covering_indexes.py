"""Indexes that let the list's exact count read indexes instead of the wide item rows.

`item_units (unit_id, item_id)` answers "is this item assigned to that unit" for a unit's items
from the index alone, and `items (stage, category, id)` gives the ids a unit's count joins on
without reading the rows (the `state` JSON makes each row ~1.5 kB). Both replace the shorter
index they extend.

Revision ID: 0006_list_covering_indexes
Revises: 0005_items_stage_category_index
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0006_list_covering_indexes"
down_revision = "0005_items_stage_category_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the wider indexes, then drop the ones they extend (their leading columns)."""
    op.create_index("ix_item_units_unit_item", "item_units", ["unit_id", "item_id"])
    op.drop_index("ix_item_units_unit_id", table_name="item_units")
    op.create_index("ix_items_stage_category_id", "items", ["stage", "category", "id"])
    op.drop_index("ix_items_stage_category", table_name="items")


def downgrade() -> None:
    """Back to the indexes of 0005."""
    op.create_index("ix_items_stage_category", "items", ["stage", "category"])
    op.drop_index("ix_items_stage_category_id", table_name="items")
    op.create_index("ix_item_units_unit_id", "item_units", ["unit_id"])
    op.drop_index("ix_item_units_unit_item", table_name="item_units")
