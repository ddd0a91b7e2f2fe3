"""A client generated from the OpenAPI alone (openapi-python-client) calls the actions with typed
arguments and reads typed answers, against the app and a real worker.

The client is generated at test time from the app's own document, so a change that breaks the
contract for generated clients (an untyped body, a schema the generator cannot read) fails here.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bootstrap import create_app
from tests.api.conftest import AUDITOR, CO, LEAD, SUPERVISOR, Api, app_settings

PACKAGE = "duban_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The generated client package's name, importable while the module's tests run."""
    root = tmp_path_factory.mktemp("generated")
    document = root / "openapi.json"
    document.write_text(
        json.dumps(create_app(app_settings("sqlite+aiosqlite://", "unused")).openapi(), ensure_ascii=False)
    )
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(  # noqa: S603 — the generator from this virtualenv, on our own document
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        check=False,
        # Its post-generation hook runs ruff, which lives beside the interpreter.
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every schema made it into the client: the generator drops (and reports) what it cannot read.
    assert "Failure to process schema" not in result.stdout + result.stderr, result.stdout
    sys.path.insert(0, str(root))
    try:
        yield PACKAGE
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


async def test_a_generated_client_performs_actions_with_typed_bodies(api: Api, generated: str) -> None:
    models = _module("models")
    client = _module("client").Client(base_url=str(api.http.base_url))
    client.set_async_httpx_client(api.http)

    async def act(action: str, user: str, body: Any) -> Any:
        api.http.headers.update(api.auth(user))
        call = _module(f"api.items.act_{action}")
        return await call.asyncio_detailed(item["id"], client=client, body=body)

    item = await api.open()
    due = datetime.now(UTC) + timedelta(days=30)
    assert (await act("sign_for", LEAD, models.SignFor())).status_code == 200
    assert (await act("sign_for", CO, models.SignFor())).status_code == 200
    plan = models.SubmitPlan(
        measures="分三批推进", milestones=[models.PlannedMilestone(name="首批开工", due=due)]
    )
    assert (await act("submit_plan", LEAD, plan)).status_code == 200
    approved = await act("approve_plan", SUPERVISOR, models.ApprovePlan(comment="同意"))
    progress = models.ReportProgress(summary="首批开工", percent=50, milestones_done=["首批开工"])
    reported = await act("report_progress", LEAD, progress)

    assert isinstance(approved.parsed, models.ItemPublic)
    assert approved.parsed.stage == models.Stage.IMPLEMENT
    assert reported.parsed.percent == 50
    assert reported.parsed.plan.milestones[0].done_at is not None

    refused = await act("urge", AUDITOR, models.Urge(message="请加快进度"))
    invalid = await act("urge", SUPERVISOR, models.Urge(message="请加快进度", units=["jtj"]))
    assert (refused.status_code, type(refused.parsed)) == (403, models.ErrorBody)
    assert (invalid.status_code, type(invalid.parsed)) == (422, models.ValidationErrorBody)
    assert "jtj" in invalid.parsed.detail
