"""A published assessment keeps its breakdown (each unit's lines per item and rule, the calendar).

A download then shows what was published, with no scan of the log; rows published before this
have none (NULL) and their files say the breakdown is not attached.

Revision ID: 0013_publication_breakdown
Revises: 0012_documents
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_publication_breakdown"
down_revision = "0012_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable `breakdown` column (adding a column is no UPDATE: the guard stays as it is)."""
    op.add_column("assessment_publications", sa.Column("breakdown", sa.JSON, nullable=True))


def downgrade() -> None:
    """Drop `breakdown` (downloads then say the breakdown is not attached)."""
    with op.batch_alter_table("assessment_publications") as batch:
        batch.drop_column("breakdown")
