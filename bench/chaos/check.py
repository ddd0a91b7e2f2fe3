"""After the storm: each item's audit log against what its client was told.

The final reads go through the healed API (as the auditor and the supervisor) and through the
`duban audit` commands; a read that fails is retried, and one that never answers makes the run
fail rather than count as a pass.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import httpx

from bench.chaos.cluster import Cluster
from bench.chaos.drive import AUDITOR, SUPERVISOR, ItemRun, event_matches
from domain.events import SYSTEM_EVENT_TYPES

READ_TRIES = 10


class CheckError(RuntimeError):
    """The healed API did not answer a final read: nothing can be judged."""


@dataclass(frozen=True)
class ItemCheck:
    """One item's verdict."""

    item: ItemRun
    lost: int  # actions the client saw succeed whose event is not in the log
    duplicated: int  # events beyond the first for one action
    unexplained: int  # action events (not system events) that no action of the client asked for
    misordered: bool  # the actions' first events are not in the order the client sent them
    applied_unacknowledged: int  # events of actions whose client never saw them succeed
    chain_ok: bool
    stage: str
    closed: bool  # read model in `closed` and `ItemClosed` in the log


def judge(item: ItemRun, events: list[dict[str, Any]], chain_ok: bool, stage: str) -> ItemCheck:
    """Match the item's events to its actions by type, actor and the action's own token."""
    matched: set[int] = set()
    first_seqs: list[int] = []
    lost = duplicated = applied_unacknowledged = 0
    for action in item.actions:
        mine = [event for event in events if event_matches(action, event)]
        matched.update(event["seq"] for event in mine)
        if mine:
            first_seqs.append(mine[0]["seq"])
            duplicated += len(mine) - 1
            applied_unacknowledged += not action.succeeded
        elif action.succeeded:
            lost += 1
    unexplained = sum(
        1 for event in events if event["type"] not in SYSTEM_EVENT_TYPES and event["seq"] not in matched
    )
    closed = stage == "closed" and any(event["type"] == "ItemClosed" for event in events)
    return ItemCheck(
        item,
        lost,
        duplicated,
        unexplained,
        first_seqs != sorted(first_seqs),
        applied_unacknowledged,
        chain_ok,
        stage,
        closed,
    )


async def _read(http: httpx.AsyncClient, url: str, token: str) -> httpx.Response:
    for _ in range(READ_TRIES):
        try:
            response = await http.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.TransportError:
            await asyncio.sleep(1.0)
            continue
        if response.status_code < 500:
            return response
        await asyncio.sleep(1.0)
    raise CheckError(f"the healed API never answered GET {url}")


async def check_item(http: httpx.AsyncClient, tokens: dict[str, str], item: ItemRun) -> ItemCheck:
    """Read the item's events, chain verification and state, and judge them."""
    events_response = await _read(http, f"/api/items/{item.item_id}/events", tokens[AUDITOR])
    if events_response.status_code == 404:  # never opened: nothing was written
        return judge(item, [], chain_ok=True, stage="(none)")
    events: list[dict[str, Any]] = events_response.json()
    verified = await _read(http, f"/api/items/{item.item_id}/verify", tokens[AUDITOR])
    chain_ok = verified.status_code == 200 and bool(verified.json()["ok"])
    state = await _read(http, f"/api/items/{item.item_id}", tokens[SUPERVISOR])
    stage = str(state.json()["stage"]) if state.status_code == 200 else f"({state.status_code})"
    return judge(item, events, chain_ok, stage)


async def check_all(http: httpx.AsyncClient, tokens: dict[str, str], items: list[ItemRun]) -> list[ItemCheck]:
    """Every item's verdict, a few reads at a time."""
    gate = asyncio.Semaphore(4)

    async def one(item: ItemRun) -> ItemCheck:
        async with gate:
            return await check_item(http, tokens, item)

    return list(await asyncio.gather(*(one(item) for item in items)))


@dataclass(frozen=True)
class Reconciled:
    """`duban audit reconcile` for one item."""

    item_id: str
    closed: bool
    agrees: bool
    output: str


def reconcile_sample(
    cluster: Cluster, checks: list[ItemCheck], rng: random.Random, size: int
) -> list[Reconciled]:
    """Reconcile `size` closed items chosen by the seed, and up to `size` items that did not close."""
    opened = [check for check in checks if check.stage != "(none)"]
    closed = [check for check in opened if check.closed]
    stuck = [check for check in opened if not check.closed]
    sample = rng.sample(closed, min(size, len(closed))) + stuck[:size]
    results = []
    for check in sample:
        done = cluster.duban("audit", "reconcile", check.item.item_id)
        output = (done.stdout + done.stderr).strip()
        results.append(Reconciled(check.item.item_id, check.closed, done.returncode == 0, output))
    return results


def verify_trail(cluster: Cluster) -> tuple[bool, str]:
    """`duban audit verify` over the whole trail: chains, ledger, checkpoints and their signatures."""
    done = cluster.duban("audit", "verify", timeout=600)
    return done.returncode == 0, (done.stdout + done.stderr).strip()
