"""The authorization matrix: who may do what to an item, and who may read what, as tables.

Each table is the source of truth a reader checks against the product's rules: who each
role is, which stage each action belongs to, and the API contract. Every cell runs against the
real app over HTTP, a real worker on the Temporal dev server and a real database:

- `ACTIONS`: each action of `domain.commands.ACTIONS` × each actor (role and relation to the
  item) → 200 allowed, 403 the role or relation may not, 404 a unit not on the item (it may not
  see it, so it is answered as if the item did not exist), 409 the actor may but not now. An
  action is tried where it is stage-valid, so the cell tests the role and relation alone, and
  again out of stage, so the table also shows that role is checked before stage.
- `OPENING`: `POST /api/items` × each actor.
- `READS`: every read endpoint (and the policy edit, and marking a notice read) × each actor;
  lists show units their own items only, and a unit on no item gets no notice of one.
- A unit reassigned away (a relation only a reassignment makes) loses the item.

A refused cell writes no audit event and leaves the item working: it still accepts a permitted
action afterwards. Refused cells change nothing, so they share one item per scene; an allowed
cell gets an item of its own, driven to its scene.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from domain.commands import ACTIONS as COMMANDS
from domain.events import EscalationRaised, RecordedEvent, ReminderSent
from store.event_log import EventLog
from tests.api import conftest as harness
from tests.api.conftest import AUDITOR, Api, open_body, running_api
from tests.fixtures.databases import migrated_sqlite_url

# The actors, by their relation to every item this module opens (lead fgw, co-unit czj, leader-wang).
OPENER = harness.SUPERVISOR  # the supervisor who opened it
OTHER_SUPERVISOR = harness.SUPERVISOR_2  # another 督办人员 of the same office
LEAD_UNIT = harness.LEAD  # a user of the lead unit (牵头单位)
CO_UNIT = harness.CO  # a user of the co-unit (协办单位)
UNRELATED_UNIT = harness.OTHER_UNIT  # a unit user whose unit is not on the item
ITEM_LEADER = harness.LEADER  # the item's responsible leader
OTHER_LEADER = "leader-chen"  # a leader, not this item's
ADMIN = harness.ADMIN
ACTORS = (
    OPENER,
    OTHER_SUPERVISOR,
    LEAD_UNIT,
    CO_UNIT,
    UNRELATED_UNIT,
    ITEM_LEADER,
    OTHER_LEADER,
    AUDITOR,
    ADMIN,
)
RELATIONS = {
    OPENER: "opener",
    OTHER_SUPERVISOR: "other_supervisor",
    LEAD_UNIT: "lead_unit",
    CO_UNIT: "co_unit",
    UNRELATED_UNIT: "unrelated_unit",
    ITEM_LEADER: "item_leader",
    OTHER_LEADER: "other_leader",
    AUDITOR: "auditor",
    ADMIN: "admin",
}
UNIT_OF = {LEAD_UNIT: "fgw", CO_UNIT: "czj", UNRELATED_UNIT: "jtj"}

OK = 200  # allowed
NEW = 201  # allowed, and created
NO = 403  # the role, or the actor's relation to the item, does not allow it
NOW = 409  # the actor may, but the item is not waiting for it (the stage, or the step)
GONE = 404  # not the caller's to see (another unit's item, another's notice): as if it did not exist


def _later(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


# One valid body per action: the scenes' steps and the cells send the same.
BODIES: dict[str, dict[str, Any]] = {
    "sign_for": {},
    "return": {"reason": "不属于本单位职责"},
    "reassign": {"lead_unit": "fgw", "co_units": ["zjj"], "reason": "协办单位调整为住建局"},
    "submit_plan": {"measures": "成立专班，分三批推进"},
    "approve_plan": {"comment": "同意"},
    "reject_plan": {"reason": "措施不具体"},
    "report_progress": {"summary": "首批开工", "percent": 40},
    "request_extension": {"new_deadline": _later(500), "reason": "资金未到位"},
    "decide_extension": {"approve": True},
    "claim_completion": {"summary": "已全部完成"},
    "inspect": {"result": "pass", "findings": "现场核查属实"},
    "submit_report": {"summary": "办理情况报告"},
    "sign_off": {"approve": True, "instructions": "同意，继续跟踪"},
    "evaluate": {"effective": True, "rating": "good"},
    "urge": {"message": "请加快进度"},
    "comment": {"text": "请注意进度"},
    "cancel": {"reason": "上级决定不再督办"},
}


class Scene(StrEnum):
    """Where an item stands when a cell acts on it; every scene starts from a fresh opening."""

    DEPLOY = "deploy"  # opened, no unit has signed for it yet
    RETURNED = "returned"  # deploy, the co-unit gave its assignment back
    SIGNED = "signed"  # deploy, both units signed for it
    PLAN_SUBMITTED = "plan_submitted"  # deploy, the lead unit's plan awaits approval
    IMPLEMENT = "implement"  # plan approved (it has no milestones, so completion may be claimed)
    EXTENSION_ASKED = "extension_asked"  # implement, the lead unit asked for a later deadline
    INSPECT = "inspect"  # completion claimed
    REPORT = "report"  # inspection passed, no report yet
    REPORT_SUBMITTED = "report_submitted"  # report, awaiting the leader's sign-off
    EVALUATE = "evaluate"  # the leader approved the report
    CLOSED = "closed"  # evaluated effective: no action fits any more


@dataclass(frozen=True)
class Step:
    """One permitted action on the way to a scene."""

    action: str
    user: str


# Each scene: the scene it continues from, and the steps that lead on from there.
SCENES: dict[Scene, tuple[Scene | None, tuple[Step, ...]]] = {
    Scene.DEPLOY: (None, ()),
    Scene.RETURNED: (Scene.DEPLOY, (Step("return", CO_UNIT),)),
    Scene.SIGNED: (Scene.DEPLOY, (Step("sign_for", LEAD_UNIT), Step("sign_for", CO_UNIT))),
    Scene.PLAN_SUBMITTED: (Scene.SIGNED, (Step("submit_plan", LEAD_UNIT),)),
    Scene.IMPLEMENT: (Scene.PLAN_SUBMITTED, (Step("approve_plan", OPENER),)),
    Scene.EXTENSION_ASKED: (Scene.IMPLEMENT, (Step("request_extension", LEAD_UNIT),)),
    Scene.INSPECT: (Scene.IMPLEMENT, (Step("claim_completion", LEAD_UNIT),)),
    Scene.REPORT: (Scene.INSPECT, (Step("inspect", OPENER),)),
    Scene.REPORT_SUBMITTED: (Scene.REPORT, (Step("submit_report", OPENER),)),
    Scene.EVALUATE: (Scene.REPORT_SUBMITTED, (Step("sign_off", ITEM_LEADER),)),
    Scene.CLOSED: (Scene.EVALUATE, (Step("evaluate", OPENER),)),
}


def steps_to(scene: Scene) -> tuple[Step, ...]:
    """The permitted actions that take a freshly opened item to `scene`."""
    previous, steps = SCENES[scene]
    return (*(steps_to(previous) if previous else ()), *steps)


@dataclass(frozen=True)
class ActionRow:
    """One line of the table: an action on an item in a scene, and each actor's outcome."""

    action: str
    scene: Scene
    outcomes: dict[str, int]


