"""What a figure is, how it is printed, and the small statistics every figure uses."""

from __future__ import annotations

import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn


@dataclass(frozen=True)
class Row:
    """One measured number in a figure's table: the service's path or its baseline."""

    label: str
    value: float
    unit: str
    note: str = ""


@dataclass(frozen=True)
class Figure:
    """A figure: its headline value, the ratio against the same-run baseline, and the target.

    `ratio` is oriented so that the target reads against it (throughput: service / baseline,
    higher is better; time or size: service / baseline, lower is better), as `target` says.
    """

    name: str
    value: float | None
    unit: str
    ratio: float | None = None
    baseline: str = ""
    target: str = ""
    met: bool | None = None
    rows: Sequence[Row] = field(default_factory=tuple)
    note: str = ""

    def line(self) -> str:
        """The figure's closing line: `NAME value unit (ratio R vs BASELINE)`."""
        if self.value is None:
            return f"{self.name} {self.note}"
        return f"{self.name} {_number(self.value)} {self.unit} (ratio {self.ratio:.2f} vs {self.baseline})"


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `samples` (fraction 0.5 for p50, 0.99 for p99)."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


class Stopwatch:
    """Wall-clock seconds of a `with` block, from a monotonic clock."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


def verdict(figure: Figure) -> str:
    """met / missed / '' for the table."""
    if figure.met is None:
        return ""
    return "met" if figure.met else "MISSED"


def table(figures: Sequence[Figure]) -> str:
    """Every row of every figure, aligned, then each figure's target and whether it was met."""
    lines = [f"{'figure':<22} {'measurement':<44} {'value':>12} unit"]
    lines.append("-" * len(lines[0]) + "-" * 16)
    for figure in figures:
        for row in figure.rows:
            note = f"  ({row.note})" if row.note else ""
            lines.append(f"{figure.name:<22} {row.label:<44} {_number(row.value):>12} {row.unit}{note}")
        if figure.target:
            lines.append(f"{figure.name:<22} {'target: ' + figure.target:<44} {verdict(figure):>12}")
        if figure.note and figure.value is not None:
            lines.append(f"{figure.name:<22} note: {figure.note}")
    return "\n".join(lines)


def exit_with(main: Callable[[], int], crashed: int = 1) -> NoReturn:
    """Run a benchmark's `main` and leave with its exit code (`crashed` on an uncaught exception).

    Leaves through `os._exit`: the Temporal SDK's core runtime thread aborts the interpreter's
    finalization (PyGILState_Release).
    """
    try:
        code = main()
    except SystemExit as leaving:  # argparse's --help and usage errors: their message is printed
        code = leaving.code if isinstance(leaving.code, int) else crashed
    except BaseException:
        traceback.print_exc()
        code = crashed
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
