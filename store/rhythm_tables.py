"""The rhythms' tables: each run once per (rhythm, period), each unit's request once, the documents.

Keyed so that a run triggered twice for the same period (a schedule catching up, a retried
activity) writes nothing twice.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Integer, LargeBinary, String, Table, Text, UniqueConstraint

from store.metadata import ID, metadata
from store.utc import UTCDateTime

PERIOD = 16  # "2026-11", "2026-Q3"

rhythm_runs = Table(
    "rhythm_runs",
    metadata,
    Column("rhythm", String(16), primary_key=True),
    Column("period", String(PERIOD), primary_key=True),
    Column("ran_at", UTCDateTime(), nullable=False),
    Column("figures_hash", String(64), nullable=False),
    # What the run generated and for whom: the units asked, the documents, the recipients.
    Column("record", JSON, nullable=False),
)

rhythm_requests = Table(
    "rhythm_requests",
    metadata,
    Column("rhythm", String(16), primary_key=True),
    Column("period", String(PERIOD), primary_key=True),
    Column("unit_id", String(ID), primary_key=True),
    Column("items", JSON, nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("period", String(PERIOD), nullable=False),
    Column("title", String(200), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("figures_hash", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("kind", "period", name="uq_documents_kind_period"),
)
