"""Record workflow histories for the replay test: `python -m tests.histories.record [DIR]`.

Runs a few items through the current SupervisionItemWorkflow on a fresh dev server with a real
worker and a SQLite store, and writes each item's history as `<scenario>.json` (default: this
folder). Record after a change that is meant to be compatible, commit the files, and the
replay test (tests/workflows/test_replay_histories.py) keeps every later change honest.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from store.db import make_engine, make_sessions
from tests.fixtures.databases import migrated_sqlite_url
from tests.fixtures.temporal import TEMPORAL_CLI, run_item_worker
from tests.workflows.driver import (
    CO,
    LEAD,
    SUPERVISOR,
    ItemDriver,
    drive_to_closed,
    drive_to_implement,
    future,
)
from workflows.messages import workflow_id_for

HERE = Path(__file__).resolve().parent


async def rectified_then_cancelled(item: ItemDriver) -> None:
    """Implementation, a claim, 整改 back to implement, an urge, then 撤销."""
    await drive_to_implement(item)
    await item.act(
        "report_progress", LEAD, {"summary": "首批完成", "percent": 60, "milestones_done": ["首批开工"]}
    )
    await item.act("claim_completion", LEAD, {"summary": "已完成"})
    rectify = {
        "result": "rectify",
        "findings": "台账不全",
        "requirements": "补齐台账",
        "new_deadline": future(60),
    }
    await item.act("inspect", SUPERVISOR, rectify)
    await item.act("urge", SUPERVISOR, {"message": "请加快整改"})
    await item.act("cancel", SUPERVISOR, {"reason": "任务调整"})


async def returned_and_running(item: ItemDriver) -> None:
    """A co-unit returns the item, the lead signs for it, a comment; the item stays open."""
    await item.open()
    await item.act("return", CO, {"reason": "不属于本单位职责"})
    await item.act("sign_for", LEAD)
    await item.act("comment", SUPERVISOR, {"text": "请牵头单位先行推进"})


async def closed_dues_counted_again(item: ItemDriver) -> None:
    """The straight path with the API's clock a day behind: every action's dues are counted again."""
    await drive_to_closed(replace(item, clock_skew=timedelta(days=-1)))


SCENARIOS: dict[str, Callable[[ItemDriver], Awaitable[None]]] = {
    "closed": drive_to_closed,
    "rectified_then_cancelled": rectified_then_cancelled,
    "returned_and_running": returned_and_running,
    "closed_dues_at_decision": closed_dues_counted_again,
}


async def record(out: Path) -> list[Path]:
    """Run every scenario and write its history; returns the files written."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_CLI),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    written = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            engine = make_engine(await migrated_sqlite_url(Path(scratch)))
            try:
                async with run_item_worker(env.client, make_sessions(engine)) as task_queue:
                    for name, scenario in SCENARIOS.items():
                        item = ItemDriver(env.client, task_queue, item_id=f"history-{name}")
                        await scenario(item)
                        history = await env.client.get_workflow_handle(
                            workflow_id_for(item.item_id)
                        ).fetch_history()
                        path = out / f"{name}.json"
                        path.write_text(history.to_json(), encoding="utf-8")
                        written.append(path)
            finally:
                await engine.dispose()
    finally:
        await env.shutdown()
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for path in asyncio.run(record(target)):
        print(path)
