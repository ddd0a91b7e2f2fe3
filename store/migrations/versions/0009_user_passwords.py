"""Sign-in passwords for the pages: one Argon2id hash per org-chart user.

The bearer-token API does not read this table; only the pages' sign-in does.

Revision ID: 0009_user_passwords
Revises: 0008_unit_secrets
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_user_passwords"
down_revision = "0008_unit_secrets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `user_passwords`."""
    op.create_table(
        "user_passwords",
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("hash", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop `user_passwords` (every password is forgotten)."""
    op.drop_table("user_passwords")
