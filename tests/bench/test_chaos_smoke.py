"""`python -m bench.chaos` at CI size: 20 items, 3 faults (PostgreSQL, a worker, Temporal).

Strict on purpose: any lost, duplicated or unexplained action, broken chain or item that did not
close fails the test, and so does a run in which a fault hit no item in flight.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.chaos.report import ZERO_LOSS

ROOT = Path(__file__).resolve().parents[2]
RUN_SECONDS = 1200
# Wedged items are also items not closed; named on their own so a failure says which it was.
MUST_BE_ZERO = (*ZERO_LOSS, "wedged_items")

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(1500)
def test_twenty_items_through_three_faults_lose_nothing_and_all_close(tmp_path: Path) -> None:
    numbers_file = tmp_path / "numbers.json"
    run = subprocess.Popen(  # noqa: S603 — our own module
        [
            sys.executable,
            "-m",
            "bench.chaos",
            *("--items", "20", "--faults", "3", "--seed", "5"),
            *("--out", str(tmp_path / "CHAOS.md"), "--json", str(numbers_file)),
            *("--logs", str(tmp_path / "logs")),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = run.communicate(timeout=RUN_SECONDS)
    except subprocess.TimeoutExpired:
        # SIGTERM, not SIGKILL: the run then kills its PostgreSQL, Temporal, workers and API.
        run.terminate()
        run.communicate(timeout=120)
        pytest.fail(f"the chaos run took longer than {RUN_SECONDS} s")
    assert run.returncode != 2, f"the run could not be carried out:\n{stderr[-4000:]}"
    numbers = json.loads(numbers_file.read_text())
    assert {"lost", "duplicated", "chains_broken", "items_not_closed"} <= set(MUST_BE_ZERO)
    table = stdout
    assert numbers["items"] == 20, table
    assert numbers["faults"] == 3, table
    assert numbers["faults_with_items_in_flight"] == 3, table
    assert numbers["answers_2xx"] >= numbers["actions_planned"] - numbers["confirmed_after_409"], table
    assert {key: numbers[key] for key in MUST_BE_ZERO} == dict.fromkeys(MUST_BE_ZERO, 0), table
    assert numbers["trail_verifies"], table
    assert run.returncode == 0, table
