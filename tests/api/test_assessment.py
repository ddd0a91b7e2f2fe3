"""/api/assessment over real HTTP on both back-ends: scores recomputed straight from the log agree
exactly, a published assessment survives policy edits, a unit sees only itself and its rank.

The items are the statistics tests' stories (decide → record → evolve, appended through the real
event log); the recomputation below uses the domain's fold and none of domain.assessment.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import Client

from adapters.workdays import ChinaWorkdays
from domain import assessment as domain_assessment
from domain import events as ev
from domain import fold as domain_fold
from domain.events import RecordedEvent
from domain.fold import evolve
from domain.instants import CHINA
from domain.ladder import Level
from domain.state import ItemState, waiting_for
from office.assessment import AssessmentService, assessment_period, draft_annual_assessment
from store.event_log import EventLog
from tests.api.conftest import ADMIN, AUDITOR, LEADER, SUPERVISOR, Api, append_stories, running_api
from tests.api.test_pages_http import _signed_in
from tests.api.test_stats import closed_late_signer, rectified_then_ineffective, returned_and_overdue
from tests.fixtures.sql import engine_of, log_scans, statements
from tests.unit.test_assessment import ladder_story

PERIOD = {"from": "2026-03-01", "to": "2026-04-15"}
START = date(2026, 3, 1)
END = date(2026, 4, 15)
UNIT_CLOCKS = ("sign_for", "submit_plan", "milestone", "claim_completion")


@pytest.fixture
async def assess_api(database_url: str, temporal_client: Client) -> AsyncIterator[Api]:
    """The app on a fresh database with the three stories in its log (no worker needed)."""
    async with running_api(database_url, temporal_client, worker=False) as served:
        await append_stories(
            served, closed_late_signer(), returned_and_overdue(), rectified_then_ineffective()
        )
        yield served


async def scores(api: Api, user: str = SUPERVISOR, **params: Any) -> dict[str, Any]:
    response = await api.get("/api/assessment", user, params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def score_of(body: dict[str, Any], unit: str) -> Any:
    return next(row for row in body["units"] if row["unit"] == unit)


# --- the recomputation: the default policy's rules applied to the fold, by hand ---


def owner(state: ItemState, step: str) -> str:
    kind, _, unit = step.partition(":")
    return unit if kind == "sign_for" else state.lead_unit


def recompute(histories: Mapping[str, Sequence[RecordedEvent]]) -> dict[str, Decimal]:
    """Each unit's score under the seeded default policy, from the events alone."""
    calendar = ChinaWorkdays()
    late_days: dict[tuple[str, str], set[date]] = {}
    deducted: dict[str, Decimal] = {}
    bonus: dict[str, Decimal] = {}
    for events in histories.values():
        state = ItemState()
        claim: tuple[datetime, datetime | None] | None = None
        for index, event in enumerate(events):
            before, state = state, evolve(state, event)
            body = event.body()
            if isinstance(body, ev.CompletionClaimed):
                claim = (event.occurred_at, before.completion_due)
            if isinstance(body, ev.RectificationOrdered):
                deducted[before.lead_unit] = deducted.get(before.lead_unit, Decimal(0)) + 2
            if isinstance(body, ev.ItemReopened):
                deducted[before.lead_unit] = deducted.get(before.lead_unit, Decimal(0)) + 5
            if isinstance(body, ev.ItemClosed) and claim and claim[1] and claim[0] < claim[1]:
                first, last = claim[0].astimezone(CHINA).date(), claim[1].astimezone(CHINA).date()
                early = sum(
                    calendar.is_workday(first + timedelta(days=n)) for n in range(1, (last - first).days + 1)
                )
                bonus[before.lead_unit] = bonus.get(before.lead_unit, Decimal(0)) + min(early, 10) * Decimal(
                    "0.2"
                )
            # Until the next event (or the period's end) the state's unit steps wait: note each late day
            # (per item and unit: a day costs once however many clocks are late).
            until = events[index + 1].occurred_at.astimezone(CHINA).date() if index + 1 < len(events) else END
            for step in waiting_for(state):
                if step.due is None or step.step.split(":")[0] not in UNIT_CLOCKS:
                    continue
                day = max(step.due.astimezone(CHINA).date(), START - timedelta(days=1))
                key = (state.id, owner(state, step.step))
                while day < min(until, END):
                    day += timedelta(days=1)
                    if calendar.is_workday(day):
                        late_days.setdefault(key, set()).add(day)
    for (_, unit), days in late_days.items():
        deducted[unit] = deducted.get(unit, Decimal(0)) + Decimal("0.5") * len(days)
    units = set(deducted) | set(bonus)
    return {
        u: Decimal(100) - deducted.get(u, Decimal(0)) + min(bonus.get(u, Decimal(0)), Decimal(5))
        for u in units
    }


