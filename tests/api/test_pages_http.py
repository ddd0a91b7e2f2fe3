"""The pages over real HTTP (the ASGI app, a real worker, SQLite and PostgreSQL): the 台账's sort and
counts, names instead of codes, the timeline's labels, a refused plan keeping its rows, evidence
links, and htmx's partial answer beside the plain form's redirect."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx

from domain.events import SYSTEM_EVENT_TYPES
from store.event_log import EventLog
from store.passwords import DEMO_PASSWORD, PasswordStore
from tests.api.conftest import SUPERVISOR, Api

LEAD = "fgw-li"


@asynccontextmanager
async def _signed_in(api: Api, user: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same app with its own cookie jar, signed in through the login form."""
    await PasswordStore(api.sessions).set(user, DEMO_PASSWORD)
    async with httpx.AsyncClient(transport=api.http._transport, base_url=str(api.http.base_url)) as http:
        form = (await http.get("/login")).text
        answer = await http.post(
            "/login", data={"user_id": user, "password": DEMO_PASSWORD, "csrf": _csrf(form)}
        )
        assert answer.status_code == 303, answer.text
        yield http


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found[1]


def _numbers(html: str) -> list[str]:
    return re.findall(r'<td class="number" data-label="编号">([^<]+)</td>', html)


async def test_the_ledger_sorts_by_its_headers_like_the_json_list(api: Api) -> None:
    opened = [await api.open(title=f"排序事项 {i}") for i in range(3)]
    await api.act(opened[0]["id"], "sign_for", LEAD)  # the first becomes the most recently changed
    async with _signed_in(api, SUPERVISOR) as page:
        for sort in ("number", "-number", "-updated", "stage", "deadline"):
            html = (await page.get("/items", params={"sort": sort})).text
            listed = (await api.get("/api/items", SUPERVISOR, params={"sort": sort, "limit": 20})).json()
            assert _numbers(html) == [item["number"] for item in listed["items"]], sort
        numbers = sorted(item["number"] for item in opened)
        assert _numbers((await page.get("/items", params={"sort": "number"})).text) == numbers
        assert _numbers((await page.get("/items", params={"sort": "-number"})).text) == numbers[::-1]
        # The header of the current order links to the reverse one, keeping the filters.
        html = (await page.get("/items", params={"sort": "number", "stage": "deploy"})).text
        assert 'aria-sort="ascending"' in html
        headers = re.findall(r"<th.*?</th>", html)
        assert 'href="/items?stage=deploy&sort=-number"' in html, headers
        # A sort that is not a column is a 422 with a message, not a 500.
        assert (await page.get("/items", params={"sort": "title"})).status_code == 422
    assert (await api.get("/api/items", SUPERVISOR, params={"sort": "-deadline"})).status_code == 200


async def test_the_ledger_counts_each_light_and_the_overdue_of_its_filter(api: Api) -> None:
    for i in range(2):
        await api.open(title=f"计数事项 {i}")
    async with _signed_in(api, SUPERVISOR) as page:
        html = (await page.get("/items", params={"stage": "deploy"})).text
        assert 'hx-get="/items/counts?stage=deploy"' in html
        counts = (await page.get("/items/counts", params={"stage": "deploy"})).text
    found = dict(re.findall(r'data-count="(\w+)"[^>]*>.*?<b>(\d+\+?)</b>', counts))
    assert found == {"green": "2", "yellow": "0", "red": "0", "overdue": "0"}
    assert re.search(r'href="/items\?stage=deploy&(amp;)?light=green"', counts)
    assert re.search(r'href="/items\?stage=deploy&(amp;)?overdue=true"', counts)


