"""Idempotency keys: one live claim per user and key, kept whatever is asked, taken over once expired."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.idempotency import IdempotencyKeys
from store.schema import idempotency_keys

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
TTL = timedelta(hours=24)


async def test_a_key_claims_one_item_and_remembers_its_first_request(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    keys = IdempotencyKeys(sessions, TTL)
    assert await keys.find("sup-zhang", "k1", T0) is None

    first = await keys.claim("sup-zhang", "k1", "a" * 64, T0)
    again = await keys.claim("sup-zhang", "k1", "b" * 64, T0 + timedelta(hours=1))

    assert again == first
    assert (first.request_hash, first.created_at) == ("a" * 64, T0)
    assert await keys.find("sup-zhang", "k1", T0 + TTL - timedelta(seconds=1)) == first


async def test_keys_belong_to_their_user(sessions: async_sessionmaker[AsyncSession]) -> None:
    keys = IdempotencyKeys(sessions, TTL)
    mine = await keys.claim("sup-zhang", "k1", "a" * 64, T0)
    theirs = await keys.claim("sup-liu", "k1", "a" * 64, T0)
    assert mine.item_id != theirs.item_id


async def test_an_expired_key_claims_a_new_item_for_the_new_request(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    keys = IdempotencyKeys(sessions, TTL)
    first = await keys.claim("sup-zhang", "k1", "a" * 64, T0)
    later = T0 + TTL

    assert await keys.find("sup-zhang", "k1", later) is None
    renewed = await keys.claim("sup-zhang", "k1", "b" * 64, later)

    assert renewed.item_id != first.item_id
    assert (renewed.request_hash, renewed.created_at) == ("b" * 64, later)
    assert await keys.find("sup-zhang", "k1", later) == renewed


async def test_concurrent_claims_of_one_key_get_one_claim(sessions: async_sessionmaker[AsyncSession]) -> None:
    keys = IdempotencyKeys(sessions, TTL)
    claims = await asyncio.gather(*(keys.claim("sup-zhang", "k1", f"{n:064x}", T0) for n in range(8)))
    assert len({claim.item_id for claim in claims}) == 1
    assert len({claim.request_hash for claim in claims}) == 1

    expired = T0 + TTL
    renewed = await asyncio.gather(*(keys.claim("sup-zhang", "k1", f"{n:064x}", expired) for n in range(8)))
    assert len({claim.item_id for claim in renewed}) == 1
    assert renewed[0].item_id != claims[0].item_id


async def test_the_sweep_deletes_expired_keys_only_in_batches(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    keys = IdempotencyKeys(sessions, TTL)
    for n in range(5):
        await keys.claim("sup-zhang", f"old-{n}", "a" * 64, T0)
    live = await keys.claim("sup-zhang", "fresh", "a" * 64, T0 + timedelta(hours=2))
    now = T0 + TTL + timedelta(hours=1)

    assert await keys.sweep(now, batch=2) == 5
    assert await keys.sweep(now, batch=2) == 0
    assert await keys.find("sup-zhang", "fresh", now) == live
    async with sessions() as session:
        remaining = (await session.execute(select(idempotency_keys.c.key))).scalars().all()
    assert remaining == ["fresh"]


async def test_a_swept_key_claims_a_new_item_for_another_request(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    keys = IdempotencyKeys(sessions, TTL)
    first = await keys.claim("sup-zhang", "k1", "a" * 64, T0)
    later = T0 + TTL

    assert await keys.sweep(later) == 1
    assert await keys.find("sup-zhang", "k1", later) is None
    renewed = await keys.claim("sup-zhang", "k1", "b" * 64, later)

    assert renewed.item_id != first.item_id
    assert (renewed.request_hash, renewed.created_at) == ("b" * 64, later)
    assert await keys.sweep(later) == 0
    assert await keys.find("sup-zhang", "k1", later + TTL - timedelta(seconds=1)) == renewed
