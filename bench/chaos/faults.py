"""The seeded fault schedule: which part is killed with SIGKILL, when, and for how long.

A fault fires when the drivers' acknowledged actions cross a threshold drawn from the seed
(between 5 % and 70 % of all planned actions), so faults land while items are in flight
whatever the machine's speed; if progress stalls, a fault fires anyway after `STALL_SECONDS`.
The first faults cover every kind once, in a seeded order, before kinds repeat at random.

A supervisor watches every part like systemd or Kubernetes would: a part that dies on its own
(a worker that loses Temporal, say) is counted as an unplanned exit and started again.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from bench.chaos.cluster import Cluster, ClusterError
from bench.chaos.drive import Phase, Tally

KINDS = ("worker", "api", "temporal", "postgres")
PARTS = {
    "worker": ("worker-1", "worker-2"),
    "api": ("api",),
    "temporal": ("temporal",),
    "postgres": ("postgres",),
}
DOWN_SECONDS = (1.0, 5.0)
FIRST_AT, LAST_AT = 0.05, 0.7
STALL_SECONDS = 60.0
GAP_SECONDS = 2.0  # after a part is back, before the next fault: recoveries do not overlap
SUPERVISE_SECONDS = 1.0
RESTART_TRIES = 10


@dataclass(frozen=True)
class PlannedFault:
    """One fault of the schedule, before it happens."""

    kind: str
    part: str
    threshold: int  # acknowledged actions before it fires
    down: float  # seconds between the kill and the restart


@dataclass(frozen=True)
class Fault:
    """One fault as it happened."""

    kind: str
    part: str
    at: float  # seconds since the drivers started
    acknowledged: int  # actions acknowledged when it fired
    in_flight: int  # items being driven when it fired
    down: float
    back_after: float  # seconds from the restart until the part served again


def schedule(rng: random.Random, faults: int, planned_actions: int) -> list[PlannedFault]:
    """`faults` faults: every kind once in a shuffled order first, then kinds at random."""
    kinds = list(KINDS)
    rng.shuffle(kinds)
    chosen = [kinds[i] if i < len(kinds) else rng.choice(KINDS) for i in range(faults)]
    thresholds = sorted(int(rng.uniform(FIRST_AT, LAST_AT) * planned_actions) for _ in chosen)
    return [
        PlannedFault(kind, rng.choice(PARTS[kind]), threshold, round(rng.uniform(*DOWN_SECONDS), 2))
        for kind, threshold in zip(chosen, thresholds, strict=True)
    ]


class Faults:
    """Runs the schedule against the cluster and restarts parts that die on their own."""

    def __init__(self, cluster: Cluster, tally: Tally, phase: Phase, log: Callable[[str], None]) -> None:
        self._cluster = cluster
        self._tally = tally
        self._phase = phase
        self._log = log
        self._down: set[str] = set()  # parts killed on purpose and not yet restarted
        self.happened: list[Fault] = []
        self.unplanned_exits: dict[str, int] = {}

    async def inject(self, plan: list[PlannedFault], started: float) -> None:
        """Fire each fault in turn, then declare the faults healed."""
        for fault in plan:
            await self._await_threshold(fault.threshold)
            at, acknowledged, in_flight = (
                time.monotonic() - started,
                self._tally.acknowledged,
                self._tally.in_flight,
            )
            self._log(f"fault {len(self.happened) + 1}/{len(plan)}: kill -9 {fault.part} for {fault.down} s")
            self._down.add(fault.part)
            self._cluster.kill(fault.part)
            await asyncio.sleep(fault.down)
            back_after = await self._cluster.restart(fault.part)
            self._down.discard(fault.part)
            await asyncio.sleep(GAP_SECONDS)
            self.happened.append(
                Fault(fault.kind, fault.part, round(at, 1), acknowledged, in_flight, fault.down, back_after)
            )
        self._log("every fault healed")
        self._phase.heal()

    async def _await_threshold(self, threshold: int) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._tally.reached(threshold), STALL_SECONDS)

    async def supervise(self) -> None:
        """Restart, forever (until cancelled), every part that exited without being killed on purpose."""
        while True:
            await asyncio.sleep(SUPERVISE_SECONDS)
            for name in self._cluster.exited():
                if name in self._down:
                    continue
                self.unplanned_exits[name] = self.unplanned_exits.get(name, 0) + 1
                self._log(f"{name} exited on its own; restarting it")
                await self._restart(name)

    async def _restart(self, name: str) -> None:
        # A worker started while Temporal is still coming back exits at once; try again shortly.
        for _ in range(RESTART_TRIES):
            try:
                await self._cluster.restart(name)
            except ClusterError as error:
                self._log(f"{name} did not come back yet: {str(error).splitlines()[0]}")
                await asyncio.sleep(2.0)
            else:
                return
        raise ClusterError(f"{name} did not come back after {RESTART_TRIES} restarts")
