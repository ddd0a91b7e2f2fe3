"""考核 in the store, on both back-ends: policy versions and the chained, append-only publications."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.assessment import DEFAULT_RULES, ScoringRules
from ledger.hashing import GENESIS_HASH
from store.assessment import (
    PeriodPublished,
    PolicyVersionMissing,
    Publication,
    PublicationStore,
    ScoringPolicyStore,
)
from store.assessment_tables import assessment_policies, assessment_publications
from tests.store.tampering import tamper

Q1 = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
Q2 = (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 6, 30, tzinfo=UTC))
FIGURES = [{"unit": "fgw", "score": 97.5, "band": "excellent", "rank": 1}]


async def publish(
    store: PublicationStore,
    period: tuple[datetime, datetime],
    *,
    policy_version: int = 1,
    figures: list[dict[str, Any]] | None = None,
    author: str = "s",
    note: str = "",
    revise: bool = False,
    breakdown: dict[str, Any] | None = None,
) -> Publication:
    """Publish `period`'s figures (FIGURES unless given) with the tests' defaults."""
    return await store.publish(
        period_from=period[0],
        period_to=period[1],
        policy_version=policy_version,
        figures=FIGURES if figures is None else figures,
        author=author,
        note=note,
        revise=revise,
        breakdown=breakdown,
    )


async def test_the_seeded_default_is_current_and_edits_are_new_versions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = ScoringPolicyStore(sessions)
    seeded = await store.current()
    assert (seeded.version, seeded.created_by, seeded.draft) == (1, "system", False)
    assert seeded.rules == DEFAULT_RULES  # the migration's frozen copy is the domain's default

    stricter = ScoringRules(red_card=Decimal("4.5"))
    adopted = await store.append(stricter, "sup-zhang", "红牌加重", draft=False)
    proposed = await store.append(ScoringRules(red_card=Decimal(8)), "sup-liu", "试算", draft=True)
    assert (adopted.version, proposed.version) == (2, 3)
    current = await store.current()
    assert (current.version, current.rules.red_card, current.created_by) == (2, Decimal("4.5"), "sup-zhang")
    versions = await store.versions()
    assert [(v.version, v.draft, v.note) for v in versions] == [
        (1, False, "默认考核办法 / default scoring policy"),
        (2, False, "红牌加重"),
        (3, True, "试算"),
    ]
    assert (await store.get(3)).rules.red_card == Decimal(8)
    with pytest.raises(PolicyVersionMissing):
        await store.get(4)


async def test_concurrent_edits_each_get_their_own_version(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = ScoringPolicyStore(sessions)
    made = await asyncio.gather(
        *(store.append(ScoringRules(top_rung=Decimal(n)), f"sup-{n}", "", draft=False) for n in range(4))
    )
    assert sorted(p.version for p in made) == [2, 3, 4, 5]


@pytest.mark.parametrize("table", [assessment_policies, assessment_publications])
async def test_the_database_refuses_to_rewrite_either_table(
    sessions: async_sessionmaker[AsyncSession], table: object
) -> None:
    await publish(PublicationStore(sessions), Q1)
    for statement in (update(table).values(note="改写"), delete(table)):  # type: ignore[arg-type]
        with pytest.raises(DBAPIError, match="immutable"):
            async with sessions() as session, session.begin():
                await session.execute(statement)


async def test_a_period_is_published_once_unless_revised_and_the_chain_links(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = PublicationStore(sessions)
    first = await publish(store, Q1, author="sup-zhang")
    assert (first.position, first.revision, first.prev_hash) == (1, 1, GENESIS_HASH)
    with pytest.raises(PeriodPublished) as refused:
        await publish(store, Q1, policy_version=2, figures=[], author="sup-zhang")
    assert refused.value.revision == 1
    revised = await publish(
        store, Q1, policy_version=2, figures=[], author="sup-zhang", note="更正", revise=True
    )
    other = await publish(store, Q2, policy_version=2, author="sup-liu")
    assert (revised.position, revised.revision, revised.prev_hash) == (2, 2, first.hash)
    assert (other.position, other.revision, other.prev_hash) == (3, 1, revised.hash)
    stored = await store.all()
    assert stored == [first, revised, other]  # read back exactly, to the microsecond
    assert await store.get(1) == first
    assert await store.verify() is None


async def test_a_publication_changed_behind_the_triggers_fails_verification(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = PublicationStore(sessions)
    for start, end in (Q1, Q2):
        await publish(store, (start, end))
    t = assessment_publications
    changed = [{"unit": "fgw", "score": 100.0, "band": "excellent", "rank": 1}]
    await tamper(sessions, [update(t).where(t.c.position == 1).values(figures=changed)])
    problem = await store.verify()
    assert problem is not None
    assert (problem.position, problem.problem) == (1, "figures do not match their hash")
    await tamper(sessions, [text("DELETE FROM assessment_publications WHERE position = 1")])
    problem = await store.verify()
    assert problem is not None
    assert (problem.position, problem.problem) == (1, "gap in the chain")


async def test_the_kept_breakdown_is_read_back_and_covered_by_the_chain(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = PublicationStore(sessions)
    kept = {
        "calendar": "chinesecalendar 1.10",
        "lines": [{"unit": "fgw", "rule": "red_card", "points": -3.0}],
    }
    without = await publish(store, Q1)
    with_lines = await publish(store, Q2, breakdown=kept)
    assert "breakdown_hash" not in without.content()  # a row without one hashes as rows always did
    assert (await store.get(2)) == with_lines
    assert with_lines.breakdown == kept
    assert await store.verify() is None
    t = assessment_publications
    changed = {**kept, "lines": [{"unit": "fgw", "rule": "red_card", "points": 0.0}]}
    await tamper(sessions, [update(t).where(t.c.position == 2).values(breakdown=changed)])
    problem = await store.verify()
    assert problem is not None
    assert (problem.position, problem.problem) == (2, "hash mismatch")
