"""The Temporal SDK's runtime of a duban process: its core's logs forwarded, its metrics exported.

Without this the SDK's Rust core prints its own coloured lines straight to stderr, beside the
JSON stream; forwarded, they go through the same structlog pipeline as every other record.
"""

from __future__ import annotations

import logging

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from setup_errors import SetupUnusable

# The parent logger of the SDK core's records (each core module becomes a child of it).
CORE_LOGGER = "temporalio.core"

# Servers before 1.16 (the Java time-skipping test server among them) do not keep an activity's
# last heartbeat details when it fails, and the core warns once per worker. duban's activities
# never heartbeat, so there are no details to lose: the warning says nothing about duban.
HEARTBEAT_CAPABILITY_WARNING = "activity_failure_include_heartbeat capability"

# duban's own histograms in seconds, from a fast append (~1 ms) to a stuck one.
SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _IrrelevantCoreWarnings(logging.Filter):
    """Drops the core's warnings that cannot concern duban (see HEARTBEAT_CAPABILITY_WARNING)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return HEARTBEAT_CAPABILITY_WARNING not in record.getMessage()


def core_logging() -> LoggingConfig:
    """Core's warnings and errors, as plain records of `temporalio.core` with their fields apart."""
    logger = logging.getLogger(CORE_LOGGER)
    if not any(isinstance(existing, _IrrelevantCoreWarnings) for existing in logger.filters):
        logger.addFilter(_IrrelevantCoreWarnings())
    return LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(
            logger=logger,
            prepend_target_on_message=False,
            append_log_fields_to_message=False,
        ),
    )


class MetricsUnavailable(SetupUnusable):
    """The metrics endpoint cannot be served at the address given; the message names it."""


def build_runtime(metrics_address: str = "", histograms: tuple[str, ...] = ()) -> Runtime:
    """A runtime that forwards core logs and, given `metrics_address` (host:port), serves /metrics there.

    Durations are exported in seconds and counters end in `_total`, as Prometheus expects;
    `histograms` names duban's own histograms, which get buckets in seconds too. Raises
    MetricsUnavailable when the address is malformed or taken.
    """
    metrics = None
    if metrics_address:
        metrics = PrometheusConfig(
            bind_address=metrics_address,
            counters_total_suffix=True,
            durations_as_seconds=True,
            histogram_bucket_overrides={name: list(SECONDS_BUCKETS) for name in histograms},
        )
    try:
        return Runtime(telemetry=TelemetryConfig(logging=core_logging(), metrics=metrics))
    except ValueError as error:  # the SDK's word for a bad or busy bind address
        raise MetricsUnavailable(
            f"无法在 WORKER_METRICS_ADDRESS={metrics_address} 提供指标 / cannot serve metrics there: {error}"
        ) from error