def row(action: str, scene: Scene, *outcomes: int) -> ActionRow:
    """A row with one outcome per actor, in the order of `ACTORS`."""
    assert len(outcomes) == len(ACTORS), action
    return ActionRow(action, scene, dict(zip(ACTORS, outcomes, strict=True)))


# fmt: off
ACTIONS: list[ActionRow] = [
    # Any supervisor acts for the office (督查室): the opener holds no right another 督办人员 lacks.
    #                                                 supervisor  units             leaders
    #   action               scene                    open  other lead  co    unrel item  other audit admin
    # 研究部署 deploy
    row("sign_for",          Scene.DEPLOY,            NO,   NO,   OK,   OK,   GONE, NO,   NO,   NO,   NO),
    row("return",            Scene.DEPLOY,            NO,   NO,   OK,   OK,   GONE, NO,   NO,   NO,   NO),
    row("reassign",          Scene.RETURNED,          OK,   OK,   NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("submit_plan",       Scene.SIGNED,            NO,   NO,   OK,   NO,   GONE, NO,   NO,   NO,   NO),
    row("approve_plan",      Scene.PLAN_SUBMITTED,    OK,   OK,   NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("reject_plan",       Scene.PLAN_SUBMITTED,    OK,   OK,   NO,   NO,   GONE, NO,   NO,   NO,   NO),
    # 狠抓落实 implement
    row("report_progress",   Scene.IMPLEMENT,         NO,   NO,   OK,   OK,   GONE, NO,   NO,   NO,   NO),
    row("request_extension", Scene.IMPLEMENT,         NO,   NO,   OK,   NO,   GONE, NO,   NO,   NO,   NO),
    row("decide_extension",  Scene.EXTENSION_ASKED,   OK,   OK,   NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("claim_completion",  Scene.IMPLEMENT,         NO,   NO,   OK,   NO,   GONE, NO,   NO,   NO,   NO),
    # 督促检查 inspect, 及时报告 report, 跟踪问效 evaluate
    row("inspect",           Scene.INSPECT,           OK,   OK,   NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("submit_report",     Scene.REPORT,            OK,   OK,   NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("sign_off",          Scene.REPORT_SUBMITTED,  NO,   NO,   NO,   NO,   GONE, OK,   NO,   NO,   NO),
    row("evaluate",          Scene.EVALUATE,          OK,   OK,   NO,   NO,   GONE, NO,   NO,   NO,   NO),
    # any open stage; a leader's comment is a 批示, and any leader may give one
    row("urge",              Scene.IMPLEMENT,         OK,   OK,   NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("comment",           Scene.IMPLEMENT,         OK,   OK,   OK,   OK,   GONE, OK,   OK,   NO,   NO),
    row("cancel",            Scene.IMPLEMENT,         OK,   OK,   NO,   NO,   GONE, NO,   NO,   NO,   NO),
    # Out of stage: whoever may act answers 409 saying what the item waits for; the rest still 403.
    row("sign_for",          Scene.IMPLEMENT,         NO,   NO,   NOW,  NOW,  GONE, NO,   NO,   NO,   NO),
    row("return",            Scene.IMPLEMENT,         NO,   NO,   NOW,  NOW,  GONE, NO,   NO,   NO,   NO),
    row("reassign",          Scene.IMPLEMENT,         NOW,  NOW,  NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("submit_plan",       Scene.IMPLEMENT,         NO,   NO,   NOW,  NO,   GONE, NO,   NO,   NO,   NO),
    row("approve_plan",      Scene.IMPLEMENT,         NOW,  NOW,  NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("reject_plan",       Scene.IMPLEMENT,         NOW,  NOW,  NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("report_progress",   Scene.DEPLOY,            NO,   NO,   NOW,  NOW,  GONE, NO,   NO,   NO,   NO),
    row("request_extension", Scene.DEPLOY,            NO,   NO,   NOW,  NO,   GONE, NO,   NO,   NO,   NO),
    row("decide_extension",  Scene.IMPLEMENT,         NOW,  NOW,  NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("claim_completion",  Scene.DEPLOY,            NO,   NO,   NOW,  NO,   GONE, NO,   NO,   NO,   NO),
    row("inspect",           Scene.IMPLEMENT,         NOW,  NOW,  NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("submit_report",     Scene.INSPECT,           NOW,  NOW,  NO,   NO,   GONE, NO,   NO,   NO,   NO),
    row("sign_off",          Scene.REPORT,            NO,   NO,   NO,   NO,   GONE, NOW,  NO,   NO,   NO),
    row("evaluate",          Scene.REPORT,            NOW,  NOW,  NO,   NO,   GONE, NO,   NO,   NO,   NO),
    # A closed item takes no action: 409 to everyone who may see it, before any role is asked.
    row("urge",              Scene.CLOSED,            NOW,  NOW,  NOW,  NOW,  GONE, NOW,  NOW,  NOW,  NO),
    row("comment",           Scene.CLOSED,            NOW,  NOW,  NOW,  NOW,  GONE, NOW,  NOW,  NOW,  NO),
    row("cancel",            Scene.CLOSED,            NOW,  NOW,  NOW,  NOW,  GONE, NOW,  NOW,  NOW,  NO),
]

# POST /api/items: any supervisor opens; nobody else does.
OPENING = dict(zip(ACTORS, (NEW, NEW, NO, NO, NO, NO, NO, NO, NO), strict=True))

POLICY = "/api/policies/other/normal"
READS: dict[str, tuple[int, ...]] = {
    #                                            supervisor  units             leaders
    #                                            open  other lead  co    unrel item  other audit admin
    "GET /api/items":                           (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   NO),
    "GET /api/items?unit=fgw":                  (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   NO),
    # an item the unit may not see is answered as if it did not exist (404, never 403)
    "GET /api/items/{item}":                    (OK,   OK,   OK,   OK,   GONE, OK,   OK,   OK,   NO),
    "GET /api/items/{item}/actions":            (OK,   OK,   OK,   OK,   GONE, OK,   OK,   OK,   NO),
    "GET /api/items/{item}/events":             (OK,   OK,   NO,   NO,   NO,   NO,   NO,   OK,   NO),
    "GET /api/items/{item}/state?as_of={now}":  (OK,   OK,   NO,   NO,   NO,   NO,   NO,   OK,   NO),
    "GET /api/items/{item}/verify":             (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   NO),
    "GET /api/audit/verify":                    (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   NO),
    "GET /api/audit/events?actor=sup-zhang":    (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   NO),
    "GET /api/policies":                        (OK,   OK,   NO,   NO,   NO,   NO,   NO,   OK,   OK),
    f"GET {POLICY}/versions":                   (OK,   OK,   NO,   NO,   NO,   NO,   NO,   OK,   OK),
    f"PUT {POLICY}":                            (NO,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK),
    "GET /api/items/export.xlsx":               (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   NO),
    # bulk 立项 is the supervisors' alone, its template too
    "GET /api/items/import/template.xlsx":      (OK,   OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO),
    # a unit sees its own figures and rank only
    "GET /api/stats/units":                     (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   NO),
    "GET /api/stats/units?group_by=category":   (OK,   OK,   NO,   NO,   NO,   OK,   OK,   OK,   NO),
    "GET /api/stats/units/fgw/items?figure=assigned":
                                                (OK,   OK,   OK,   NO,   NO,   OK,   OK,   OK,   NO),
    # the rhythms' documents cover every unit; an item's dossier follows who may see the item
    "GET /api/documents":                       (OK,   OK,   NO,   NO,   NO,   OK,   OK,   OK,   NO),
    "GET /api/items/{item}/dossier.xlsx":       (OK,   OK,   OK,   OK,   GONE, NO,   NO,   OK,   NO),
    "GET /api/me":                              (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK),
    "GET /api/me/notifications":                (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK),
    # a notice in the lead unit user's inbox: nobody else may even learn it exists
    "POST /api/me/notifications/{notice}/read": (GONE, GONE, OK,   GONE, GONE, GONE, GONE, GONE, GONE),
}
# fmt: on

LADDER = [
    {"level": "reminder", "offset_days": -1, "audience": ["unit_handlers"]},
    {"level": "warning", "offset_days": 0, "audience": ["unit_handlers", "unit_leader"]},
    {"level": "overdue", "offset_days": 2, "audience": ["responsible_leader"]},
    {"level": "top", "offset_days": 5, "audience": ["top_leader", "discipline"]},
]


@dataclass
class Matrix:
    """The app shared by every cell of this module, and one item per scene for refused cells."""

    api: Api
    shared: dict[Scene, str] = field(default_factory=dict)

    async def fresh_item_at(self, scene: Scene) -> str:
        """A new item, opened by `OPENER` and driven by permitted actions to `scene`."""
        item_id: str = (await self.api.open())["id"]
        for step in steps_to(scene):
            response = await self.api.act(item_id, step.action, step.user, BODIES[step.action])
            assert response.status_code == OK, f"{scene}: {step}: {response.text}"
        return item_id

    async def shared_item_at(self, scene: Scene) -> str:
        """The item of `scene` that refused cells share (a refusal changes nothing), once it is quiet."""
        if scene not in self.shared:
            item_id = await self.fresh_item_at(scene)
            await self.settled(item_id)
            self.shared[scene] = item_id
        return self.shared[scene]

    async def settled(self, item_id: str) -> None:
        """Wait until the ladder is done writing: rungs already due fire on opening, their notices after.

        A rung whose instant has passed fires just after the action that armed it, and each of
        its recipients' deliveries then records its outcome; only then does the event count
        stand still for the refused cells to compare against.
        """
        log = EventLog(self.api.sessions)
        quiet_since, count = time.monotonic(), -1
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            events = await log.read(item_id)
            if len(events) != count:
                quiet_since, count = time.monotonic(), len(events)
            if not _undelivered(events) and time.monotonic() - quiet_since >= QUIET_SECONDS:
                return
            await asyncio.sleep(0.05)
        pytest.fail(f"item {item_id} kept writing events for {SETTLE_TIMEOUT_SECONDS} s")

    async def oldest_notice(self, user: str) -> int:
        """The id of the oldest notice in `user`'s inbox.

        Earlier cells' ladders usually put some there; run alone, the module urges an item of its
        own first so that the inbox holds a notice whatever ran before.
        """
        notices = (await self.api.get("/api/me/notifications", user)).json()["notifications"]
        if not notices:
            item_id = await self.fresh_item_at(Scene.IMPLEMENT)
            urged = await self.api.act(item_id, "urge", OPENER, BODIES["urge"])
            assert urged.status_code == OK, urged.text
            await self.settled(item_id)
            notices = (await self.api.get("/api/me/notifications", user)).json()["notifications"]
        assert notices, f"{user} has no notice"
        return min(int(n["id"]) for n in notices)

    async def notice(self, user: str, notice_id: int) -> dict[str, Any]:
        """One notice of `user`'s inbox, as they list it."""
        notices = (await self.api.get("/api/me/notifications", user)).json()["notifications"]
        found: dict[str, Any] = next(n for n in notices if n["id"] == notice_id)
        return found

    async def stage(self, item_id: str) -> str:
        """The item's stage, as its supervisor reads it."""
        stage: str = (await self.api.get(f"/api/items/{item_id}", OPENER)).json()["stage"]
        return stage


SETTLE_TIMEOUT_SECONDS = 20.0
QUIET_SECONDS = 0.5
RUNGS = {ReminderSent.type_name(), EscalationRaised.type_name()}
OUTCOMES = {"NotificationDelivered", "NotificationQueued", "NotificationFailed"}


def _undelivered(events: Sequence[RecordedEvent]) -> list[tuple[int, str]]:
    """(rung seq, recipient) pairs whose delivery has not recorded its outcome yet."""
    reached = {e.seq: e.payload["recipients"] for e in events if e.type in RUNGS}
    outcomes = {(e.payload["notice_seq"], e.payload["recipient"]) for e in events if e.type in OUTCOMES}
    return [(seq, who) for seq, people in reached.items() for who in people if (seq, who) not in outcomes]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def matrix(
    tmp_path_factory: pytest.TempPathFactory, dev_server: WorkflowEnvironment
) -> AsyncIterator[Matrix]:
    """One app, worker and SQLite database for the whole table: refused cells leave nothing to reset."""
    directory: Path = tmp_path_factory.mktemp("authorization-matrix")
    async with running_api(await migrated_sqlite_url(directory), dev_server.client) as api:
        yield Matrix(api)


def _cells() -> list[Any]:
    return [
        pytest.param(r.action, r.scene, actor, status, id=f"{r.action}@{r.scene}-{RELATIONS[actor]}-{status}")
        for r in ACTIONS
        for actor, status in r.outcomes.items()
    ]


def test_the_table_has_every_action_in_its_stage_and_out_of_it() -> None:
    in_stage = [r.action for r in ACTIONS if OK in r.outcomes.values()]
    out_of_stage = [r.action for r in ACTIONS if OK not in r.outcomes.values()]
    actions = [name for name in COMMANDS if name != "open"]
    assert sorted(in_stage) == sorted(actions)
    assert sorted(out_of_stage) == sorted(actions)
    assert set(BODIES) == set(actions)


@pytest.mark.parametrize(("action", "scene", "actor", "status"), _cells())
async def test_an_actor_may_act_exactly_where_the_table_allows(
    matrix: Matrix, action: str, scene: Scene, actor: str, status: int
) -> None:
    api = matrix.api
    item_id = await (matrix.fresh_item_at(scene) if status == OK else matrix.shared_item_at(scene))
    log = EventLog(api.sessions)
    before = await log.read(item_id)
    stage = await matrix.stage(item_id)

    response = await api.act(item_id, action, actor, BODIES[action])

    assert response.status_code == status, response.text
    after = await log.read(item_id)
    if status == OK:
        assert any(e.actor.id == actor for e in after[len(before) :]), "the action recorded no event"
        return
    assert after == before, f"a refused {action} wrote {[e.type for e in after[len(before) :]]}"
    assert await matrix.stage(item_id) == stage
    if scene is not Scene.CLOSED:
        # The refusal left the workflow able to take the next permitted action.
        still = await api.act(item_id, "comment", OPENER, {"text": f"{action} 被拒后仍可办理"})
        assert still.status_code == OK, still.text
        assert [e.type for e in (await log.read(item_id))[len(before) :]] == ["CommentAdded"]


async def _visible_total(api: Api) -> int:
    total: int = (await api.get("/api/items", AUDITOR)).json()["total"]
    return total


@pytest.mark.parametrize(
    ("actor", "status"), [pytest.param(a, s, id=f"{RELATIONS[a]}-{s}") for a, s in OPENING.items()]
)
async def test_only_a_supervisor_opens_an_item(matrix: Matrix, actor: str, status: int) -> None:
    before = await _visible_total(matrix.api)

    response = await matrix.api.post("/api/items", actor, json=open_body())

    assert response.status_code == status, response.text
    assert await _visible_total(matrix.api) == before + (status == NEW)


NEW_CO_UNIT = "zjj-he"  # a user of zjj, the co-unit `BODIES["reassign"]` names instead of czj


async def test_a_unit_reassigned_away_loses_the_item_and_the_unit_named_instead_gains_it(
    matrix: Matrix,
) -> None:
    api = matrix.api
    item_id = await matrix.fresh_item_at(Scene.RETURNED)
    reassigned = await api.act(item_id, "reassign", OPENER, BODIES["reassign"])
    assert reassigned.status_code == OK, reassigned.text
    await matrix.settled(item_id)
    log = EventLog(api.sessions)
    before = await log.read(item_id)

    hidden = await api.get(f"/api/items/{item_id}", CO_UNIT)
    unknown = await api.get(f"/api/items/{item_id}0", CO_UNIT)
    # Word for word the answer for an item that does not exist: the unit learns nothing of it.
    no_such = "督办事项不存在 / no such item: "
    assert (hidden.status_code, hidden.json()["detail"]) == (GONE, no_such + item_id)
    assert (unknown.status_code, unknown.json()["detail"]) == (GONE, no_such + item_id + "0")
    listed = (await api.get("/api/items", CO_UNIT, params={"limit": 200})).json()["items"]
    assert item_id not in {item["id"] for item in listed}
    for action in ("comment", "sign_for", "return"):
        assert (await api.act(item_id, action, CO_UNIT, BODIES[action])).status_code == GONE, action
    assert await log.read(item_id) == before

    assert (await api.get(f"/api/items/{item_id}", NEW_CO_UNIT)).status_code == OK
    signed = await api.act(item_id, "sign_for", NEW_CO_UNIT, BODIES["sign_for"])
    assert signed.status_code == OK, signed.text


def _reads() -> list[Any]:
    return [
        pytest.param(endpoint, actor, status, id=f"{endpoint}-{RELATIONS[actor]}-{status}")
        for endpoint, outcomes in READS.items()
        for actor, status in zip(ACTORS, outcomes, strict=True)
    ]


async def _policy_versions(api: Api) -> int:
    return len((await api.get(f"{POLICY}/versions", ADMIN)).json())


@pytest.mark.parametrize(("endpoint", "actor", "status"), _reads())
async def test_each_reader_sees_exactly_what_the_table_allows(
    matrix: Matrix, endpoint: str, actor: str, status: int
) -> None:
    api = matrix.api
    item_id = await matrix.shared_item_at(Scene.IMPLEMENT)
    notice_id = await matrix.oldest_notice(LEAD_UNIT)
    method, path = endpoint.split(" ")
    path = path.format(item=item_id, notice=notice_id, now=_later(0).replace("+00:00", "Z"))
    is_list = path.split("?")[0] == "/api/items"
    versions = await _policy_versions(api)
    notice = await matrix.notice(LEAD_UNIT, notice_id)

    if method == "PUT":
        response = await api.http.put(path, headers=api.auth(actor), json={"rungs": LADDER, "note": "收紧"})
    elif method == "POST":
        response = await api.post(path, actor)
    else:
        # Every item this module opens fits on one page of the lists.
        response = await api.get(path, actor, params={"limit": 200} if is_list else None)

    assert response.status_code == status, response.text
    # Only the admin's edit publishes a version; only the owner's mark changes the notice.
    assert await _policy_versions(api) == versions + (method == "PUT" and status == OK)
    if method == "POST" and status != OK:
        assert await matrix.notice(LEAD_UNIT, notice_id) == notice
    if status == OK and is_list:
        _assert_units_list_only_their_items(response.json()["items"], actor, item_id)
    if status == OK and path == "/api/me/notifications" and actor == UNRELATED_UNIT:
        # Reminders reach the assigned units' people; a unit on no item here hears of none.
        assert response.json()["notifications"] == []
    if status == OK and path == "/api/me":
        assert response.json()["id"] == actor


def _assert_units_list_only_their_items(items: list[dict[str, Any]], actor: str, item_id: str) -> None:
    unit = UNIT_OF.get(actor)
    if unit is not None:
        assert all(unit in item["assignments"] for item in items)
    assert (item_id in {item["id"] for item in items}) is (unit != UNIT_OF[UNRELATED_UNIT])