async def test_scores_recomputed_from_the_log_agree_exactly_with_the_api(assess_api: Api) -> None:
    log = EventLog(assess_api.sessions)
    histories = {i: list(await log.read(i)) for i in ("stats-a", "stats-b", "stats-c")}
    expected = recompute(histories)
    answer = await scores(assess_api)
    assert answer["policy_version"] == 1
    for unit in ("zjj", "czj", "fgw", "jtj"):
        assert Decimal(str(score_of(answer, unit)["score"])) == expected.get(unit, Decimal(100)), unit
    # Not vacuous: the stories cost points (czj: a rectify loop and a reopening, at least).
    assert expected["czj"] < Decimal(93)
    assert expected["jtj"] < Decimal(100)
    # Units with nothing against them score the base and share a rank, after those with a bonus.
    assert score_of(answer, "gzw")["score"] == 100
    ahead = sum(1 for row in answer["units"] if row["score"] > 100)
    assert score_of(answer, "gzw")["rank"] == score_of(answer, "gjj")["rank"] == 1 + ahead
    assert score_of(answer, "gzw")["band_label"].startswith("优秀")

    # The breakdown: each line an item, a rule and the events behind it; the lines add up.
    response = await assess_api.get("/api/assessment/units/czj", SUPERVISOR, params=PERIOD)
    assert response.status_code == 200, response.text
    breakdown = response.json()
    lines = breakdown["lines"]
    total = sum(Decimal(str(line["points"])) for line in lines)
    assert Decimal(100) + total == Decimal(str(breakdown["unit"]["score"]))
    rectify = [line for line in lines if line["rule"] == "rectify_loop"]
    rectified = [e.seq for e in histories["stats-c"] if e.type == "RectificationOrdered"]
    assert [(line["item_id"], line["number"], line["seqs"]) for line in rectify] == [
        ("stats-c", "DB-2026-000103", rectified)
    ]


async def test_a_published_assessment_survives_policy_edits_and_revisions_are_explicit(
    assess_api: Api,
) -> None:
    published = await assess_api.post(
        "/api/assessment/publish", SUPERVISOR, json={**PERIOD, "note": "一季度"}
    )
    assert published.status_code == 201, published.text
    first = published.json()
    assert (first["revision"], first["policy_version"], first["published_by"]) == (1, 1, SUPERVISOR)
    czj_before = next(f for f in first["figures"] if f["unit"] == "czj")
    # The API's publication is the stored row by one mapping: every stored field but the breakdown,
    # the period's ends as `from` and `to` (a field added to the store shows here, none is retyped).
    row = await AssessmentService(assess_api.sessions).publications.get(first["position"])
    assert row is not None
    assert row.breakdown is not None
    stored = row.model_dump(mode="json", exclude={"breakdown"})
    renamed = {"period_from": "from", "period_to": "to"}
    assert first == {renamed.get(name, name): value for name, value in stored.items()}

    rules = {"rectify_loop": 10}
    edited = await assess_api.post(
        "/api/assessment/policies", SUPERVISOR, json={"rules": rules, "note": "整改扣分加重"}
    )
    assert edited.status_code == 201, edited.text
    assert edited.json()["version"] == 2
    now = await scores(assess_api)
    assert now["policy_version"] == 2
    assert score_of(now, "czj")["score"] == czj_before["score"] - 8

    again = await assess_api.get(f"/api/assessment/publications/{first['position']}", AUDITOR)
    assert again.status_code == 200
    assert again.json() == first  # figures, hash, version: exactly as published

    twice = await assess_api.post("/api/assessment/publish", SUPERVISOR, json=PERIOD)
    assert twice.status_code == 409
    assert "已发布" in twice.json()["detail"]
    no_reason = await assess_api.post("/api/assessment/publish", SUPERVISOR, json={**PERIOD, "revise": True})
    assert no_reason.status_code == 422
    revised = await assess_api.post(
        "/api/assessment/publish", SUPERVISOR, json={**PERIOD, "revise": True, "note": "按新办法更正"}
    )
    assert revised.status_code == 201, revised.text
    second = revised.json()
    assert (second["revision"], second["policy_version"], second["prev_hash"]) == (2, 2, first["hash"])
    listed = await assess_api.get("/api/assessment/publications", LEADER)
    body = listed.json()
    assert body["chain_ok"] is True
    assert [p["figures_hash"] for p in body["publications"]] == [
        first["figures_hash"],
        second["figures_hash"],
    ]
    assert body["publications"][0] == first


