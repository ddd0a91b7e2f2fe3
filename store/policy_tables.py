"""The escalation policies: one row per version of each category and priority's ladder.

Versions are append-only (the database refuses UPDATE and DELETE): an edit is a new version,
and an item keeps the version it was opened under.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Integer, PrimaryKeyConstraint, String, Table, Text

from store.metadata import ID, metadata
from store.utc import UTCDateTime

escalation_policies = Table(
    "escalation_policies",
    metadata,
    Column("category", String(32), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("rungs", JSON, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_by", String(ID), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("category", "priority", "version", name="pk_escalation_policies"),
)
