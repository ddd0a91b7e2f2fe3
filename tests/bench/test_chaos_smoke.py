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
# Wedged items are also items not closed; named on their own so a failure says which it was.
MUST_BE_ZERO = (*ZERO_LOSS, "wedged_items")

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(1500)
def test_twenty_items_through_three_faults_lose_nothing_and_all_close(tmp_path: Path) -> None:
    numbers_file = tmp_path / "numbers.json"
    finished = subprocess.run(  # noqa: S603 — our own module
        [
            sys.executable,
            "-m",
            "bench.chaos",
            *("--items", "20", "--faults", "3", "--seed", "5"),
            *("--out", str(tmp_path / "CHAOS.md"), "--json", str(numbers_file)),
            *("--logs", str(tmp_path / "logs")),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1400,
        check=False,
    )
    assert finished.returncode != 2, f"the run could not be carried out:\n{finished.stderr[-4000:]}"
    numbers = json.loads(numbers_file.read_text())
    assert {"lost", "duplicated", "chains_broken", "items_not_closed"} <= set(MUST_BE_ZERO)
    table = finished.stdout
    assert numbers["items"] == 20, table
    assert numbers["faults"] == 3, table
    assert numbers["faults_with_items_in_flight"] == 3, table
    assert numbers["answers_2xx"] >= numbers["actions_planned"] - numbers["confirmed_after_409"], table
    assert {key: numbers[key] for key in MUST_BE_ZERO} == dict.fromkeys(MUST_BE_ZERO, 0), table
    assert numbers["trail_verifies"], table
    assert finished.returncode == 0, table
