"""The run's verdict as a table on the terminal, as JSON, and as `bench/CHAOS.md` with the machine."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.chaos.check import ItemCheck, Reconciled
from bench.chaos.cluster import postgres_bindir
from bench.chaos.drive import Outcome
from bench.chaos.faults import KINDS, Fault
from bench.env import ROOT, TEMPORAL_CLI

DEFINITIONS = """\
## What the numbers mean

Each item has one client (driver) that sends its actions one after the other, each with an
`Idempotency-Key` of its own, repeated on every retry of that action. Each action carries a
token of its own in a text field (`sign_for` has none: its type and actor are unique in an
item), so the action's event is recognisable in the item's audit log: same event type, same
actor, same token. Events the item's machinery records (`domain.events.SYSTEM_EVENT_TYPES`:
policy, ladders, reminders, escalations, notices) are not actions and are not matched.

- **actions sent**: logical actions the clients attempted (a retry is the same action);
  **requests**: every HTTP request the drivers made, retries and audit reads included.
- **2xx / 4xx / 5xx / no answer**: the drivers' HTTP answers by class; *no answer* is a timeout
  or a refused or dropped connection. Every 5xx is counted, whichever request got it.
- **confirmed after 409**: a retried action (an earlier attempt got a 5xx or no answer) that
  answered 409, counted as applied because its event was in the log at that moment.
- **lost**: an action whose client saw it succeed (a 2xx, or confirmed after 409) and whose
  event is not in the item's final audit log.
- **duplicated**: events beyond the first that match one action (one action recorded twice).
- **unexplained events**: action events in a log that match no action any client sent.
- **misordered items**: items whose actions' first events are not in the order they were sent.
- **applied, client not told**: actions whose client never saw success (it gave up, or was
  refused) but whose event is in the log. Not a loss; shown because it is what a person would
  have to check by hand.
- **chains broken**: items whose `GET /api/items/{id}/verify` is not ok. **trail verify** is
  `duban audit verify` over the whole database (chains, ledger, checkpoints, signatures).
- **reconcile**: `duban audit reconcile` (audit log against the Temporal history and state) on
  a seeded sample of closed items plus items that did not close; *disagree* counts items it
  reports differences for.
- **items not closed**: the read model's stage is not `closed` or the log has no `ItemClosed`.
- **wedged items**: items whose client gave up: after every fault had healed, the item's next
  action answered only failures (5xx, no answer, or 409 without its event in the log) for the
  whole settle period. Every wedged item is also not closed.