async def test_a_what_if_scores_the_period_under_a_draft_without_adopting_it(assess_api: Api) -> None:
    draft = await assess_api.post(
        "/api/assessment/policies",
        SUPERVISOR,
        json={"rules": {"rectify_loop": 10}, "draft": True, "note": "试算"},
    )
    assert draft.status_code == 201, draft.text
    assert draft.json()["draft"] is True
    response = await assess_api.get("/api/assessment/what-if", LEADER, params={**PERIOD, "proposed": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["current_version"], body["proposed_version"]) == (1, 2)
    rows = {row["unit"]: row for row in body["units"]}
    assert rows["czj"]["delta"] == -8
    assert rows["czj"]["proposed"] == rows["czj"]["current"] - 8
    assert all(row["delta"] == 0 for unit, row in rows.items() if unit != "czj")
    assert (await scores(assess_api))["policy_version"] == 1  # the draft is not in force
    policies = (await assess_api.get("/api/assessment/policies", "zjj-he")).json()
    assert policies["current"] == 1
    assert [(v["version"], v["draft"], v["created_by"]) for v in policies["versions"]] == [
        (1, False, "system"),
        (2, True, SUPERVISOR),
    ]
    published = await assess_api.post(
        "/api/assessment/publish", SUPERVISOR, json={**PERIOD, "policy_version": 2}
    )
    assert published.status_code == 422
    assert "草案" in published.json()["detail"]


async def test_a_unit_sees_only_its_own_score_and_rank(assess_api: Api) -> None:
    everyone = await scores(assess_api, AUDITOR)
    own = await scores(assess_api, "zjj-he")
    assert [row["unit"] for row in own["units"]] == ["zjj"]
    assert own["ranked"] == everyone["ranked"] == len(everyone["units"])
    assert own["units"][0] == score_of(everyone, "zjj")
    assert (await assess_api.get("/api/assessment/units/zjj", "zjj-he", params=PERIOD)).status_code == 200
    other = await assess_api.get("/api/assessment/units/czj", "zjj-he", params=PERIOD)
    assert other.status_code == 403
    assert "本单位" in other.json()["detail"]
    assert (
        await assess_api.get("/api/assessment/what-if", "zjj-he", params={"proposed": 1})
    ).status_code == 403
    edit = await assess_api.post("/api/assessment/policies", "zjj-he", json={"rules": {}})
    assert edit.status_code == 403
    assert (await assess_api.post("/api/assessment/publish", LEADER, json=PERIOD)).status_code == 403
    assert (await assess_api.post("/api/assessment/publish", SUPERVISOR, json=PERIOD)).status_code == 201
    listed = (await assess_api.get("/api/assessment/publications", "zjj-he")).json()
    assert [f["unit"] for f in listed["publications"][0]["figures"]] == ["zjj"]
    assert (await assess_api.get("/api/assessment", ADMIN)).status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "words"),
    [
        ("get", "/api/assessment", {"from": "2026-13-01"}, 422, "须为日期"),
        ("get", "/api/assessment", {"from": "2026-06-01", "to": "2026-05-01"}, 422, "起始时间晚于截止时间"),
        ("get", "/api/assessment", {"policy_version": 99}, 404, "考核办法版本不存在"),
        ("get", "/api/assessment/units/nowhere", {}, 404, "不是参与考核的单位"),
        ("get", "/api/assessment/what-if", {}, 422, "请求内容有误"),
        ("get", "/api/assessment/publications/7", {}, 404, "没有这次发布"),
        ("post", "/api/assessment/policies", {"rules": {"red_card": -1}}, 422, "请求内容有误"),
        (
            "post",
            "/api/assessment/policies",
            {"rules": {"bands": {"excellent": 70, "good": 80}}},
            422,
            "优秀 > 良好",
        ),
        ("post", "/api/assessment/policies", {"rules": {"happiness": 1}}, 422, "请求内容有误"),
        ("post", "/api/assessment/publish", {"from": "2026-03-01"}, 422, "请求内容有误"),
        ("post", "/api/assessment/publish", {"from": "2026-03-01", "to": ""}, 422, "from 与 to"),
        ("post", "/api/assessment/publish", {**PERIOD, "policy_version": 9}, 404, "考核办法版本不存在"),
    ],
)
async def test_bad_input_is_a_chinese_first_4xx_and_records_nothing(  # noqa: PLR0917 — parametrized
    assess_api: Api, method: str, path: str, payload: dict[str, Any], status: int, words: str
) -> None:
    if method == "get":
        response = await assess_api.get(path, SUPERVISOR, params=payload)
    else:
        response = await assess_api.post(path, SUPERVISOR, json=payload)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    policies = (await assess_api.get("/api/assessment/policies", SUPERVISOR)).json()
    assert [v["version"] for v in policies["versions"]] == [1]
    assert (await assess_api.get("/api/assessment/publications", SUPERVISOR)).json()["publications"] == []