async def test_pages_name_units_and_leaders_and_label_the_timeline(api: Api) -> None:
    item = await api.open(title="命名事项", lead_unit="fgw", co_units=["czj"], leader="leader-wang")
    await api.act(item["id"], "sign_for", LEAD)
    async with _signed_in(api, SUPERVISOR) as supervisor:
        html = (await supervisor.get(f"/items/{item['id']}")).text
        ledger = (await supervisor.get("/items", params={"q": "命名事项"})).text
    assert '<dd data-testid="lead-unit">市发展和改革委员会</dd>' in html
    assert '<dd data-testid="leader">王建国</dd>' in html
    assert "市财政局" in html
    for code in (">fgw<", ">leader-wang<", "牵头单位 fgw", "协办单位 czj"):
        assert code not in html, code
    # The timeline: Chinese event names, the actor's name, no raw type or dict.
    assert '<strong class="what">立项</strong>' in html
    assert '<strong class="what">签收</strong>' in html
    assert ">ItemOpened<" not in html
    assert ">AssignmentSigned<" not in html
    assert "{'" not in html
    assert "&#39;name&#39;" not in html
    assert '<td data-label="牵头单位">fgw</td>' not in ledger
    assert re.search(r'<td data-label="牵头单位">[^<a-z]+</td>', ledger)


async def test_the_item_timeline_accounts_for_every_seq_of_the_log(api: Api) -> None:
    item = await api.open(title="编号连续", lead_unit="fgw", co_units=["czj"], leader="leader-wang")
    await api.act(item["id"], "sign_for", LEAD)
    log = EventLog(api.sessions)
    async with _signed_in(api, SUPERVISOR) as supervisor:
        before = len(await log.read(item["id"]))
        html = (await supervisor.get(f"/items/{item['id']}")).text
        logged = await log.read(item["id"])
    shown = sorted(
        int(seq) for seq in re.findall(r'<li class="event" id="seq-\d+" [^>]*data-seq="(\d+)"', html)
    )
    # Each seq once, none missing, the log's own numbers (a delivery may land while the page renders).
    assert shown == list(range(1, len(shown) + 1))
    assert before <= len(shown) <= len(logged)
    system = [e for e in logged[: len(shown)] if e.type in SYSTEM_EVENT_TYPES]
    assert system, "opening an item records its ladder's entries"
    # The system entries sit folded under rows that say how many they are, with a way to the audit view.
    folded = re.findall(r'<li class="folded" data-seqs="([\d ]+)">', html)
    assert sorted(int(seq) for run in folded for seq in run.split()) == [e.seq for e in system]
    assert f"{len(folded[0].split())} 条系统记录 / system entries" in html
    assert f'href="/audit/items/{item["id"]}#seq-{folded[0].split()[0]}"' in html
    # The person's actions stay in full view: 立项 is #1 and 签收 is numbered as logged.
    signed = next(e.seq for e in logged if e.type == "AssignmentSigned")
    assert re.search(rf'<li class="event" id="seq-{signed}" data-type="AssignmentSigned"', html)


async def test_a_refused_plan_keeps_its_milestone_rows(api: Api) -> None:
    item = await api.open(title="方案事项")
    await api.act(item["id"], "sign_for", LEAD)
    await api.act(item["id"], "sign_for", "czj-wu")
    before = await api.action_types(item["id"])
    late = (datetime.now(UTC) + timedelta(days=900)).strftime("%Y-%m-%d")
    async with _signed_in(api, LEAD) as page:
        csrf = _csrf((await page.get(f"/items/{item['id']}")).text)
        answer = await page.post(
            f"/items/{item['id']}/act/submit_plan",
            data={
                "csrf": csrf,
                "measures": "分三步推进",
                "milestone_name": ["摸底调查", "整改完成", ""],
                "milestone_due": ["2026-12-20", late, ""],
            },
        )
    assert answer.status_code in (409, 422), answer.text
    assert 'data-testid="refusal"' in answer.text
    assert 'value="摸底调查"' in answer.text
    assert 'value="2026-12-20"' in answer.text
    assert 'value="整改完成"' in answer.text
    assert f'value="{late}"' in answer.text
    assert await api.action_types(item["id"]) == before  # the people's events: nothing recorded


