"""The rhythms' runs, the units' monthly requests and the generated documents (both back-ends).

Every write is INSERT … ON CONFLICT DO NOTHING on the (rhythm or kind, period) key: a period's
run triggered twice, or an activity retried, leaves what the first one wrote.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.rhythm_tables import documents, rhythm_requests, rhythm_runs
from store.upsert import insert_ignoring_duplicates


class DocumentInfo(BaseModel):
    """A stored document without its bytes."""

    model_config = ConfigDict(frozen=True)

    id: int
    kind: str
    period: str
    title: str
    filename: str
    media_type: str
    figures_hash: str
    created_at: datetime


class StoredDocument(DocumentInfo):
    """A stored document and its bytes."""

    content: bytes


class NewDocument(BaseModel):
    """A document to store under (kind, period)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    period: str
    title: str
    filename: str
    media_type: str
    figures_hash: str
    content: bytes


class RunRecord(BaseModel):
    """One rhythm's run for one period: when, the figures' hash, and what it generated for whom."""

    model_config = ConfigDict(frozen=True)

    rhythm: str
    period: str
    ran_at: datetime
    figures_hash: str
    record: dict[str, Any]


class UnitRequest(BaseModel):
    """The one request a unit got for a period, with the items it lists."""

    model_config = ConfigDict(frozen=True)

    rhythm: str
    period: str
    unit_id: str
    items: list[dict[str, Any]]
    message: str
    created_at: datetime


_INFO = [c for c in documents.c if c.name != "content"]


class RhythmStore:
    """Reads and writes the rhythms' tables."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add_request(self, request: UnitRequest) -> bool:
        """Store a unit's request for the period; False if it already had one."""
        async with self._sessions() as session, session.begin():
            statement = insert_ignoring_duplicates(session, rhythm_requests).values(**request.model_dump())
            result = await session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def requests(self, rhythm: str, period: str) -> list[UnitRequest]:
        """The period's requests, by unit."""
        where = (rhythm_requests.c.rhythm == rhythm) & (rhythm_requests.c.period == period)
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(rhythm_requests).where(where).order_by(rhythm_requests.c.unit_id)
                )
            ).all()
        return [UnitRequest.model_validate(dict(row._mapping)) for row in rows]

    async def record_run(self, run: RunRecord) -> bool:
        """Record the period's run; False if it was already recorded (the first record stands)."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                insert_ignoring_duplicates(session, rhythm_runs).values(**run.model_dump())
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def run(self, rhythm: str, period: str) -> RunRecord | None:
        """The period's recorded run, if any."""
        where = (rhythm_runs.c.rhythm == rhythm) & (rhythm_runs.c.period == period)
        async with self._sessions() as session:
            row = (await session.execute(select(rhythm_runs).where(where))).first()
        return None if row is None else RunRecord.model_validate(dict(row._mapping))

    async def runs(self) -> list[RunRecord]:
        """Every recorded run, newest first."""
        async with self._sessions() as session:
            rows = (await session.execute(select(rhythm_runs).order_by(rhythm_runs.c.ran_at.desc()))).all()
        return [RunRecord.model_validate(dict(row._mapping)) for row in rows]

    async def save_document(self, document: NewDocument, now: datetime) -> DocumentInfo:
        """Store the document unless (kind, period) already has one; the stored one either way."""
        async with self._sessions() as session, session.begin():
            values = {**document.model_dump(), "created_at": now}
            await session.execute(insert_ignoring_duplicates(session, documents).values(**values))
            where = (documents.c.kind == document.kind) & (documents.c.period == document.period)
            row = (await session.execute(select(*_INFO).where(where))).one()
        return DocumentInfo.model_validate(dict(row._mapping))

    async def documents(self) -> list[DocumentInfo]:
        """Every stored document without its bytes, newest period first."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(*_INFO).order_by(documents.c.period.desc(), documents.c.kind, documents.c.id)
                )
            ).all()
        return [DocumentInfo.model_validate(dict(row._mapping)) for row in rows]

    async def document(self, document_id: int) -> StoredDocument | None:
        """One document with its bytes."""
        async with self._sessions() as session:
            row = (await session.execute(select(documents).where(documents.c.id == document_id))).first()
        return None if row is None else StoredDocument.model_validate(dict(row._mapping))
