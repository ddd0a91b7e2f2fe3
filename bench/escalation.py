"""Figure 5 — escalation lateness: how late escalation events are after their recorded due instants.

Items are driven through the service's own path (update-with-start and the `act` update, the
`duban worker` child process, PostgreSQL) to 狠抓落实 with a plan whose one milestone is due
seconds ahead, the items' dues spread evenly over a short window. The milestone ladder's warning
rung sits at the due instant, so each item's `EscalationRaised` (warning) fires in the window; its
lateness is its `occurred_at` after the rung's instant as `LadderArmed` recorded it.

Baseline, on the same dev server right after: one bare workflow per item (bench/timers.py)
sleeping until the same spread of instants and reporting workflow.now() − target, the engine's
own timer lateness.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker import Worker

from bench.env import Deployment
from bench.loop import run_items, service_act, service_open
from bench.runner import Figure, Row, percentile
from bench.story import CO, LEAD, SUPERVISOR, open_body
from bench.timers import TimerWorkflow
from domain import events as ev
from domain.ladder import Level
from store.db import make_engine, make_sessions
from store.event_log import EventLog
from store.schema import audit_events

TARGET_SECONDS = 1.0
DUE_PER_SECOND = 10.0
CONCURRENCY = 24
MILESTONE = "首批开工"
STEP = f"milestone:{MILESTONE}"
# Slack between the end of driving (estimated) and the first due instant.
LEAD_SECONDS = 3.0
# Starting the baseline's workflows before the first instant: about 100 starts a second here.
STARTS_PER_SECOND = 100.0
SETTLE_SECONDS = 120.0


async def _open_and_sign(where: Deployment, item_id: str) -> None:
    deadline = datetime.now(UTC) + timedelta(days=365)
    await service_open(where.client, where.task_queue, item_id, ("open", SUPERVISOR, open_body(deadline)))
    await service_act(where.client, item_id, ("sign_for", LEAD, {}))
    await service_act(where.client, item_id, ("sign_for", CO, {}))


async def _plan(where: Deployment, item_id: str, due: datetime) -> None:
    plan: dict[str, object] = {
        "measures": "分三批推进",
        "milestones": [{"name": MILESTONE, "due": due.isoformat()}],
    }
    await service_act(where.client, item_id, ("submit_plan", LEAD, plan))
    await service_act(where.client, item_id, ("approve_plan", SUPERVISOR, {"comment": "同意"}))


async def _drive(where: Deployment, items: int, window: float) -> dict[str, datetime]:
    """Each item driven to 狠抓落实 with its milestone due in the window; item id → due instant."""
    ids = [str(uuid.uuid4()) for _ in range(items)]
    opening = iter(ids)
    started = time.perf_counter()
    await run_items(lambda: _open_and_sign(where, next(opening)), items, CONCURRENCY)
    signing = time.perf_counter() - started
    # Two more actions per item, the approval arming the ladders: budget 1.5 times the first three's.
    first = datetime.now(UTC) + timedelta(seconds=signing * 1.5 + LEAD_SECONDS)
    dues = {item_id: first + timedelta(seconds=window * i / items) for i, item_id in enumerate(ids)}
    planning = iter(ids)

    async def plan_next() -> None:
        item_id = next(planning)
        await _plan(where, item_id, dues[item_id])

    await run_items(plan_next, items, CONCURRENCY)
    return dues


async def _wait_for_warnings(
    sessions: async_sessionmaker[AsyncSession], ids: list[str], until: float
) -> None:
    """Poll with one count query until every item's escalation is logged or `until` passes."""
    statement = select(func.count()).where(
        audit_events.c.type == "EscalationRaised", audit_events.c.item_id.in_(ids)
    )
    while True:
        async with sessions() as session:
            raised = int((await session.execute(statement)).scalar_one())
        if raised >= len(ids) or time.monotonic() >= until:
            return
        await asyncio.sleep(1.0)