async def test_an_htmx_action_answers_with_the_panel_and_a_plain_post_redirects(api: Api) -> None:
    item = await api.open(title="局部刷新事项")
    async with _signed_in(api, LEAD) as page:
        csrf = _csrf((await page.get(f"/items/{item['id']}")).text)
        answer = await page.post(
            f"/items/{item['id']}/act/sign_for",
            data={"csrf": csrf},
            headers={"HX-Request": "true", "HX-Target": "item"},
        )
        assert answer.status_code == 200
        assert answer.text.lstrip().startswith('<div id="item">') or '<div id="item">' in answer.text[:2000]
        assert "<html" not in answer.text
        # Re-rendered after the action: 签收 is done, so no longer offered.
        assert 'data-action="sign_for"' not in answer.text
        assert 'data-action="report_progress"' in answer.text or 'data-action="submit_plan"' in answer.text
        plain = await page.post(f"/items/{item['id']}/act/urge", data={"csrf": csrf, "message": "x"})
    # The unit may not urge: a refused plain POST answers with the whole page and its reason.
    assert "<html" in plain.text
    async with _signed_in(api, "czj-wu") as czj:
        csrf = _csrf((await czj.get(f"/items/{item['id']}")).text)
        redirected = await czj.post(f"/items/{item['id']}/act/sign_for", data={"csrf": csrf})
    assert redirected.status_code == 303
    assert redirected.headers["location"] == f"/items/{item['id']}"


async def test_claim_completion_carries_evidence_links_in_its_text(api: Api) -> None:
    item = await api.open(title="办结佐证事项")
    for user in (LEAD, "czj-wu"):
        await api.act(item["id"], "sign_for", user)
    due = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d")
    plan = {"measures": "推进", "milestones": [{"name": "完成", "due": f"{due}T00:00:00+08:00"}]}
    assert (await api.act(item["id"], "submit_plan", LEAD, plan)).status_code == 200
    assert (await api.act(item["id"], "approve_plan", SUPERVISOR, {})).status_code == 200
    done = {"summary": "节点完成", "percent": 100, "milestones_done": ["完成"]}
    assert (await api.act(item["id"], "report_progress", LEAD, done)).status_code == 200
    async with _signed_in(api, LEAD) as page:
        html = (await page.get(f"/items/{item['id']}")).text
        assert 'name="evidence_links"' in html
        answer = await page.post(
            f"/items/{item['id']}/act/claim_completion",
            data={
                "csrf": _csrf(html),
                "summary": "已全部完成",
                "evidence_links": "https://example.gov.cn/a.pdf\n\nhttps://example.gov.cn/b.pdf",
            },
        )
    assert answer.status_code == 303, answer.text
    events = (await api.get(f"/api/items/{item['id']}/events", SUPERVISOR)).json()
    claim = next(e for e in events if e["type"] == "CompletionClaimed")
    assert claim["payload"]["summary"] == (
        "已全部完成\n佐证材料 / evidence:\nhttps://example.gov.cn/a.pdf\nhttps://example.gov.cn/b.pdf"
    )


async def test_the_units_workbench_lists_milestones_due_soon_in_their_own_queue(api: Api) -> None:
    item = await api.open(title="临期节点事项")
    for user in (LEAD, "czj-wu"):
        await api.act(item["id"], "sign_for", user)
    soon = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
    later = (datetime.now(UTC) + timedelta(days=60)).strftime("%Y-%m-%d")
    plan = {
        "measures": "推进",
        "milestones": [
            {"name": "三日内摸底", "due": f"{soon}T18:00:00+08:00"},
            {"name": "两月后验收", "due": f"{later}T18:00:00+08:00"},
        ],
    }
    assert (await api.act(item["id"], "submit_plan", LEAD, plan)).status_code == 200
    async with _signed_in(api, SUPERVISOR) as page:
        html = (await page.get("/workbench")).text
    queue = re.search(r'data-queue="approve_plan".*?</section>', html, re.DOTALL)
    assert queue is not None
    assert "临期节点事项" in queue[0]
    assert (await api.act(item["id"], "approve_plan", SUPERVISOR, {})).status_code == 200
    async with _signed_in(api, LEAD) as page:
        html = (await page.get("/workbench")).text
    order = re.findall(r'data-queue="(\w+)"', html)
    assert order[:4] == ["sign_for", "submit_plan", "milestones", "rectify"]
    milestones = re.search(r'data-queue="milestones".*?</section>', html, re.DOTALL)
    assert milestones is not None
    assert "时间节点：三日内摸底" in milestones[0]
    assert f"期限 {soon} 18:00" in milestones[0]
    assert "两月后验收" not in milestones[0]
