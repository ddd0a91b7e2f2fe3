"""`python -m bench --quick` runs end to end and closes with one ratio line per measured figure.

Only that it runs and what it prints: the figures themselves are never judged by a test.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.databases import require_postgres

ROOT = Path(__file__).resolve().parents[2]
RATIO_LINE = re.compile(r"^(?P<name>[a-z0-9_]+) [0-9.]+ \S+ \(ratio [0-9.]+ vs [a-z0-9_]+\)$")
UNMEASURED_LINE = re.compile(r"^[a-z0-9_]+ (not measured|failed) \(.+\)$")
MEASURED = {
    "loop_throughput",
    "append_postgres_w1",
    "append_postgres_w8",
    "append_sqlite_w1",
    "append_sqlite_w8",
    "replay_verify",
    "api_action_p99",
    "api_list_p99",
    "memory_worker",
    "memory_api",
    "escalation_lateness",
}


@pytest.mark.postgres
@pytest.mark.e2e
async def test_quick_bench_runs_and_prints_a_ratio_line_per_figure() -> None:
    await require_postgres()
    finished = subprocess.run(  # noqa: ASYNC221 — the whole benchmark is the thing under test
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-4000:]
    closing = finished.stdout.strip().split("\n\n")[-1].splitlines()
    # A figure that could not be measured says so on its line instead of printing a ratio.
    assert all(RATIO_LINE.match(line) or UNMEASURED_LINE.match(line) for line in closing), closing
    assert {line.split()[0] for line in closing} >= MEASURED, closing
    assert any(RATIO_LINE.match(line) for line in closing), closing


@pytest.mark.parametrize(("args", "code"), [(["--help"], 0), (["--only", "nothing"], 2)])
def test_the_benchmarks_usage_is_a_message_not_a_traceback(args: list[str], code: int) -> None:
    finished = subprocess.run(  # noqa: S603 — our own module
        [sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert finished.returncode == code
    assert "Traceback" not in finished.stderr
    assert "usage: python -m bench" in finished.stdout + finished.stderr