# --- the escalation what-if ---


async def test_an_escalation_version_replayed_over_the_log_shows_item_by_item_what_it_would_raise(
    database_url: str, temporal_client: Client
) -> None:
    story, due, raised = ladder_story()
    window = {"from": "2026-03-01", "to": "2026-03-31"}
    async with running_api(database_url, temporal_client, worker=False) as api:
        await append_stories(api, story)
        path = "/api/policies/major_project/high"
        same = await api.get(f"{path}/versions/1/what-if", SUPERVISOR, params=window)
        assert same.status_code == 200, same.text
        [item] = same.json()["items"]
        assert item["replay_matches_log"] is True
        assert [(r["level"], r["change"], r["recorded_seq"]) for r in item["rows"]] == [
            ("reminder", "same", raised[Level.REMINDER].seq),
            ("warning", "same", raised[Level.WARNING].seq),
        ]
        stricter = {
            "rungs": [
                {"level": "reminder", "offset_days": -3, "audience": ["unit_handlers"]},
                {"level": "warning", "offset_days": -1, "audience": ["unit_handlers"]},
                {"level": "overdue", "offset_days": 0, "audience": ["responsible_leader"]},
            ]
        }
        draft = await api.post(f"{path}/what-if", AUDITOR, params=window, json=stricter)
        assert draft.status_code == 200, draft.text
        rows = {r["level"]: r for r in draft.json()["items"][0]["rows"]}
        assert rows["overdue"]["change"] == "added"
        assert datetime.fromisoformat(rows["overdue"]["proposed_at"]) == due
        totals = {t["level"]: (t["proposed"], t["recorded"]) for t in draft.json()["totals"]}
        assert totals["overdue"] == (1, 0)
        published = await api.http.put(path, headers=api.auth(ADMIN), json={**stricter, "note": "加严"})
        assert published.status_code == 200, published.text
        v2 = await api.get(f"{path}/versions/2/what-if", SUPERVISOR, params=window)
        assert v2.json()["items"][0]["rows"] == draft.json()["items"][0]["rows"]
        assert (await api.get(f"{path}/versions/9/what-if", SUPERVISOR)).status_code == 404
        assert (await api.get(f"{path}/versions/1/what-if", "zjj-he")).status_code == 403
        bad = await api.post(f"{path}/what-if", SUPERVISOR, json={"rungs": []})
        assert bad.status_code == 422
        other = await api.get("/api/policies/other/normal/versions/1/what-if", SUPERVISOR, params=window)
        assert other.json()["items"] == []


