"""`python -m bench.chaos --items N --faults K --seed S`: the fault run, its table, bench/CHAOS.md.

Exit code 0 when the run shows zero loss (see `report.DEFINITIONS`), 1 when it does not, 2 when
the run itself could not be carried out (a part never came back, the healed API never answered).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import httpx

from bench.chaos.check import CheckError, check_all, reconcile_sample, verify_trail
from bench.chaos.cluster import ClusterError, cluster
from bench.chaos.drive import REQUEST_SECONDS, USERS, Driver, Phase, Tally, drive_all, plan_for, seeded
from bench.chaos.faults import Faults, schedule
from bench.chaos.report import RunResult, markdown, table
from bench.env import ROOT
from bench.runner import exit_with

_STARTED = time.monotonic()


def log(message: str) -> None:
    """A progress line on stderr, stamped with the seconds since the run began."""
    print(f"[{time.monotonic() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> RunResult:
    """Bring the cluster up, drive the items through the faults, then check every item."""
    rng = seeded(args.seed)
    rectified = set(rng.sample(range(1, args.items + 1), round(args.items / 3)))
    items = [plan_for(ordinal, ordinal in rectified) for ordinal in range(1, args.items + 1)]
    plan = schedule(rng, args.faults, sum(len(item.actions) for item in items))
    started_at = datetime.now(UTC)
    load_start = os.getloadavg()[0]
    with cluster(args.logs) as parts:
        log(f"starting PostgreSQL, Temporal, two workers and the API under {parts.root}")
        await parts.start_all()
        tokens = {user: parts.token(user) for user in USERS}
        tally, phase = Tally(), Phase()
        faults = Faults(parts, tally, phase, log)
        async with httpx.AsyncClient(base_url=parts.base_url, timeout=REQUEST_SECONDS) as http:
            driver = Driver(
                http,
                tokens=tokens,
                tally=tally,
                phase=phase,
                settle=args.settle,
                think=args.think,
                rng=seeded(rng.random()),
            )
            log(f"driving {args.items} items ({len(rectified)} with rectify), {args.faults} faults")
            began = time.monotonic()
            supervisor = asyncio.create_task(faults.supervise())
            work = asyncio.gather(
                drive_all(driver, items, args.concurrency, tally), faults.inject(plan, began)
            )
            try:
                watched: set[asyncio.Future[Any]] = {supervisor, work}
                await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
                if supervisor.done():  # only ever ends by raising: a part that never came back
                    work.cancel()
                    supervisor.result()
                await work
                elapsed = time.monotonic() - began
                log(f"drivers and faults done after {elapsed:.0f} s; checking every item")
                checks = await check_all(http, tokens, items)
            finally:
                supervisor.cancel()
        log("reconciling a sample and verifying the whole trail")
        reconciled = reconcile_sample(parts, checks, seeded(args.seed), args.reconcile)
        trail_ok, trail_line = verify_trail(parts)
    return RunResult(
        items=args.items,
        rectify_items=len(rectified),
        faults_planned=args.faults,
        seed=args.seed,
        concurrency=args.concurrency,
        settle=args.settle,
        elapsed=elapsed,
        answers=tally.answers,
        faults=faults.happened,
        unplanned_exits=faults.unplanned_exits,
        checks=checks,
        reconciled=reconciled,
        trail_ok=trail_ok,
        trail_line=trail_line,
        started_at=started_at,
        load=(load_start, os.getloadavg()[0]),
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--items", type=int, default=150, help="items driven through the loop")
    parser.add_argument("--faults", type=int, default=12, help="parts killed with SIGKILL and restarted")
    parser.add_argument("--seed", type=int, default=1, help="seeds the plans, detours and fault schedule")
    parser.add_argument("--concurrency", type=int, default=8, help="items in flight at once")
    parser.add_argument(
        "--settle", type=float, default=60.0, help="seconds an item may fail after the faults healed"
    )
    parser.add_argument(
        "--think", type=float, default=0.6, help="most seconds a client waits before its next action"
    )
    parser.add_argument("--reconcile", type=int, default=5, help="closed items to reconcile (seeded)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "CHAOS.md", help="the Markdown report")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    parser.add_argument("--logs", type=Path, help="copy the processes' logs here before cleaning up")
    return parser.parse_args(argv)


def _terminate(signum: int, frame: FrameType | None) -> NoReturn:
    # SIGTERM (a CI timeout, say) unwinds like Ctrl-C, so every process is killed and the
    # temporary directory removed on the way out.
    raise KeyboardInterrupt


def main() -> int:
    """Run, print the table, write the report; the exit code is the verdict."""
    args = parse()
    signal.signal(signal.SIGTERM, _terminate)
    command = "python -m bench.chaos " + " ".join(
        f"--{name} {getattr(args, name)}" for name in ("items", "faults", "seed")
    )
    try:
        result = asyncio.run(run(args))
    except (ClusterError, CheckError) as error:
        log(f"the run could not be carried out: {error}")
        return 2
    print(table(result.rows()))
    args.out.write_text(markdown(result, command) + "\n", encoding="utf-8")
    log(f"report written to {args.out}")
    if args.json is not None:
        args.json.write_text(json.dumps(result.numbers(), indent=2) + "\n", encoding="utf-8")
    return 0 if result.passed else 1


if __name__ == "__main__":
    exit_with(main, crashed=2)
