"""What the ladder tests share: a time-skipping server whose clock starts on a chosen day, an item
driver that computes dues on the Chinese calendar at the server's time, and readers of the log.

The real notify activities run (inbox channel, demo org chart), so the recipients asserted are
those the org chart resolves.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import libfaketime
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from adapters.workdays import dues_at
from domain.events import RecordedEvent
from domain.instants import CHINA
from domain.people import Actor
from tests.fixtures.temporal import TEST_SERVER
from tests.workflows.driver import ItemDriver
from workflows.messages import ActionRequest

RUNG_EVENTS = ("ReminderSent", "EscalationRaised")


def beijing(text: str) -> datetime:
    """An instant written in Beijing time, e.g. "2026-10-10 18:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


@contextmanager
def _faked_clock_for_children(start: datetime) -> Iterator[None]:
    """While open, processes started from here see a wall clock that began at `start` (libfaketime)."""
    _, additions = libfaketime.get_reload_information()
    spec = {
        **additions,
        "FAKETIME": "@" + start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "TZ": "UTC",
    }
    saved = {key: os.environ.get(key) for key in spec}
    os.environ.update(spec)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@asynccontextmanager
async def time_skipping_server_from(start: datetime) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server of its own whose clock starts at `start`.

    The shared `time_skipping_server` starts at today's date, which is past the days these
    tests are about, and skipping it by weeks would move every later test's clock too.
    """
    with _faked_clock_for_children(start):
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
        )
    try:
        yield env
    finally:
        await env.shutdown()


async def skip_to(env: WorkflowEnvironment, moment: datetime) -> None:
    """Let the server's time run to `moment`, firing every timer due on the way."""
    now = await env.get_current_time()
    if moment > now:
        await env.sleep(moment - now)


@dataclass
class CalendarItemDriver(ItemDriver):
    """An item driver that, like the API, computes dues on the Chinese calendar at the server's now."""

    env: WorkflowEnvironment | None = None
    now: datetime | None = None

    def request(self, action: str, actor: Actor, body: dict[str, Any] | None = None) -> ActionRequest:
        """The action with dues counted from the server's current time."""
        assert self.now is not None, "call through open() or act()"
        return ActionRequest(action=action, actor=actor, body=body or {}, dues=dues_at(self.now))

    async def _tick(self) -> None:
        assert self.env is not None
        self.now = await self.env.get_current_time()

    async def open(self, body: dict[str, Any] | None = None) -> Any:
        """Open at the server's current time."""
        await self._tick()
        return await super().open(body)

    async def act(self, action: str, actor: Actor, body: dict[str, Any] | None = None) -> Any:
        """Act at the server's current time."""
        await self._tick()
        return await super().act(action, actor, body)


def rungs(events: list[RecordedEvent]) -> list[tuple[str, str, datetime, list[str]]]:
    """Each reached rung as (step, level, armed instant, recipients)."""
    return [
        (p["step"], p["level"], datetime.fromisoformat(p["at"]), p["recipients"])
        for p in (e.payload for e in events if e.type in RUNG_EVENTS)
    ]


def after(events: list[RecordedEvent], event_type: str) -> list[RecordedEvent]:
    """The events recorded after the last event of `event_type`."""
    last = max(i for i, e in enumerate(events) if e.type == event_type)
    return events[last + 1 :]


ONE_MINUTE = timedelta(minutes=1)
