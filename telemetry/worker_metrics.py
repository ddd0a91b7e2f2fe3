"""duban's metrics on a worker, recorded through the Temporal SDK's meter beside the SDK's own.

One endpoint per worker serves both (the runtime's Prometheus exporter, `WORKER_METRICS_ADDRESS`).
Nothing here runs inside a workflow: an activity interceptor reads what the `append_events` and
`send_digest` activities did, after they did it, so workflows stay deterministic and the store
knows nothing of metrics. Labels are closed sets (rung, channel, outcome): never an item id.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from temporalio import activity
from temporalio.common import MetricMeter
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from activities.notify.plan import DINGTALK, EMAIL, INBOX, WECOM
from domain import events as ev
from domain.ladder import Level
from workflows.digest_messages import SEND_DIGEST_ACTIVITY, DigestBatch
from workflows.messages import APPEND_EVENTS_ACTIVITY, AppendEvents, AppendOutcome

APPEND_SECONDS = "duban_append_seconds"
HISTOGRAMS = (APPEND_SECONDS,)
CHANNELS = (INBOX, EMAIL, DINGTALK, WECOM)
RUNGS = tuple(level.value for level in Level)
NOTICE_OUTCOMES = {
    ev.NotificationDelivered.type_name(): "delivered",
    ev.NotificationQueued.type_name(): "queued",
    ev.NotificationFailed.type_name(): "failed",
}
RUNG_EVENTS = frozenset({ev.ReminderSent.type_name(), ev.EscalationRaised.type_name()})
OTHER = "other"  # a value outside the closed set still counts, under one label


def _bounded(value: Any, allowed: Iterable[str]) -> str:
    return value if isinstance(value, str) and value in allowed else OTHER


class WorkerMetrics:
    """The counters and the histogram, created once per worker process on the runtime's meter.

    Every known label combination starts at zero, so a dashboard's `rate()` has a series from
    the first scrape rather than from the first escalation.
    """

    def __init__(self, meter: MetricMeter) -> None:
        self._escalations = meter.create_counter(
            "duban_escalations", "Ladder rungs fired (reminder, warning, overdue, top), by rung"
        )
        self._notices = meter.create_counter(
            "duban_notices", "Notice deliveries recorded, by channel and outcome (delivered, queued, failed)"
        )
        self._digests = meter.create_counter(
            "duban_digests", "Daily digest sends, by channel and outcome (a failed attempt is retried)"
        )
        self._appended = meter.create_counter(
            "duban_events_appended", "Events newly written to the audit log"
        )
        self._append_seconds = meter.create_histogram_float(
            APPEND_SECONDS, "Duration of one append_events activity (the audit log's write)", "s"
        )
        for rung in RUNGS:
            self._escalations.add(0, {"rung": rung})
        for channel in CHANNELS:
            for outcome in NOTICE_OUTCOMES.values():
                self._notices.add(0, {"channel": channel, "outcome": outcome})
            for outcome in ("sent", "failed"):
                self._digests.add(0, {"channel": channel, "outcome": outcome})
        self._appended.add(0)

    def append_took(self, seconds: float) -> None:
        """Record one append's duration, whether it wrote, found its events present, or failed."""
        self._append_seconds.record(seconds)

    def appended(self, request: AppendEvents, outcome: AppendOutcome) -> None:
        """Count what one append wrote; a retry that found its events present counts nothing again."""
        if outcome.appended != len(request.events):
            return  # one transaction per call: all new, or none (a retry, or the log held others)
        self._appended.add(outcome.appended)
        for event in request.events:
            if event.type in RUNG_EVENTS:
                self._escalations.add(1, {"rung": _bounded(event.payload.get("level"), RUNGS)})
            elif (kind := NOTICE_OUTCOMES.get(event.type)) is not None:
                channel = _bounded(event.payload.get("channel"), CHANNELS)
                self._notices.add(1, {"channel": channel, "outcome": kind})

    def digest(self, batch: DigestBatch, *, sent: bool) -> None:
        """Count one digest attempt's end."""
        outcome = "sent" if sent else "failed"
        self._digests.add(1, {"channel": _bounded(batch.channel, CHANNELS), "outcome": outcome})


class MetricsInterceptor(Interceptor):
    """A worker interceptor that feeds `WorkerMetrics` from the activities' inputs and results."""

    def __init__(self, metrics: WorkerMetrics) -> None:
        self._metrics = metrics

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Wrap each activity execution."""
        return _ObservedActivity(next, self._metrics)


class _ObservedActivity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, metrics: WorkerMetrics) -> None:
        super().__init__(next)
        self._metrics = metrics

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        kind = activity.info().activity_type
        if kind == APPEND_EVENTS_ACTIVITY:
            started = time.perf_counter()
            try:
                outcome = await super().execute_activity(input)
            finally:
                self._metrics.append_took(time.perf_counter() - started)
            self._metrics.appended(input.args[0], outcome)
            return outcome
        if kind == SEND_DIGEST_ACTIVITY:
            try:
                result = await super().execute_activity(input)
            except Exception:
                self._metrics.digest(input.args[0], sent=False)
                raise
            self._metrics.digest(input.args[0], sent=True)
            return result
        return await super().execute_activity(input)
