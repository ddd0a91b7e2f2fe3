"""Figure 5 — escalation lateness: how late escalation events are after their due instants.

It needs the escalation timers in the item workflow; until they are built it reports itself
as not measured instead of timing something else.
"""

from __future__ import annotations

from bench.runner import Figure

NOT_BUILT = "not measured (escalation timers not yet built)"


def measure() -> Figure:
    """The figure, marked as not measured."""
    return Figure(name="escalation_lateness", value=None, unit="s", note=NOT_BUILT)
