"""The rhythms' activity: 月督促 requests and 通报, 季调度 summaries, 年评估 drafts — each period once.

月督促 (on and after the N-th working day of a month): every lead unit with open items gets one
request listing them, less those it reported progress on this month; the unit's users find it
in their inbox. The same run issues the 通报 of the month before. 季调度 (on and after the N-th
working day of a quarter's first month): the summary of the quarter before, for the leaders.
年评估 (on and after the N-th working day of January): the 考核 draft of the year before for every
unit, as `.docx` and `.xlsx` for the supervisor to review — it publishes nothing.

Documents are computed as of their period's end, so regenerating one later gives the same
figures and the same hash. Each run is recorded once per (rhythm, period) with what it
generated, for whom, and the figures' hash; a second trigger for the period finds that record
and sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from adapters.workdays import ChinaWorkdays
from domain.instants import CHINA
from domain.people import Role
from domain.rhythms import (
    DOCUMENT_LABELS,
    RHYTHM_LABELS,
    DocumentKind,
    PeriodBounds,
    Rhythm,
    figures_hash,
    month_bounds,
    month_key,
    monthly_requests,
    nth_workday,
    previous_month,
    previous_year,
    quarter_bounds,
    quarter_key,
    quarter_start,
    red_and_overdue,
    request_message,
    stuck_longest,
)
from domain.statistics import GroupBy, Period
from office.assessment import (
    AnnualDraft,
    AssessmentService,
    annual_draft,
    annual_draft_with_hash,
    year_period,
)
from office.figures import compute_figures
from store.inbox import Inbox, InboxNotice
from store.org import OrgDirectory, UserRecord
from store.rhythms import DocumentInfo, NewDocument, RhythmStore, RunRecord, UnitRequest
from workflows.rhythm_messages import RUN_RHYTHM_ACTIVITY, RequestCovered, RhythmReport, RhythmRun

MONTHLY_KIND = "monthly"  # the inbox kind of a 月督促 request


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RhythmSettings:
    """Which working day of the month the rhythms go out on, and the office's document template."""

    workday: int = 5
    template: Path | None = None
    assessment_template: Path | None = None


def inbox_seq(period: str) -> int:
    """The inbox key of a period's request: -YYYYMM, apart from every audit event's seq (from 1)."""
    year, month = period.split("-")
    return -(int(year) * 100 + int(month))