async def _lateness(log: EventLog, item_id: str) -> tuple[float, bool] | None:
    """The warning's lateness in seconds and whether its ladder was armed before the rung's instant."""
    events = await log.read(item_id)
    armed = next(
        (e for e in events if e.type == "LadderArmed" and e.payload["step"] == STEP),
        None,
    )
    raised = next(
        (e for e in events if e.type == "EscalationRaised" and e.payload["step"] == STEP),
        None,
    )
    if armed is None or raised is None:
        return None
    ladder = armed.body()
    assert isinstance(ladder, ev.LadderArmed)
    rung = next(r for r in ladder.rungs if r.level is Level.WARNING)
    reached = raised.body()
    assert isinstance(reached, ev.EscalationRaised)
    if reached.level is not Level.WARNING or reached.at != rung.at:
        raise RuntimeError(f"{item_id}: the escalation fired is not the armed warning rung")
    return (raised.occurred_at - rung.at).total_seconds(), armed.occurred_at < rung.at


async def _service(where: Deployment, items: int, window: float) -> tuple[list[float], int, int]:
    """Lateness of each warning armed in time; how many were armed too late; how many never fired."""
    dues = await _drive(where, items, window)
    engine = make_engine(where.database_url)
    try:
        sessions = make_sessions(engine)
        last = max(dues.values())
        await asyncio.sleep(max(0.0, (last - datetime.now(UTC)).total_seconds()) + 1.0)
        ids = list(dues)
        await _wait_for_warnings(sessions, ids, time.monotonic() + SETTLE_SECONDS)
        log = EventLog(sessions)
        measured = [await _lateness(log, item_id) for item_id in ids]
    finally:
        await engine.dispose()
    fired = [late for late in measured if late is not None]
    in_time = [seconds for seconds, armed_before in fired if armed_before]
    return in_time, len(fired) - len(in_time), len(ids) - len(fired)


async def _baseline(where: Deployment, items: int, window: float) -> list[float]:
    """Lateness of bare workflows' timers over the same spread of instants, in seconds."""
    queue = f"bench-timers-{uuid.uuid4().hex[:8]}"
    async with Worker(where.client, task_queue=queue, workflows=[TimerWorkflow]):
        first = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS + items / STARTS_PER_SECOND)
        handles = [
            await where.client.start_workflow(
                TimerWorkflow.run,
                first + timedelta(seconds=window * i / items),
                id=f"bench-timer-{uuid.uuid4()}",
                task_queue=queue,
            )
            for i in range(items)
        ]
        return list(await asyncio.gather(*(handle.result() for handle in handles)))


async def measure(where: Deployment, items: int) -> Figure:
    """p50/p99 lateness of the service's escalations vs the bare engine's timers, same instants' spread."""
    window = items / DUE_PER_SECOND
    service, late_armed, missing = await _service(where, items, window)
    baseline = await _baseline(where, items, window)
    if missing or not service:
        return Figure(
            name="escalation_lateness",
            value=None,
            unit="s",
            note=f"failed ({missing} of {items} escalations not logged within {SETTLE_SECONDS:.0f} s)",
        )
    p50, p99 = percentile(service, 0.5), percentile(service, 0.99)
    base50, base99 = percentile(baseline, 0.5), percentile(baseline, 0.99)
    spread = f"{items} items, dues over {window:.0f} s"
    excluded = f"; {late_armed} armed after their instant, not counted" if late_armed else ""
    return Figure(
        name="escalation_lateness",
        value=p99,
        unit="s",
        ratio=p99 / base99,
        baseline="raw_temporal_timer",
        target=f"p99 <= {TARGET_SECONDS:.0f} s (absolute)",
        met=p99 <= TARGET_SECONDS,
        rows=(
            Row("service: EscalationRaised after its instant: p50", p50 * 1000, "ms", spread + excluded),
            Row(
                "service: EscalationRaised after its instant: p99",
                p99 * 1000,
                "ms",
                f"max {max(service):.3f} s",
            ),
            Row("baseline: bare workflow timer: p50", base50 * 1000, "ms", f"{items} timers"),
            Row("baseline: bare workflow timer: p99", base99 * 1000, "ms", f"max {max(baseline):.3f} s"),
        ),
    )
