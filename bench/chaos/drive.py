"""Clients that take items through the closed loop over HTTP and remember what they were told.

Each item has one driver, acting as its users would, one action after the other: the plan
(`plan_for`) is the straight path, with a rectify detour for about a third of the items. An
action is retried with the same `Idempotency-Key` on a 5xx, a timeout or a dropped connection;
a 409 after such a failure counts as "already applied" only if the item's audit events show
the action's own event (each action carries a token of its own in a text field, so its event
is recognisable). The driver gives up on an item once every fault has healed and the item has
still answered nothing but failures for `settle` seconds: that item is wedged.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import httpx

from bench.story import open_body

SUPERVISOR, LEAD, CO, LEADER, AUDITOR = "sup-zhang", "fgw-li", "czj-wu", "leader-wang", "audit-zhao"
USERS = (SUPERVISOR, LEAD, CO, LEADER, AUDITOR)
REQUEST_SECONDS = 45.0  # longer than the API's own 30 s wait for the workflow (then 504)
BACKOFF_FIRST, BACKOFF_MAX = 0.25, 4.0
# A 409 on an action that never failed ambiguously: the read model or the workflow may lag a
# restart by a moment, so it is asked again a few times before the action counts as refused.
CONFLICT_RETRIES = 5


def seeded(seed: float) -> random.Random:
    """A generator for the run's plans, detours, fault schedule and jitter, repeatable from its seed."""
    return random.Random(seed)  # noqa: S311 — a repeatable schedule, not a secret


class Outcome(Enum):
    """How a logical action ended for its client."""

    OK = "2xx"  # some attempt answered 2xx
    CONFIRMED = "409, event found"  # a retry answered 409 and the action's event was in the log
    REFUSED = "refused"  # 409 (event not in the log) or another 4xx, after the retries
    ABANDONED = "abandoned"  # no answer but failures for `settle` s after the faults healed
    NOT_SENT = "not sent"  # an earlier action of the item did not succeed


@dataclass
class Action:
    """One logical action of one item: what was asked, and what its client was told."""

    name: str
    actor: str
    body: dict[str, Any]
    event_type: str
    token: str | None  # a string only this action's event contains (None: type and actor suffice)
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    outcome: Outcome = Outcome.NOT_SENT
    attempts: int = 0
    last_answer: str = ""

    @property
    def succeeded(self) -> bool:
        """The client was told, or made sure, that the action took effect."""
        return self.outcome in {Outcome.OK, Outcome.CONFIRMED}


@dataclass
class ItemRun:
    """One item's plan and the answers its driver got."""

    ordinal: int
    rectify: bool
    actions: list[Action]
    item_id: str = ""  # the API's answer to `open` (a retry under the same key answers the same id)

    @property
    def finished(self) -> bool:
        """Every action of the plan succeeded (the last one closes the item)."""
        return all(action.succeeded for action in self.actions)

    @property
    def wedged(self) -> bool:
        """The driver gave up: after every fault had healed, the item answered only failures."""
        return any(action.outcome is Outcome.ABANDONED for action in self.actions)


