"""考核 in the store: scoring policy versions, and published assessments in a hash-chained table."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.assessment import ScoringRules
from ledger.hashing import GENESIS_HASH, canonical_json
from store.assessment_tables import assessment_policies, assessment_publications
from store.db import begin_exclusive_append
from store.errors import StoreError

_ATTEMPTS = 3


class ScoringPolicy(BaseModel):
    """One version of the scoring policy: its rules, whether it is only a draft, who and when."""

    model_config = ConfigDict(frozen=True)

    version: int
    rules: ScoringRules
    draft: bool
    note: str
    created_by: str
    created_at: datetime


class PolicyVersionMissing(StoreError):
    """No scoring policy version with that number (or none adopted at all)."""


class PeriodPublished(StoreError):
    """The period already has a published assessment and no revision was asked for."""

    def __init__(self, revision: int) -> None:
        super().__init__(f"period already published (revision {revision})")
        self.revision = revision


def _policy(row: Any) -> ScoringPolicy:
    return ScoringPolicy(
        version=row.version,
        rules=ScoringRules.model_validate(row.rules),
        draft=bool(row.draft),
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
    )


class ScoringPolicyStore:
    """Reads and appends scoring policy versions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def versions(self) -> list[ScoringPolicy]:
        """Every version, oldest first (drafts included)."""
        t = assessment_policies
        async with self._sessions() as session:
            rows = (await session.execute(select(t).order_by(t.c.version))).all()
        return [_policy(row) for row in rows]

    async def get(self, version: int) -> ScoringPolicy:
        """One version, or PolicyVersionMissing."""
        t = assessment_policies
        async with self._sessions() as session:
            row = (await session.execute(select(t).where(t.c.version == version))).one_or_none()
        if row is None:
            raise PolicyVersionMissing(f"no scoring policy version {version}")
        return _policy(row)

    async def current(self) -> ScoringPolicy:
        """The newest adopted (non-draft) version: the one assessments use unless told otherwise."""
        t = assessment_policies
        query = select(t).where(t.c.draft.is_(False)).order_by(t.c.version.desc()).limit(1)
        async with self._sessions() as session:
            row = (await session.execute(query)).one_or_none()
        if row is None:
            raise PolicyVersionMissing("no adopted scoring policy")
        return _policy(row)

    async def append(self, rules: ScoringRules, author: str, note: str, *, draft: bool) -> ScoringPolicy:
        """Store `rules` as the next version (a draft is proposed, not adopted); older versions stay."""
        t = assessment_policies
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                async with self._sessions() as session, session.begin():
                    await begin_exclusive_append(session, t)
                    newest = await session.scalar(select(func.max(t.c.version)))
                    version = int(newest or 0) + 1
                    row = {
                        "version": version,
                        "rules": rules.model_dump(mode="json"),
                        "draft": draft,
                        "note": note,
                        "created_by": author,
                        "created_at": datetime.now(UTC),
                    }
                    await session.execute(insert(t), [row])
            except IntegrityError:
                if attempt == _ATTEMPTS:
                    raise
                continue
            return await self.get(version)
        raise AssertionError("unreachable")  # pragma: no cover


class PublishedFigures(BaseModel):
    """What a published assessment states: the period, the policy version, the figures and their
    hash, the note, who and when, and its chain link (the API's schema derives from this)."""

    model_config = ConfigDict(frozen=True)

    position: int
    period_from: datetime
    period_to: datetime
    revision: int
    policy_version: int
    figures: list[dict[str, Any]]
    figures_hash: str
    note: str
    published_by: str
    published_at: datetime
    prev_hash: str
    hash: str


