"""Bulk 立项 from a meeting's decision list: the template, the upload, and the one service under both.

Every row is turned into the body of `POST /api/items` and validated by the same ItemCreate
schema, the same org checks and the same `decide` precheck the API applies to one opening; a
problem is reported by row and column in Chinese. Nothing is opened unless every row is valid,
or the caller asked for only the valid rows. Each row opens through `open_one` under the key
`import:<sha256 of the row's validated body>` (keys are the uploading user's own), so a row
opens once however often, in whichever file, at whichever row it is uploaded again within the
keys' TTL; a corrected row is another body and opens once more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Query, UploadFile, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.errors import SIGNED_IN_ERRORS, ApiError
from api.import_book import (
    MAX_FILE_BYTES,
    TEMPLATE_FILE_NAME,
    XLSX,
    read_sheet,
    template_workbook,
)
from api.import_rows import ImportProblem, OrgSnapshot, validate_rows
from api.opening import open_one, request_hash
from api.permissions import Supervisor
from api.schemas import ItemCreate
from api.services import Services, ServicesDep
from domain.people import Actor, Role
from domain.refusals import CommandRefused

router = APIRouter(prefix="/api/items/import", tags=["items"], responses=SIGNED_IN_ERRORS)

RowStatus = Literal["valid", "invalid", "opened", "already_opened", "failed"]
ROW_STATUS_LABELS: dict[str, str] = {
    "valid": "可立项",
    "invalid": "有误",
    "opened": "已立项",
    "already_opened": "此前已立项",
    "failed": "立项失败",
}


class ImportRow(BaseModel):
    """One row of the file: its cells as given, the body they make, and what became of it."""

    row: int
    status: RowStatus
    cells: dict[str, str] = Field(description="单元格原文 / the cells as written, by header")
    item: ItemCreate | None = Field(default=None, description="解析结果 / the parsed opening, when valid")
    errors: list[ImportProblem] = Field(default_factory=list)
    item_id: str | None = None
    number: str | None = None


class ImportReport(BaseModel):
    """What an import found and did, row by row."""

    detail: str
    file_sha256: str
    dry_run: bool
    only_valid: bool
    total: int
    valid: int
    invalid: int
    opened: int
    already_opened: int
    failed: int
    rows: list[ImportRow]
    errors: list[ImportProblem]


def row_key(body: ItemCreate) -> str:
    """The Idempotency-Key a row opens under: the hash of what it opens, not of the file around it.

    Keyed by the file, a file saved again or with one row corrected opened every row a second time.
    """
    return f"import:{request_hash(body)}"


def _summary(report: dict[str, Any]) -> str:
    if report["invalid"] and not report["only_valid"] and not report["dry_run"]:
        return (
            f"共 {report['total']} 行，{report['invalid']} 行有误，未立项任何事项；"
            "请修改后重新上传，或选择仅导入无误的行"
        )
    if report["dry_run"]:
        return (
            f"预览：共 {report['total']} 行，{report['valid']} 行可立项，"
            f"{report['invalid']} 行有误；未立项任何事项"
        )
    parts = [f"共 {report['total']} 行", f"新立项 {report['opened']} 项"]
    if report["already_opened"]:
        parts.append(f"{report['already_opened']} 行此前已立项")
    if report["invalid"]:
        parts.append(f"{report['invalid']} 行有误未导入")
    if report["failed"]:
        parts.append(f"{report['failed']} 行立项失败，可重新上传同一文件重试")
    return "，".join(parts)


Progress = Callable[[int, int], None]


async def import_items(
    services: Services,
    actor: Actor,
    data: bytes,
    *,
    dry_run: bool,
    only_valid: bool,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate every row of the file, then (unless a dry run) open them through `open_one`.

    Raises ImportFileRefused / ImportFileTooLarge for a file that is not a 立项 list at all.
    `progress(done, total)` is told after each opening.
    """
    sheet = read_sheet(data)
    file_sha256 = hashlib.sha256(data).hexdigest()
    now = datetime.now(UTC)
    org = OrgSnapshot(list(await services.org.units()), list(await services.org.users()))
    checked = await validate_rows(sheet.rows, org, actor, now)
    invalid = sum(1 for _, body in checked if body is None)
    proceed = not dry_run and (invalid == 0 or only_valid)
    results: list[ImportRow] = []
    to_open = [(row, body) for row, body in checked if body is not None]
    done = 0
    for row, body in checked:
        cells = {h: row.text(h) or "" for h in sheet.headers if h and row.text(h) is not None}
        result = ImportRow(
            row=row.number, status="valid" if body else "invalid", cells=cells, item=body, errors=row.errors
        )
        if proceed and body is not None:
            try:
                opened = await open_one(services, actor, body, row_key(body))
            except (CommandRefused, ApiError) as failure:
                reason = failure.refusal.reason if isinstance(failure, CommandRefused) else failure.detail
                result.status = "failed"
                result.errors = [
                    ImportProblem(
                        row=row.number, column="", message=f"第 {row.number} 行：立项失败，{reason}"
                    )
                ]
            else:
                result.status = "opened" if opened.created else "already_opened"
                result.item_id, result.number = opened.item.id, opened.item.number
            done += 1
            if progress is not None:
                progress(done, len(to_open))
        results.append(result)
    counts = {
        "total": len(results),
        "valid": len(to_open),
        "invalid": invalid,
        "opened": sum(1 for r in results if r.status == "opened"),
        "already_opened": sum(1 for r in results if r.status == "already_opened"),
        "failed": sum(1 for r in results if r.status == "failed"),
    }
    return ImportReport(
        detail=_summary({**counts, "dry_run": dry_run, "only_valid": only_valid}),
        file_sha256=file_sha256,
        dry_run=dry_run,
        only_valid=only_valid,
        rows=results,
        errors=[problem for r in results for problem in r.errors],
        **counts,
    )


