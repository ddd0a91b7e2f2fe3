"""`python -m bench [--quick]`: every figure, a table, then one closing line per figure.

The closing lines read `NAME value unit (ratio R vs BASELINE)`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import platform
import sys
import time
from dataclasses import dataclass

from bench import api_latency, append, escalation, import_rate, loop, memory, pages_latency, replay
from bench.env import deployment, dev_server
from bench.runner import Figure, exit_with, table

FIGURES = ("loop", "append", "replay", "api", "escalation", "memory", "import")


@dataclass(frozen=True)
class Sizes:
    """How much work each figure does; `--quick` keeps the whole run under a minute."""

    loop_items: int
    loop_concurrency: int
    loop_rounds: int
    append_items: int
    replay_events: int
    action_items: int
    actions: int
    action_rate: float
    list_rows: int
    list_requests: int
    memory_items: int
    escalation_items: int
    import_rows: int


QUICK = Sizes(
    loop_items=4,
    loop_concurrency=4,
    loop_rounds=1,
    append_items=4,
    replay_events=5_500,
    action_items=2,
    actions=20,
    action_rate=10.0,
    list_rows=3_000,
    list_requests=20,
    memory_items=20,
    escalation_items=20,
    import_rows=20,
)
FULL = Sizes(
    loop_items=24,
    loop_concurrency=12,
    loop_rounds=2,
    append_items=48,
    replay_events=1_000_000,
    action_items=5,
    actions=200,
    action_rate=10.0,
    list_rows=100_000,
    list_requests=100,
    memory_items=10_000,
    # Each reaches 狠抓落实 in five actions, a few items/s here; figure 5 runs after figure 6,
    # so the latter's 10,000 open items (their sign-for ladders armed) are still open meanwhile.
    escalation_items=600,
    import_rows=1000,
)


_STARTED = time.perf_counter()


def _log(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


async def run(sizes: Sizes, only: set[str]) -> list[Figure]:
    """Run the chosen figures in order (the engine-bound ones share one dev server)."""
    figures: list[Figure] = []
    if not only or "append" in only:
        _log("figure 2: audit append …")
        figures += await append.measure(sizes.append_items)
    if not only or "replay" in only:
        _log(f"figure 3: replay and verify over {sizes.replay_events:,} events …")
        figures.append(await replay.measure(sizes.replay_events))
    if only and not only & {"loop", "api", "pages", "escalation", "memory", "import"}:
        return figures
    _log("starting the dev server, the worker, the baseline worker and the API …")
    async with dev_server() as env, deployment(env.client) as where:
        if not only or "loop" in only:
            _log("figure 1: loop throughput …")
            figures.append(
                await loop.measure(where, sizes.loop_items, sizes.loop_concurrency, sizes.loop_rounds)
            )
        if not only or "api" in only:
            _log("figure 4: API latency …")
            figures += await api_latency.measure(
                where,
                {
                    "action_items": sizes.action_items,
                    "actions": sizes.actions,
                    "list_rows": sizes.list_rows,
                    "list_requests": sizes.list_requests,
                },
                sizes.action_rate,
            )
        if not only or "api" in only or "pages" in only:
            if only and "api" not in only:
                # Figure 7 alone: the read model figure 4 would have filled.
                _log(f"filling the read model with {sizes.list_rows:,} items …")
                await api_latency.fill_read_model(where.database_url, sizes.list_rows)
            _log("figure 7: the 台账 page against the JSON list …")
            figures.append(await pages_latency.measure(where, sizes.list_requests))
        if not only or "memory" in only:
            _log(f"figure 6: memory with {sizes.memory_items:,} more open items …")
            figures += await memory.measure(where, sizes.memory_items)
        if not only or "escalation" in only:
            # Last: its items stay open, which would count in figure 6's memory; figure 6's stay
            # open too, so the escalations fire beside that many open items and their timers.
            _log(f"figure 5: escalation lateness over {sizes.escalation_items:,} items …")
            figures.append(await escalation.measure(where, sizes.escalation_items))
        if not only or "import" in only:
            _log(f"figure 8: bulk 立项 of {sizes.import_rows:,} rows against single openings …")
            figures.append(await import_rate.measure(where, sizes.import_rows))
    return figures


def main() -> int:
    """Parse the options, run, print the table and the closing lines."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: the whole run in under a minute")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        choices=["loop", "append", "replay", "api", "pages", "escalation", "memory", "import"],
        help="run only these figures (pages: figure 7 alone, over --list-rows items)",
    )
    parser.add_argument("--list-rows", type=int, help="items in the read model for figures 4 and 7")
    parser.add_argument("--list-requests", type=int, help="requests per list measured in figures 4 and 7")
    parser.add_argument("--replay-events", type=int, help="events generated for figure 3")
    parser.add_argument("--memory-items", type=int, help="open items for figure 6")
    parser.add_argument("--escalation-items", type=int, help="items with an escalation due for figure 5")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    overrides = {
        "replay_events": args.replay_events,
        "memory_items": args.memory_items,
        "escalation_items": args.escalation_items,
        "list_rows": args.list_rows,
        "list_requests": args.list_requests,
    }
    chosen = {key: value for key, value in overrides.items() if value is not None}
    sizes = dataclasses.replace(sizes, **chosen)
    mode = "quick" if args.quick else "full"
    _log(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; {mode} sizes")
    figures = sorted(
        asyncio.run(run(sizes, set(args.only))), key=lambda figure: FIGURES.index(figure.name.split("_")[0])
    )
    _log("done")
    print(table(figures))
    print()
    for figure in figures:
        print(figure.line())
    return 0


if __name__ == "__main__":
    exit_with(main)
