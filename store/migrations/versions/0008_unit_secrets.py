"""Robot webhooks and DingTalk 加签 secrets leave the database for UNIT_SECRETS_FILE.

A webhook URL carries the robot's access token: in `units` it travelled in every dump and
backup. The values found are merged into the secrets file (written 0600; a unit the file
already names keeps the file's values), and only then are the columns dropped, so a failed
write leaves the database as it was. Downgrade puts back what the file holds. PostgreSQL keeps
the dropped values on disk until `VACUUM FULL units`, and backups keep them: docs/operations.md.

Revision ID: 0008_unit_secrets
Revises: 0007_idempotency_keys
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from settings import Settings
from store.unit_secrets import FIELDS, UnitRobots, load_unit_secrets, write_unit_secrets

revision = "0008_unit_secrets"
down_revision = "0007_idempotency_keys"
branch_labels = None
depends_on = None

COLUMNS = {"dingtalk_webhook": 1000, "dingtalk_secret": 200, "wecom_webhook": 1000}


def _units() -> sa.TableClause:
    return sa.table("units", sa.column("id"), *(sa.column(name) for name in sorted(FIELDS)))


def upgrade() -> None:
    """Move the values out to the secrets file, then drop the columns."""
    units = _units()
    found = {
        row.id: UnitRobots.model_validate({name: getattr(row, name) or None for name in FIELDS})
        for row in op.get_bind().execute(sa.select(units))
        if any(getattr(row, name) for name in FIELDS)
    }
    if found:
        path = Settings().resolved_unit_secrets_file
        kept = load_unit_secrets(path) if path.exists() else {}
        write_unit_secrets(path, {**found, **kept})
    for name in COLUMNS:
        op.drop_column("units", name)


def downgrade() -> None:
    """Put the columns back, filled from the secrets file when there is one."""
    for name, length in COLUMNS.items():
        op.add_column("units", sa.Column(name, sa.String(length), nullable=True))
    path = Settings().resolved_unit_secrets_file
    if not path.exists():
        return
    units = _units()
    for unit_id, robots in load_unit_secrets(path).items():
        op.get_bind().execute(sa.update(units).where(units.c.id == unit_id).values(**robots.plain()))