The run **passes** when lost, duplicated, unexplained events, misordered items, chains broken,
reconcile disagreements and items not closed are all 0 and the trail verifies; `python -m
bench.chaos` then exits 0, else 1 (2 if the run itself could not be carried out).
"""

# The figures that must all be 0 for the run to pass (with the trail verifying).
ZERO_LOSS = (
    "lost",
    "duplicated",
    "unexplained_events",
    "misordered_items",
    "chains_broken",
    "reconcile_disagreements",
    "items_not_closed",
    "wedged_items",
)


@dataclass
class RunResult:
    """Everything the run measured."""

    items: int
    rectify_items: int
    faults_planned: int
    seed: int
    concurrency: int
    settle: float
    elapsed: float
    answers: Counter[str]
    faults: list[Fault]
    unplanned_exits: dict[str, int]
    checks: list[ItemCheck]
    reconciled: list[Reconciled]
    trail_ok: bool
    trail_line: str
    started_at: datetime
    load: tuple[float, float] = field(default=(0.0, 0.0))  # 1-minute load average at start, end

    def _answers(self, low: int, high: int) -> int:
        return sum(n for code, n in self.answers.items() if code.isdigit() and low <= int(code) < high)

    def numbers(self) -> dict[str, Any]:
        """Every figure of the table, by a stable key (the smoke test reads these)."""
        actions = [action for check in self.checks for action in check.item.actions]
        by_kind = Counter(fault.kind for fault in self.faults)
        five = {code: n for code, n in sorted(self.answers.items()) if code.startswith("5")}
        return {
            "items": self.items,
            "rectify_items": self.rectify_items,
            "faults": len(self.faults),
            "faults_by_kind": {kind: by_kind[kind] for kind in KINDS},
            "faults_with_items_in_flight": sum(1 for fault in self.faults if fault.in_flight > 0),
            "unplanned_exits": dict(self.unplanned_exits),
            "actions_planned": len(actions),
            "actions_sent": sum(1 for a in actions if a.outcome is not Outcome.NOT_SENT),
            "requests": sum(self.answers.values()),
            "answers_2xx": self._answers(200, 300),
            "answers_4xx": self._answers(400, 500),
            "answers_5xx": self._answers(500, 600),
            "answers_5xx_by_code": five,
            "no_answer": self.answers["transport"],
            "acknowledged": sum(1 for a in actions if a.outcome is Outcome.OK),
            "confirmed_after_409": sum(1 for a in actions if a.outcome is Outcome.CONFIRMED),
            "refused": sum(1 for a in actions if a.outcome is Outcome.REFUSED),
            "lost": sum(c.lost for c in self.checks),
            "duplicated": sum(c.duplicated for c in self.checks),
            "unexplained_events": sum(c.unexplained for c in self.checks),
            "misordered_items": sum(1 for c in self.checks if c.misordered),
            "applied_unacknowledged": sum(c.applied_unacknowledged for c in self.checks),
            "chains_broken": sum(1 for c in self.checks if not c.chain_ok),
            "trail_verifies": self.trail_ok,
            "reconciled": len(self.reconciled),
            "reconcile_disagreements": sum(1 for r in self.reconciled if not r.agrees),
            "items_not_closed": sum(1 for c in self.checks if not c.closed),
            "wedged_items": sum(1 for c in self.checks if c.item.wedged),
            "elapsed_seconds": round(self.elapsed, 1),
        }

    @property
    def passed(self) -> bool:
        """The zero-loss outcome (see DEFINITIONS)."""
        n = self.numbers()
        return all(n[key] == 0 for key in ZERO_LOSS) and bool(n["trail_verifies"])

    def rows(self) -> list[tuple[str, str]]:
        """The result table: (measure, value)."""
        n = self.numbers()
        kinds = ", ".join(f"{kind} {count}" for kind, count in n["faults_by_kind"].items())
        exits = ", ".join(f"{name} {count}" for name, count in sorted(n["unplanned_exits"].items())) or "0"
        five = ", ".join(f"{code}: {count}" for code, count in n["answers_5xx_by_code"].items())
        return [
            ("items", f"{n['items']} ({n['rectify_items']} with a rectify detour)"),
            ("faults (kill -9, restart)", f"{n['faults']}: {kinds}"),
            ("faults that hit items in flight", str(n["faults_with_items_in_flight"])),
            ("unplanned exits (restarted)", exits),
            ("actions planned / sent", f"{n['actions_planned']} / {n['actions_sent']}"),
            ("requests", str(n["requests"])),
            ("2xx", str(n["answers_2xx"])),
            ("4xx", str(n["answers_4xx"])),
            ("5xx", f"{n['answers_5xx']}" + (f" ({five})" if five else "")),
            ("no answer (timeout, connection)", str(n["no_answer"])),
            ("actions acknowledged 2xx", str(n["acknowledged"])),
            ("actions confirmed after 409", str(n["confirmed_after_409"])),
            ("actions refused", str(n["refused"])),
            ("**lost**", str(n["lost"])),
            ("**duplicated**", str(n["duplicated"])),
            ("**unexplained events**", str(n["unexplained_events"])),
            ("**misordered items**", str(n["misordered_items"])),
            ("applied, client not told", str(n["applied_unacknowledged"])),
            ("**chains broken**", str(n["chains_broken"])),
            ("**trail verify** (duban audit verify)", "ok" if n["trail_verifies"] else "FAILED"),
            (
                "**reconcile disagree** (duban audit reconcile)",
                f"{n['reconcile_disagreements']} of {n['reconciled']}",
            ),
            ("**items not closed**", str(n["items_not_closed"])),
            ("wedged items", str(n["wedged_items"])),
            ("elapsed", f"{n['elapsed_seconds']:.0f} s"),
            ("verdict", "PASS (zero loss)" if self.passed else "FAIL"),
        ]


def table(rows: list[tuple[str, str]], header: tuple[str, str] = ("measure", "value")) -> str:
    """A Markdown table (it also reads well on a terminal)."""
    width = max(len(label) for label, _ in [header, *rows])
    lines = [f"| {header[0]:<{width}} | {header[1]} |", f"| {'-' * width} | --- |"]
    lines += [f"| {label:<{width}} | {value} |" for label, value in rows]
    return "\n".join(lines)


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    except OSError:
        return "unknown"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "unknown"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _os() -> str:
    try:
        release = Path("/etc/os-release").read_text()
    except OSError:
        return platform.platform()
    pretty = next(
        (
            line.split("=", 1)[1].strip('"')
            for line in release.splitlines()
            if line.startswith("PRETTY_NAME=")
        ),
        "",
    )
    return f"{pretty}, Linux {platform.release()} {platform.machine()}"


def machine(result: RunResult) -> list[tuple[str, str]]:
    """What the run ran on, for CHAOS.md."""
    tree = _first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = _first_line(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    return [
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} cores"),
        ("memory", _memory()),
        ("OS", _os()),
        ("Python", platform.python_version()),
        (
            "PostgreSQL",
            f"{_first_line([str(postgres_bindir() / 'postgres'), '--version'])}, throwaway cluster",
        ),
        (
            "Temporal",
            f"{_first_line([str(TEMPORAL_CLI), '--version'])}, dev server on a SQLite file (WAL); "
            f"temporalio {importlib.metadata.version('temporalio')}",
        ),
        ("date", f"{result.started_at:%Y-%m-%d %H:%M} UTC"),
        ("tree", tree + (" (with uncommitted changes)" if dirty != "unknown" else "")),
        ("load average (1 min) at start / end", f"{result.load[0]:.1f} / {result.load[1]:.1f}"),
    ]


def _fault_rows(result: RunResult) -> str:
    header = "| # | at s | part | actions acknowledged | items in flight | down s | back after s |"
    lines = [header, "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [
        f"| {i} | {f.at:.1f} | {f.part} | {f.acknowledged} | {f.in_flight} | {f.down:.1f} "
        f"| {f.back_after:.1f} |"
        for i, f in enumerate(result.faults, start=1)
    ]
    return "\n".join(lines)


def _stuck_rows(result: RunResult, limit: int = 20) -> str:
    stuck = [check for check in result.checks if not check.closed]
    if not stuck:
        return "Every item closed."
    lines = [
        "| item | id | stage | stuck at | outcome | attempts | last answer |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for check in stuck[:limit]:
        action = next((a for a in check.item.actions if not a.succeeded), check.item.actions[-1])
        answer = action.last_answer.replace("|", "/").replace("\n", " ")[:160]
        lines.append(
            f"| {check.item.ordinal} | `{check.item.item_id}` | {check.stage} "
            f"| {action.name} ({action.actor}) | {action.outcome.value} | {action.attempts} | {answer} |"
        )
    if len(stuck) > limit:
        lines.append(f"\n… and {len(stuck) - limit} more.")
    return "\n".join(lines)


def _reconcile_rows(result: RunResult) -> str:
    if not result.reconciled:
        return "No item was reconciled."
    lines = ["| id | closed | agrees | first lines |", "| --- | --- | --- | --- |"]
    for r in result.reconciled:
        first = " / ".join(r.output.splitlines()[:3]).replace("|", "/")[:300]
        lines.append(
            f"| `{r.item_id}` | {'yes' if r.closed else 'no'} | {'yes' if r.agrees else 'NO'} | {first} |"
        )
    return "\n".join(lines)


def markdown(result: RunResult, command: str) -> str:
    """The whole of CHAOS.md."""
    return "\n\n".join(
        [
            "# Chaos run",
            f"`{command}` (seed {result.seed}, {result.concurrency} items in flight, settle "
            f"{result.settle:.0f} s). Written by `bench/chaos/report.py`; every number below is "
            "from this one run.",
            "## Machine",
            table(machine(result), ("", "")),
            "## Result",
            table(result.rows()),
            "## Faults",
            _fault_rows(result),
            "## Items that did not close",
            _stuck_rows(result),
            "## Reconciliation sample",
            _reconcile_rows(result),
            "`duban audit verify`: " + (result.trail_line.splitlines() or ["(no output)"])[-1],
            DEFINITIONS,
        ]
    )