def refused_whole(report: ImportReport) -> bool:
    """True when the file had invalid rows and nothing was opened because of them."""
    return report.invalid > 0 and not report.dry_run and not report.only_valid


async def template_response(services: Services) -> Response:
    """The template workbook, with today's org chart in its 选项 sheet, as a download."""
    units = [unit for unit in await services.org.units() if unit.kind == "unit"]
    leaders = [user for user in await services.org.users() if user.role is Role.LEADER]
    disposition = (
        f"attachment; filename=\"import-template.xlsx\"; filename*=UTF-8''{quote(TEMPLATE_FILE_NAME)}"
    )
    return Response(
        template_workbook(units, leaders), media_type=XLSX, headers={"Content-Disposition": disposition}
    )


@router.get("/template.xlsx", summary="批量立项模板 / the bulk-opening template")
async def import_template(actor: Supervisor, services: ServicesDep) -> Response:
    """The .xlsx to fill, one row per item, with a 选项 sheet of valid units, leaders and categories."""
    return await template_response(services)


@router.post(
    "",
    summary="批量立项 / open items from a workbook",
    response_model=ImportReport,
    responses={
        201: {"model": ImportReport, "description": "已立项 / items were opened"},
        413: {"description": "文件或行数过多 / the file or its rows exceed the limit"},
        422: {"description": "文件无法识别，或有误的行（未立项）/ bad file, or invalid rows"},
    },
)
async def import_upload(
    actor: Supervisor,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description=".xlsx，按模板填写 / the filled template")],
    dry_run: Annotated[bool, Query(description="只校验并预览，不立项 / validate and preview only")] = True,
    only_valid: Annotated[bool, Query(description="仅立项无误的行 / open only the valid rows")] = False,
) -> JSONResponse:
    """Validate every row; unless `dry_run`, open them (all or nothing, or only the valid ones).

    200 with the report (dry run, or nothing new opened) · 201 when items were opened · 422 the file
    is not a 立项 list, or has invalid rows and nothing was opened (the report says which) · 413 too
    large. A row uploaded again (in this file or another) opens nothing new: it answers `already_opened`.
    """
    data = await file.read(MAX_FILE_BYTES + 1)
    report = await import_items(services, actor, data, dry_run=dry_run, only_valid=only_valid)
    code = status.HTTP_200_OK
    if refused_whole(report):
        code = 422
    elif report.opened:
        code = status.HTTP_201_CREATED
    return JSONResponse(report.model_dump(mode="json"), status_code=code)
