"""考核: the scoring policy's versions and the published assessments.

Both are append-only (the database refuses UPDATE and DELETE): a policy edit is a new version,
and a published assessment is never rewritten — a correction is a new revision of its period.
Publications are chained: each row's hash covers the previous row's hash and its own content.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from store.metadata import ID, metadata
from store.utc import UTCDateTime

assessment_policies = Table(
    "assessment_policies",
    metadata,
    Column("version", Integer, nullable=False, autoincrement=False),
    Column("rules", JSON, nullable=False),
    Column("draft", Boolean, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_by", String(ID), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("version", name="pk_assessment_policies"),
)

assessment_publications = Table(
    "assessment_publications",
    metadata,
    Column("position", Integer, nullable=False, autoincrement=False),
    Column("period_from", UTCDateTime(), nullable=False),
    Column("period_to", UTCDateTime(), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("figures", JSON, nullable=False),
    Column("figures_hash", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("published_by", String(ID), nullable=False),
    Column("published_at", UTCDateTime(), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # Each unit's lines per item and rule and the calendar, as published (NULL before 0013).
    Column("breakdown", JSON, nullable=True),
    PrimaryKeyConstraint("position", name="pk_assessment_publications"),
    UniqueConstraint("period_from", "period_to", "revision", name="uq_assessment_publications_period"),
)
