"""Sign-in passwords: Argon2id hashes (pwdlib) stored per user, checked in constant work."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.db import begin_write
from store.password_tables import user_passwords
from store.upsert import upsert

DEMO_PASSWORD = "duban-demo"  # noqa: S105 — the embedded demo's public password, refused in production
MIN_LENGTH = 8

_HASHER = PasswordHash.recommended()
# Verified when the user has no password, so that an unknown user costs as much as a wrong password.
_DUMMY_HASH = _HASHER.hash("duban-no-such-user")


class PasswordStore:
    """Sets and checks the users' sign-in passwords."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def set(self, user_id: str, password: str) -> None:
        """Hash `password` and keep it as `user_id`'s (replacing any earlier one)."""
        # Argon2 is deliberately slow: hash off the event loop so other requests keep moving.
        hashed = await asyncio.to_thread(_HASHER.hash, password)
        row = {"user_id": user_id, "hash": hashed, "updated_at": datetime.now(UTC)}
        async with self._sessions() as session, session.begin():
            await begin_write(session)
            await upsert(session, user_passwords, [row], key=["user_id"])

    async def has_password(self, user_id: str) -> bool:
        """True when `user_id` has a password set."""
        return await self._hash_of(user_id) is not None

    async def check(self, user_id: str, password: str) -> bool:
        """True when `password` is `user_id`'s; False for a wrong one, an unknown user or none set."""
        stored = await self._hash_of(user_id)
        matches = await asyncio.to_thread(_HASHER.verify, password, stored or _DUMMY_HASH)
        return stored is not None and matches

    async def _hash_of(self, user_id: str) -> str | None:
        async with self._sessions() as session:
            found = await session.scalar(
                select(user_passwords.c.hash).where(user_passwords.c.user_id == user_id)
            )
        return None if found is None else str(found)
