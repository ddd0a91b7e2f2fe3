"""Figure 8 — bulk 立项: N rows imported end to end (one `POST /api/items/import` of an N-row
workbook), in items/s, against N single openings (`POST /api/items`, one after another, as the
import opens its rows) in the same run, through the same API child, worker and database.

The import does per row what a single opening does (the key claim, update-with-start, the
append), plus reading and validating the whole workbook first; the ratio says what that costs.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.api_latency import _token
from bench.env import Deployment
from bench.runner import Figure, Row
from tests.api.import_books import fill_template

IMPORT_RATIO_TARGET = 0.8
SUPERVISOR = "sup-zhang"


def _body(n: int, deadline: str) -> dict[str, object]:
    return {
        "title": f"基准单项立项 {n}",
        "requirements": "按期推进",
        "source": "meeting_decision",
        "category": "other",
        "lead_unit": "fgw",
        "co_units": ["czj"],
        "leader": "leader-wang",
        "deadline": deadline,
    }


def _row(n: int, deadline: str) -> dict[str, str]:
    return {
        "标题": f"基准导入事项 {n}",
        "工作要求": "按期推进",
        "类别": "其他",
        "来源": "会议决定",
        "牵头单位": "市发展和改革委员会",
        "协办单位": "市财政局",
        "责任领导": "王建国",
        "办理时限": deadline,
    }


async def measure(where: Deployment, rows: int) -> Figure:
    """Items/s of an N-row import against N single openings, both sequential, same run."""
    deadline = (datetime.now(UTC) + timedelta(days=300)).date().isoformat()
    headers = _token(SUPERVISOR)
    began = time.perf_counter()
    for n in range(rows):
        response = await where.http.post("/api/items", json=_body(n, deadline), headers=headers)
        response.raise_for_status()
    single_rate = rows / (time.perf_counter() - began)

    template = await where.http.get("/api/items/import/template.xlsx", headers=headers)
    template.raise_for_status()
    data = fill_template(template.content, [_row(n, deadline) for n in range(rows)])
    files = {"file": ("bench.xlsx", data, "application/octet-stream")}
    began = time.perf_counter()
    answer = await where.http.post(
        "/api/items/import", params={"dry_run": "false"}, files=files, headers=headers, timeout=3600
    )
    elapsed = time.perf_counter() - began
    answer.raise_for_status()
    opened = answer.json()["opened"]
    if opened != rows:
        raise RuntimeError(f"the import opened {opened} of {rows} rows: {answer.text[:500]}")
    import_rate = rows / elapsed
    ratio = import_rate / single_rate
    return Figure(
        name="import_rate",
        value=import_rate,
        unit="items/s",
        ratio=ratio,
        baseline="single_open",  # one POST /api/items after another
        target=f"≥ {IMPORT_RATIO_TARGET} × single openings",
        met=ratio >= IMPORT_RATIO_TARGET,
        rows=(
            Row(
                f"import of {rows} rows (one request)",
                import_rate,
                "items/s",
                f"{len(data) // 1024} KiB file",
            ),
            Row(f"{rows} single openings, one after another", single_rate, "items/s"),
        ),
    )
