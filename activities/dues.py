"""The dues an action records, counted on the Chinese calendar from the workflow's decision instant.

The workflow runs this as a local activity when the request's dues were counted from another
Beijing date than its own instant (workflows/item.py). It only reads the calendar and writes
nothing, so the local-activity hazard of docs/trust.md (input not in the history, a lost task
rerunning it) cannot split an item: a rerun counts the same dues, and only the events the
workflow then schedules for the append, with those dues in them, reach the store.
"""

from __future__ import annotations

from temporalio import activity

from adapters.workdays import dues_at
from domain.dues import ComputedDues
from workflows.messages import COUNT_DUES_ACTIVITY, DuesRequest


@activity.defn(name=COUNT_DUES_ACTIVITY)
async def count_dues(request: DuesRequest) -> ComputedDues:
    """Every due instant an action might need, counted from `request.at` on the Chinese calendar."""
    return dues_at(request.at)
