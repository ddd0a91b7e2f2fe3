"""Figure 5 — escalation lateness: how late escalation events are after their due instants.

The escalation ladder (workflows/ladder.py, commit 113ce39) landed while this benchmark was
being built; measuring it (10,000 open items with rungs due in a short window, lateness of each
EscalationRaised occurred_at after its due instant) is not written yet, so the figure reports
itself as not measured instead of timing something else.
"""

from __future__ import annotations

from bench.runner import Figure

NOT_BUILT = "not measured (escalation ladder landed in 113ce39; this figure is not written yet)"


def measure() -> Figure:
    """The figure, marked as not measured."""
    return Figure(name="escalation_lateness", value=None, unit="s", note=NOT_BUILT)