class Publication(PublishedFigures):
    """A published assessment as stored: what it states, and the breakdown behind its figures (each
    unit's lines and the calendar; None for rows published before it was kept)."""

    breakdown: dict[str, Any] | None = None

    def content(self) -> dict[str, Any]:
        """What the row's hash covers (everything but the two hashes of the chain); the breakdown by
        its hash, when the row has one (older rows' hashes stay what they were)."""
        kept = {} if self.breakdown is None else {"breakdown_hash": figures_hash(self.breakdown)}
        return kept | {
            "position": self.position,
            "period_from": _iso(self.period_from),
            "period_to": _iso(self.period_to),
            "revision": self.revision,
            "policy_version": self.policy_version,
            "figures_hash": self.figures_hash,
            "note": self.note,
            "published_by": self.published_by,
            "published_at": _iso(self.published_at),
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def figures_hash(figures: list[dict[str, Any]] | dict[str, Any]) -> str:
    """sha256 of the figures' canonical JSON (RFC 8785)."""
    return hashlib.sha256(canonical_json(figures)).hexdigest()


def link_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """A publication's hash: sha256 over the previous hash and its content's canonical JSON."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(content)).hexdigest()


def _publication(row: Any) -> Publication:
    return Publication.model_validate(dict(row._mapping))


class ChainProblem(BaseModel):
    """The first publication whose link or figures do not check, and why."""

    position: int
    problem: str


class PublicationStore:
    """Appends and reads published assessments; verifies their chain."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def all(self) -> list[Publication]:
        """Every publication, in chain order."""
        t = assessment_publications
        async with self._sessions() as session:
            rows = (await session.execute(select(t).order_by(t.c.position))).all()
        return [_publication(row) for row in rows]

    async def get(self, position: int) -> Publication | None:
        """One publication by its position in the chain."""
        t = assessment_publications
        async with self._sessions() as session:
            row = (await session.execute(select(t).where(t.c.position == position))).one_or_none()
        return _publication(row) if row is not None else None

    async def publish(
        self,
        *,
        period_from: datetime,
        period_to: datetime,
        policy_version: int,
        figures: list[dict[str, Any]],
        author: str,
        note: str,
        revise: bool,
        breakdown: dict[str, Any] | None = None,
    ) -> Publication:
        """Append a publication; PeriodPublished if the period has one and `revise` is False."""
        t = assessment_publications
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                async with self._sessions() as session, session.begin():
                    await begin_exclusive_append(session, t)
                    latest = await session.scalar(
                        select(func.max(t.c.revision)).where(
                            t.c.period_from == period_from, t.c.period_to == period_to
                        )
                    )
                    if latest is not None and not revise:
                        raise PeriodPublished(int(latest))
                    tail = (
                        await session.execute(
                            select(t.c.position, t.c.hash).order_by(t.c.position.desc()).limit(1)
                        )
                    ).one_or_none()
                    draft = Publication(
                        position=(tail.position + 1) if tail else 1,
                        period_from=period_from,
                        period_to=period_to,
                        revision=int(latest or 0) + 1,
                        policy_version=policy_version,
                        figures=figures,
                        figures_hash=figures_hash(figures),
                        note=note,
                        published_by=author,
                        published_at=datetime.now(UTC),
                        prev_hash=tail.hash if tail else GENESIS_HASH,
                        hash="",
                        breakdown=breakdown,
                    )
                    row = draft.model_copy(update={"hash": link_hash(draft.prev_hash, draft.content())})
                    await session.execute(insert(t), [row.model_dump()])
            except IntegrityError:
                if attempt == _ATTEMPTS:
                    raise
                continue
            return row
        raise AssertionError("unreachable")  # pragma: no cover

    async def verify(self) -> ChainProblem | None:
        """Walk the chain: each row links to the previous hash, its hash and figures' hash check."""
        previous = GENESIS_HASH
        for expected, publication in enumerate(await self.all(), start=1):
            if publication.position != expected:
                return ChainProblem(position=expected, problem="gap in the chain")
            if publication.prev_hash != previous:
                return ChainProblem(position=publication.position, problem="broken link")
            if figures_hash(publication.figures) != publication.figures_hash:
                return ChainProblem(position=publication.position, problem="figures do not match their hash")
            if link_hash(publication.prev_hash, publication.content()) != publication.hash:
                return ChainProblem(position=publication.position, problem="hash mismatch")
            previous = publication.hash
        return None