def _instant(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def plan_for(ordinal: int, rectify: bool) -> ItemRun:
    """The item's actions from 立项 to 办结; with `rectify`, an inspection orders 整改 first."""
    tag = f"chaos-{ordinal:04d}"

    def act(index: int, step: tuple[str, str, str, dict[str, Any], str | None]) -> Action:
        name, actor, event, body, text = step
        token = f"{tag}-a{index:02d}" if text else None
        if text is not None:
            body = {**body, text: f"{body.get(text, '')} [{token}]".strip()}
        return Action(name, actor, body, event, token)

    steps: list[tuple[str, str, str, dict[str, Any], str | None]] = [
        (
            "open",
            SUPERVISOR,
            "ItemOpened",
            {**open_body(datetime.now(UTC) + timedelta(days=365)), "title": f"混沌测试事项 {ordinal}"},
            "title",
        ),
        ("sign_for", LEAD, "AssignmentSigned", {}, None),
        ("sign_for", CO, "AssignmentSigned", {}, None),
        ("submit_plan", LEAD, "PlanSubmitted", {"measures": "分三批推进"}, "measures"),
        ("approve_plan", SUPERVISOR, "PlanApproved", {"comment": "同意"}, "comment"),
        ("report_progress", LEAD, "ProgressReported", {"summary": "首批完成", "percent": 80}, "summary"),
        ("claim_completion", LEAD, "CompletionClaimed", {"summary": "全部完成"}, "summary"),
    ]
    if rectify:
        steps += [
            (
                "inspect",
                SUPERVISOR,
                "RectificationOrdered",
                {
                    "result": "rectify",
                    "findings": "台账不全",
                    "requirements": "补齐台账",
                    "new_deadline": _instant(400),
                },
                "findings",
            ),
            ("report_progress", LEAD, "ProgressReported", {"summary": "已整改", "percent": 100}, "summary"),
            ("claim_completion", LEAD, "CompletionClaimed", {"summary": "整改完成"}, "summary"),
        ]
    steps += [
        ("inspect", SUPERVISOR, "InspectionPassed", {"result": "pass", "findings": "属实"}, "findings"),
        ("submit_report", SUPERVISOR, "ReportSubmitted", {"summary": "已办结"}, "summary"),
        ("sign_off", LEADER, "ReportApproved", {"approve": True, "instructions": "同意"}, "instructions"),
        ("evaluate", SUPERVISOR, "ItemClosed", {"effective": True, "rating": "good"}, "comment"),
    ]
    actions = [act(i, step) for i, step in enumerate(steps, start=1)]
    return ItemRun(ordinal, rectify, actions)


def event_matches(action: Action, event: dict[str, Any]) -> bool:
    """Whether an audit event (as `GET /api/items/{id}/events` returns it) is this action's."""
    if event["type"] != action.event_type or event["actor"]["id"] != action.actor:
        return False
    return action.token is None or action.token in str(event["payload"])


@dataclass
class Tally:
    """Every HTTP answer the drivers got, by class; shared by all drivers."""

    answers: Counter[str] = field(default_factory=Counter)  # by status code, or `transport`
    acknowledged: int = 0  # logical actions that succeeded, for the fault schedule's progress
    in_flight: int = 0  # items being driven right now
    _progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    def count(self, answer: str) -> None:
        """Count one answer: its status code, or `transport` for no answer at all."""
        self.answers[answer] += 1

    async def acknowledge(self) -> None:
        """One more logical action succeeded."""
        async with self._progress:
            self.acknowledged += 1
            self._progress.notify_all()

    async def reached(self, acknowledged: int) -> None:
        """Return once at least `acknowledged` actions have succeeded."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.acknowledged >= acknowledged)


class Phase:
    """Whether all faults have healed yet, and since when (drivers give up only after that)."""

    def __init__(self) -> None:
        self.healed = asyncio.Event()
        self.healed_at = 0.0

    def heal(self) -> None:
        """Every fault is over: from now on, failures count toward giving up."""
        self.healed_at = time.monotonic()
        self.healed.set()


class Driver:
    """Sends one item's actions over HTTP, one after the other, with retries."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        tokens: dict[str, str],
        tally: Tally,
        phase: Phase,
        settle: float,
        think: float,
        rng: random.Random,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._tally = tally
        self._phase = phase
        self._settle = settle
        self._think = think
        self._rng = rng

    def _headers(self, user: str, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._tokens[user]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    async def run(self, item: ItemRun) -> None:
        """Drive the item until its plan is done or an action does not succeed."""
        for action in item.actions:
            # People take a moment between steps; it also keeps items in flight while faults land.
            await asyncio.sleep(self._think * self._rng.random())
            await self._perform(item, action)
            if not action.succeeded:
                return
            await self._tally.acknowledge()

    async def _perform(self, item: ItemRun, action: Action) -> None:
        ambiguous = False  # an earlier attempt may have taken effect unseen
        conflicts = 0
        last_success = time.monotonic()
        backoff = BACKOFF_FIRST
        while True:
            if self._phase.healed.is_set() and (
                time.monotonic() - max(last_success, self._phase.healed_at) > self._settle
            ):
                action.outcome = Outcome.ABANDONED
                return
            action.attempts += 1
            response = await self._send(item, action)
            if response is None:
                ambiguous = True
            elif response.is_success:
                action.outcome = Outcome.OK
                return
            elif response.status_code >= 500:
                ambiguous = True
                action.last_answer = f"{response.status_code} {response.text[:200]}"
            elif response.status_code == 409 and ambiguous and await self._applied(item, action):
                action.outcome = Outcome.CONFIRMED
                return
            elif response.status_code == 409 and conflicts < CONFLICT_RETRIES:
                conflicts += 1
                action.last_answer = f"409 {response.text[:200]}"
            else:
                action.outcome = Outcome.REFUSED
                action.last_answer = f"{response.status_code} {response.text[:200]}"
                return
            await asyncio.sleep(backoff * (0.5 + self._rng.random()))
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _send(self, item: ItemRun, action: Action) -> httpx.Response | None:
        headers = self._headers(action.actor, action.key)
        try:
            if action.name == "open":
                response = await self._http.post("/api/items", json=action.body, headers=headers)
                if response.is_success:
                    item.item_id = response.json()["id"]
            else:
                response = await self._http.post(
                    f"/api/items/{item.item_id}/actions/{action.name}", json=action.body, headers=headers
                )
        except httpx.TransportError as error:
            self._tally.count("transport")
            action.last_answer = f"{type(error).__name__}: {error}"
            return None
        self._tally.count(str(response.status_code))
        return response

    async def _applied(self, item: ItemRun, action: Action) -> bool:
        """Whether the item's audit log holds this action's event (read as the auditor)."""
        events = await self.events(item.item_id)
        return events is not None and any(event_matches(action, event) for event in events)

    async def events(self, item_id: str) -> list[dict[str, Any]] | None:
        """The item's audit events, or None if the API could not answer."""
        try:
            response = await self._http.get(f"/api/items/{item_id}/events", headers=self._headers(AUDITOR))
        except httpx.TransportError:
            self._tally.count("transport")
            return None
        self._tally.count(str(response.status_code))
        if response.status_code == 404:
            return []
        if not response.is_success:
            return None
        result: list[dict[str, Any]] = response.json()
        return result


async def drive_all(driver: Driver, items: list[ItemRun], concurrency: int, tally: Tally) -> None:
    """Drive every item, `concurrency` at a time, starting the next as soon as one ends."""
    gate = asyncio.Semaphore(concurrency)

    async def one(item: ItemRun) -> None:
        async with gate:
            tally.in_flight += 1
            try:
                await driver.run(item)
            finally:
                tally.in_flight -= 1

    await asyncio.gather(*(one(item) for item in items))
