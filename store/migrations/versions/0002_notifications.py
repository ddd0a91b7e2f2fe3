"""Notifications: contact data on the org chart, the in-app inbox and the daily digest queue.

Revision ID: 0002_notifications
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_notifications"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = 128
DAY = 10


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _key() -> sa.Column[int]:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


def upgrade() -> None:
    op.add_column("units", sa.Column("dingtalk_webhook", sa.String(1000), nullable=True))
    op.add_column("units", sa.Column("dingtalk_secret", sa.String(200), nullable=True))
    op.add_column("units", sa.Column("wecom_webhook", sa.String(1000), nullable=True))
    op.add_column("users", sa.Column("email", sa.String(320), nullable=True))
    op.add_column("users", sa.Column("top_leader", sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        "notify_inbox",
        _key(),
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("item_id", sa.String(ID), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("title", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("due", _utc(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("read_at", _utc(), nullable=True),
        sa.UniqueConstraint("item_id", "event_seq", "user_id", name="uq_notify_inbox_notice"),
    )
    op.create_index("ix_notify_inbox_user_id", "notify_inbox", ["user_id", "id"])

    op.create_table(
        "notify_digest_entries",
        _key(),
        sa.Column("item_id", sa.String(ID), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(ID), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("notice", sa.JSON(), nullable=False),
        sa.Column("queued_at", _utc(), nullable=False),
        sa.Column("digest_day", sa.String(DAY), nullable=True),
        sa.UniqueConstraint(
            "item_id", "event_seq", "recipient", "channel", name="uq_notify_digest_entries_notice"
        ),
    )
    op.create_index("ix_notify_digest_entries_digest_day", "notify_digest_entries", ["digest_day"])

    op.create_table(
        "notify_digests",
        sa.Column("recipient", sa.String(ID), primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("day", sa.String(DAY), primary_key=True),
        sa.Column("claimed_at", _utc(), nullable=False),
        sa.Column("sent_at", _utc(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("notify_digests")
    op.drop_table("notify_digest_entries")
    op.drop_table("notify_inbox")
    with op.batch_alter_table("users") as users:
        users.drop_column("top_leader")
        users.drop_column("email")
    with op.batch_alter_table("units") as units:
        units.drop_column("wecom_webhook")
        units.drop_column("dingtalk_secret")
        units.drop_column("dingtalk_webhook")
