"""Idempotency keys of `POST /api/items`: which item a user's key opened, for which request, and when.

The item id is stored rather than derived from the key, so a key that expired opens a new item.

Revision ID: 0007_idempotency_keys
Revises: 0006_list_covering_indexes
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_idempotency_keys"
down_revision = "0006_list_covering_indexes"
branch_labels = None
depends_on = None

ID = 128


def upgrade() -> None:
    """Create the table, keyed by user and key."""
    op.create_table(
        "idempotency_keys",
        sa.Column("actor_id", sa.String(ID), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("item_id", sa.String(ID), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop it: keys then answer as before 0007 (none are remembered)."""
    op.drop_table("idempotency_keys")
