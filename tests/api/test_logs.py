"""The log stream as an operator reads it: JSON lines, each fact once, no raw colour codes."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from temporalio.testing import WorkflowEnvironment

from bootstrap import build_worker
from logs import configure_logging
from settings import TEST_ACTION_KEY, Settings
from store.db import make_engine, make_sessions
from tests.api.conftest import Api
from tests.fixtures.databases import migrated_sqlite_url


class Stream:
    """What the services would have written to stdout, as parsed JSON lines."""

    def __init__(self) -> None:
        self.text = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        """Every line, each of which must be one JSON object."""
        return [json.loads(line) for line in self.text.getvalue().splitlines()]


@pytest.fixture
def stream() -> Iterator[Stream]:
    """The services' logging set-up, writing JSON to a stream; the test run's own set-up afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level, saved = root.handlers[:], root.level, structlog.get_config()
    captured = Stream()
    configure_logging(Settings(_env_file=None, log_format="json"), captured.text)
    # Loggers assembled while this stream is configured must not outlive it in a cache.
    structlog.configure(cache_logger_on_first_use=False)
    try:
        yield captured
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved)


async def test_temporal_details_are_fields_and_not_repeated_in_the_message(api: Api, stream: Stream) -> None:
    await api.open()
    lines = stream.lines()
    appended = [line for line in lines if line["logger"] == "temporalio.activity"]
    recorded = [line for line in lines if line["logger"] == "temporalio.workflow"]
    assert appended, lines
    assert recorded, lines
    append = next(line for line in appended if line["event"] == "audit events appended")
    assert append["temporal_activity"]["activity_type"] == "append_events"
    assert append["appended"] >= 1
    assert any(line["temporal_workflow"]["workflow_type"] == "SupervisionItemWorkflow" for line in recorded)
    for line in appended + recorded:
        assert "{'" not in line["event"], line["event"]  # the adapter's dict, once said in the message


async def test_core_logs_reach_no_terminal_with_colour_codes(
    time_skipping_server: WorkflowEnvironment, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # The time-skipping server is older than 1.16: its workers' core warns about heartbeat details.
    engine = make_engine(await migrated_sqlite_url(tmp_path))
    try:
        queue = f"duban-test-{uuid.uuid4()}"
        async with build_worker(
            time_skipping_server.client, queue, make_sessions(engine), action_key=TEST_ACTION_KEY
        ):
            pass
    finally:
        await engine.dispose()
    out, err = capfd.readouterr()
    assert "\x1b[" not in out + err
    assert "heartbeat details" not in out + err