class RhythmActivities:
    """The rhythm activity, bound to the store and the settings (injected by the worker)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: RhythmSettings) -> None:
        self._sessions = sessions
        self._store = RhythmStore(sessions)
        self._inbox = Inbox(sessions)
        self._settings = settings

    @activity.defn(name=RUN_RHYTHM_ACTIVITY)
    async def run_rhythm(self, run: RhythmRun) -> RhythmReport:
        """Run `run.rhythm` for `run.day` if its working day has come and its period has not run."""
        day = date.fromisoformat(run.day)
        if run.rhythm is Rhythm.MONTHLY:
            return await self._monthly(day)
        if run.rhythm is Rhythm.ANNUAL:
            return await self._annual(day)
        return await self._quarterly(day)

    def _due(self, day: date, first_month: int) -> date:
        return nth_workday(day.year, first_month, self._settings.workday, ChinaWorkdays().is_workday)

    def _not_now(self, rhythm: Rhythm, day: date, period: str) -> RhythmReport | None:
        first_month = {
            Rhythm.MONTHLY: day.month,
            Rhythm.QUARTERLY: quarter_start(day).month,
            Rhythm.ANNUAL: 1,
        }
        due = self._due(day, first_month[rhythm])
        if day < due:
            return RhythmReport(
                rhythm=rhythm, day=day.isoformat(), period=period, ran=False, detail=f"未到 {due} / not due"
            )
        return None

    async def _already(self, rhythm: Rhythm, day: date, period: str) -> RhythmReport | None:
        if await self._store.run(rhythm, period) is None:
            return None
        return RhythmReport(
            rhythm=rhythm, day=day.isoformat(), period=period, ran=False, detail="本期已执行 / already ran"
        )

    async def _monthly(self, day: date) -> RhythmReport:
        period = month_key(day)
        skipped = self._not_now(Rhythm.MONTHLY, day, period) or await self._already(
            Rhythm.MONTHLY, day, period
        )
        if skipped is not None:
            return skipped
        now = _now()
        month = month_bounds(period)
        # The items as of the end of the run's day: a run replayed later asks what it asked then.
        as_of = min(now, datetime.combine(day, time.max, tzinfo=CHINA).astimezone(UTC))
        current = await compute_figures(
            self._sessions,
            Period(start=month.start, end=as_of, as_of=as_of),
            GroupBy.UNIT,
            with_views=True,
        )
        names = {unit.id: unit.name for unit in current.units}
        asked = monthly_requests(current.views, month)
        recipients: dict[str, list[str]] = {}
        covered: list[RequestCovered] = []
        for unit_id, items in asked.items():
            request = UnitRequest(
                rhythm=Rhythm.MONTHLY,
                period=period,
                unit_id=unit_id,
                items=[item.model_dump() for item in items],
                message=request_message(names.get(unit_id, unit_id), period, items),
                created_at=now,
            )
            if not await self._store.add_request(request):  # a retry: deliver what was stored first
                stored = await self._store.requests(Rhythm.MONTHLY, period)
                request = next(r for r in stored if r.unit_id == unit_id)
            recipients[unit_id] = await self._deliver(request, current.users, now)
            covered += [
                RequestCovered(item_id=i["item_id"], seq=i["seq"], recipients=recipients[unit_id])
                for i in request.items
            ]
        bulletin = month_key(previous_month(day))
        documents, digest = await self._documents(Rhythm.MONTHLY, month_bounds(bulletin))
        record = {
            "requests": {unit: [item.number for item in items] for unit, items in asked.items()},
            "recipients": recipients,
            "documents": [_listed(d) for d in documents],
        }
        await self._store.record_run(
            RunRecord(rhythm=Rhythm.MONTHLY, period=period, ran_at=now, figures_hash=digest, record=record)
        )
        return RhythmReport(
            rhythm=Rhythm.MONTHLY,
            day=day.isoformat(),
            period=period,
            ran=True,
            detail=f"{len(asked)} 个单位收到月督促 / units asked; 通报 {bulletin}",
            requests=len(asked),
            documents=[d.id for d in documents],
            covered=covered,
        )

    async def _deliver(self, request: UnitRequest, users: list[UserRecord], now: datetime) -> list[str]:
        """The request in the inbox of each of the unit's users (once each); who got it."""
        first = request.items[0]
        notice = InboxNotice(
            item_id=first["item_id"],
            event_seq=inbox_seq(request.period),
            number=f"月督促 {request.period}",
            title=f"{len(request.items)} 项督办事项待报送本月进展",
            kind=MONTHLY_KIND,
            message=request.message,
        )
        staff = [u.id for u in users if u.unit == request.unit_id and u.role is Role.UNIT]
        for user_id in staff:
            await self._inbox.add(user_id, notice, now)
        return staff

    async def _quarterly(self, day: date) -> RhythmReport:
        period = quarter_key(quarter_start(day) - timedelta(days=1))
        skipped = self._not_now(Rhythm.QUARTERLY, day, period) or await self._already(
            Rhythm.QUARTERLY, day, period
        )
        if skipped is not None:
            return skipped
        now = _now()
        documents, digest = await self._documents(Rhythm.QUARTERLY, quarter_bounds(period))
        users = await OrgDirectory(self._sessions).users()
        readers = [u.id for u in users if u.role in (Role.LEADER, Role.SUPERVISOR)]  # for the leaders
        record = {"recipients": readers, "documents": [_listed(d) for d in documents]}
        detail = f"季调度 {period} 汇总已生成 / summary generated"
        return await self._recorded(
            Rhythm.QUARTERLY,
            day,
            RunRecord(rhythm=Rhythm.QUARTERLY, period=period, ran_at=now, figures_hash=digest, record=record),
            documents,
            detail,
        )

    async def _recorded(
        self, rhythm: Rhythm, day: date, run: RunRecord, documents: list[DocumentInfo], detail: str
    ) -> RhythmReport:
        """Record the period's run (last: a retry before this finds no record) and report it."""
        await self._store.record_run(run)
        return RhythmReport(
            rhythm=rhythm,
            day=day.isoformat(),
            period=run.period,
            ran=True,
            detail=detail,
            documents=[d.id for d in documents],
        )

    async def _annual(self, day: date) -> RhythmReport:
        period = previous_year(day)
        skipped = self._not_now(Rhythm.ANNUAL, day, period) or await self._already(Rhythm.ANNUAL, day, period)
        if skipped is not None:
            return skipped
        now = _now()
        documents, draft = await self.annual_documents(int(period))
        users = await OrgDirectory(self._sessions).users()
        readers = [u.id for u in users if u.role is Role.SUPERVISOR]  # who reviews and publishes
        record: dict[str, Any] = {"recipients": readers, "documents": [_listed(d) for d in documents]}
        if draft is not None:  # the scores of the documents stored, whichever attempt stored them
            record["policy_version"] = draft.scored.policy.version
            record["scores"] = {s.unit: [str(s.score), s.band.value, s.rank] for s in draft.scored.scores}
        # The stored documents' hash: a retry after a policy change keeps what was stored first.
        digest = documents[0].figures_hash
        run = RunRecord(rhythm=Rhythm.ANNUAL, period=period, ran_at=now, figures_hash=digest, record=record)
        detail = f"年评估 {period} 考核草案已生成，待审核发布 / draft generated, not published"
        return await self._recorded(Rhythm.ANNUAL, day, run, documents, detail)

    async def annual_documents(self, year: int) -> tuple[list[DocumentInfo], AnnualDraft | None]:
        """The year's 考核 draft (current policy, as of the year's end) stored as `.docx` and `.xlsx`
        under (kind, year) — a second call stores nothing new — and the draft the stored documents
        hold: when an earlier attempt stored them under a policy since replaced, the draft under the
        version that gives their hash (None if no adopted version gives it any more)."""
        # Imported when a document is made (a few times a year): python-docx and openpyxl would
        # otherwise sit in every worker's memory from its start (bench/RESULTS.md, figure 6).
        from activities.assessment_documents import (  # noqa: PLC0415
            draft_document,
            render_assessment_docx,
            render_assessment_xlsx,
        )

        service = AssessmentService(self._sessions)
        found = await service.findings(year_period(year))
        draft = annual_draft(year, found, await service.policy(None))
        rendered = draft_document(draft)
        word = render_assessment_docx(rendered, self._settings.assessment_template)
        sheet = render_assessment_xlsx(rendered)
        kinds = (DocumentKind.ANNUAL_ASSESSMENT, DocumentKind.ANNUAL_ASSESSMENT_FIGURES)
        stored = await self._save_pair(Rhythm.ANNUAL, kinds, str(year), (word, sheet), draft.figures_hash)
        if stored[0].figures_hash == draft.figures_hash:
            return stored, draft
        return stored, await annual_draft_with_hash(year, found, self._sessions, stored[0].figures_hash)

    async def figures(self, rhythm: Rhythm, bounds: PeriodBounds) -> tuple[dict[str, Any], str]:
        """The document figures of a period, as of its end, and their hash (the same whenever asked)."""
        period = Period(start=bounds.start, end=bounds.end, as_of=bounds.end)
        computed = await compute_figures(self._sessions, period, GroupBy.UNIT, with_views=True)
        names = {unit.id: unit.name for unit in computed.units}
        figures = {
            "rhythm": rhythm.value,
            "period": bounds.key,
            "from": bounds.start.isoformat(),
            "to": bounds.end.isoformat(),
            "as_of": bounds.end.isoformat(),
            "calendar": computed.calendar,
            "units": [
                {
                    "key": group.key,
                    "label": group.label,
                    "rank": group.rank,
                    "figures": {name: value.value for name, value in group.figures.items()},
                }
                for group in computed.groups
            ],
            "red_and_overdue": _named(red_and_overdue(computed.views, bounds.end), names),
            "stuck": _named(stuck_longest(computed.views, bounds.end), names),
        }
        return figures, figures_hash(figures)

    async def _documents(self, rhythm: Rhythm, bounds: PeriodBounds) -> tuple[list[DocumentInfo], str]:
        from activities.documents import render_docx, render_xlsx  # noqa: PLC0415 — as in annual_documents

        figures, digest = await self.figures(rhythm, bounds)
        if rhythm is Rhythm.MONTHLY:
            kinds = (DocumentKind.MONTHLY_BULLETIN, DocumentKind.MONTHLY_FIGURES)
        else:
            kinds = (DocumentKind.QUARTERLY_SUMMARY, DocumentKind.QUARTERLY_FIGURES)
        title = f"{DOCUMENT_LABELS[kinds[0]]}（{bounds.key}）"
        word = render_docx(title, figures, digest, self._settings.template)
        sheet = render_xlsx(title, figures, digest)
        return await self._save_pair(rhythm, kinds, bounds.key, (word, sheet), digest), digest

    async def _save_pair(
        self,
        rhythm: Rhythm,
        kinds: tuple[DocumentKind, DocumentKind],
        period: str,
        contents: tuple[bytes, bytes],
        digest: str,
    ) -> list[DocumentInfo]:
        """Store a period's `.docx` and `.xlsx` under (kind, period), unless already stored: the
        stored ones either way."""
        from activities.documents import DOCX, XLSX  # noqa: PLC0415 — as in annual_documents

        now = _now()
        stored = []
        for kind, content, media, suffix in (
            (kinds[0], contents[0], DOCX, "docx"),
            (kinds[1], contents[1], XLSX, "xlsx"),
        ):
            document = NewDocument(
                kind=kind,
                period=period,
                title=f"{DOCUMENT_LABELS[kind]}（{period}）",
                filename=f"{RHYTHM_LABELS[rhythm]}-{DOCUMENT_LABELS[kind]}-{period}.{suffix}",
                media_type=media,
                figures_hash=digest,
                content=content,
            )
            stored.append(await self._store.save_document(document, now))
        return stored


def _named(views: list[Any], names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {**item.model_dump(), "lead_unit_name": names.get(item.lead_unit, item.lead_unit)} for item in views
    ]


def _listed(document: DocumentInfo) -> dict[str, Any]:
    return {
        "id": document.id,
        "kind": document.kind,
        "period": document.period,
        "hash": document.figures_hash,
    }