async def test_the_annual_draft_is_the_year_scored_under_the_current_policy_and_publishes_nothing(
    assess_api: Api,
) -> None:
    draft = await draft_annual_assessment(2026, assess_api.sessions)
    year = await scores(assess_api, **{"from": "2026-01-01", "to": "2026-12-31"})
    assert draft.scored.policy.version == year["policy_version"] == 1
    assert [(s.unit, float(s.score), s.rank) for s in draft.scored.scores] == [
        (row["unit"], row["score"], row["rank"]) for row in year["units"]
    ]
    assert any(s.score < 100 for s in draft.scored.scores)
    again = await draft_annual_assessment(2026, assess_api.sessions)
    assert again.figures_hash == draft.figures_hash
    assert (await assess_api.get("/api/assessment/publications", SUPERVISOR)).json()["publications"] == []


async def test_each_event_is_folded_once_for_the_findings_and_the_items_they_name(
    assess_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    folded: list[int] = []

    def counted(state: ItemState, event: RecordedEvent) -> ItemState:
        folded.append(event.seq)
        return evolve(state, event)

    # Every fold the service could use goes through one of these two names.
    monkeypatch.setattr(domain_assessment, "evolve", counted)
    monkeypatch.setattr(domain_fold, "evolve", counted)
    period = assessment_period(
        datetime.fromisoformat("2026-03-01T00:00:00+08:00"),
        datetime.fromisoformat("2026-04-15T23:59:59+08:00"),
    )
    found = await AssessmentService(assess_api.sessions).findings(period)
    log = EventLog(assess_api.sessions)
    in_period = [
        e for i in ("stats-a", "stats-b", "stats-c") for e in await log.read(i) if e.occurred_at <= period.end
    ]
    assert len(folded) == len(in_period)
    named = {finding.item_id for finding in found.findings}
    assert named  # not vacuous: the stories have findings, and each item they name is labelled
    numbers = {"stats-a": "DB-2026-000101", "stats-b": "DB-2026-000102", "stats-c": "DB-2026-000103"}
    assert {item: found.items[item].number for item in named} == {item: numbers[item] for item in named}


async def test_the_page_reads_the_log_once_for_scores_breakdown_and_what_if(assess_api: Api) -> None:
    draft = await assess_api.post(
        "/api/assessment/policies", SUPERVISOR, json={"rules": {"rectify_loop": 10}, "draft": True}
    )
    assert draft.status_code == 201, draft.text
    czj = (await assess_api.get("/api/assessment/units/czj", SUPERVISOR, params=PERIOD)).json()
    async with _signed_in(assess_api, SUPERVISOR) as browser:
        with statements(engine_of(assess_api.app_sessions)) as sent:
            page = await browser.get("/assessment", params={**PERIOD, "unit": "czj", "proposed": 2})
        assert page.status_code == 200, page.text
        with statements(engine_of(assess_api.app_sessions)) as api_sent:
            await scores(assess_api)
    # The three answers are the API's own: czj's breakdown, and its what-if under the draft.
    assert f"{czj['unit']['score']:.2f} 分" in page.text
    assert page.text.count('data-testid="breakdown"') == 1
    table = page.text[page.text.index('data-testid="what-if-table"') :]
    delta = re.search(r'<tr data-unit="czj">.*?data-testid="delta">([^<]+)<', table, re.S)
    assert delta is not None
    assert delta[1] == "-8.00"
    assert log_scans(sent) == log_scans(api_sent) == 1
