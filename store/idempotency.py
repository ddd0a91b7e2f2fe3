"""Idempotency keys of openings: which item a user's key opened, for which request, and since when."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.db import begin_write
from store.schema import idempotency_keys

# Keys swept per statement: a short write transaction each, however many expired at once.
SWEEP_BATCH = 1000
KEY_COLUMNS = (idempotency_keys.c.item_id, idempotency_keys.c.request_hash, idempotency_keys.c.created_at)


class KeyClaim(BaseModel):
    """A live key: the item it opens and the hash of the request it was first used with."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    request_hash: str
    created_at: datetime


class IdempotencyKeys:
    """Keys live for `ttl` from their first use; after that the same key claims a new item."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl: timedelta) -> None:
        self._sessions = sessions
        self._ttl = ttl

    def _live(self, actor_id: str, key: str, now: datetime) -> Any:
        return select(*KEY_COLUMNS).where(
            idempotency_keys.c.actor_id == actor_id,
            idempotency_keys.c.key == key,
            idempotency_keys.c.created_at > now - self._ttl,
        )

    async def find(self, actor_id: str, key: str, now: datetime) -> KeyClaim | None:
        """The key's live claim, or None when the user never used it or it expired."""
        async with self._sessions() as session:
            row = (await session.execute(self._live(actor_id, key, now))).first()
        return None if row is None else KeyClaim.model_validate(row._mapping)

    async def claim(self, actor_id: str, key: str, request_hash: str, now: datetime) -> KeyClaim:
        """The key's live claim: the existing one, whatever request it was for, or a new one for
        `request_hash` with a fresh item id. Concurrent claims of one key all get the same claim."""
        dialect = self._sessions.kw["bind"].dialect.name
        insert = (
            postgresql.insert(idempotency_keys)
            if dialect == "postgresql"
            else sqlite.insert(idempotency_keys)
        )
        fresh = {"request_hash": request_hash, "item_id": str(uuid.uuid4()), "created_at": now}
        # One statement decides: the first use inserts, an expired key is taken over, a live one is kept.
        upsert = insert.values(actor_id=actor_id, key=key, **fresh).on_conflict_do_update(
            index_elements=[idempotency_keys.c.actor_id, idempotency_keys.c.key],
            set_=fresh,
            where=idempotency_keys.c.created_at <= now - self._ttl,
        )
        async with self._sessions() as session, session.begin():
            await begin_write(session)
            await session.execute(upsert)
            row = (await session.execute(self._live(actor_id, key, now))).one()
        return KeyClaim.model_validate(row._mapping)

    async def sweep(self, now: datetime, *, batch: int = SWEEP_BATCH) -> int:
        """Delete the keys expired at `now`; how many were deleted.

        An expired key is never read (`find` and `claim` treat it as unused), so deleting it
        changes no answer: the next use of the key claims a new item, as it would have anyway.
        A claim that takes a key over at the same moment has moved its `created_at` to now,
        which the delete's own condition then excludes. Deletes in batches of `batch` rows.
        """
        expired = idempotency_keys.c.created_at <= now - self._ttl
        pk = tuple_(idempotency_keys.c.actor_id, idempotency_keys.c.key)
        deleted = 0
        while True:
            chosen = select(idempotency_keys.c.actor_id, idempotency_keys.c.key).where(expired).limit(batch)
            async with self._sessions() as session, session.begin():
                await begin_write(session)
                result = await session.execute(delete(idempotency_keys).where(expired, pk.in_(chosen)))
            swept = int(result.rowcount)  # type: ignore[attr-defined]
            deleted += swept
            if swept < batch:
                return deleted
