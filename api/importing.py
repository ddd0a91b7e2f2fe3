"""Bulk 立项 from a meeting's decision list: the template, the upload, and the one service under both.

Every row is turned into the body of `POST /api/items` and validated by the same ItemCreate
schema, the same org checks and the same `decide` precheck the API applies to one opening; a
problem is reported by row and column in Chinese. Nothing is opened unless every row is valid,
or the caller asked for only the valid rows. Each row opens through `open_one` with the key
`import:<sha256 of the file>:<row>`, so the same file uploaded again opens nothing new.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Query, UploadFile, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError

from api.errors import ApiError
from api.import_book import (
    HEADERS,
    MAX_FILE_BYTES,
    TEMPLATE_FILE_NAME,
    XLSX,
    SheetRow,
    read_sheet,
    template_workbook,
)
from api.opening import open_one, precheck_opening
from api.org_checks import check_leader, check_units
from api.permissions import Supervisor
from api.schemas import ItemCreate
from api.services import Services, ServicesDep
from domain.people import Actor, Role
from domain.refusals import CommandRefused
from domain.vocabulary import CATEGORY_LABELS, PRIORITY_LABELS, SOURCE_LABELS
from store.org import UnitRecord, UserRecord

router = APIRouter(prefix="/api/items/import", tags=["items"])

RowStatus = Literal["valid", "invalid", "opened", "already_opened", "failed"]
ROW_STATUS_LABELS: dict[str, str] = {
    "valid": "可立项",
    "invalid": "有误",
    "opened": "已立项",
    "already_opened": "此前已立项",
    "failed": "立项失败",
}
# The body field each column fills (备注 is appended to 工作要求).
FIELD_COLUMNS = {
    "title": "标题",
    "requirements": "工作要求",
    "category": "类别",
    "source": "来源",
    "priority": "紧急程度",
    "lead_unit": "牵头单位",
    "co_units": "协办单位",
    "leader": "责任领导",
    "deadline": "办理时限",
    "milestones": "节点",
    "tags": "标签",
}
LIST_SEPARATORS = re.compile(r"[、,，;；\n]+")
MILESTONE_SEPARATORS = re.compile(r"[;；\n]+")
DATE_FORMAT = "日期格式应为 YYYY-MM-DD"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ImportProblem(BaseModel):
    """One problem of one cell: its row, its column, and the line that says it in Chinese."""

    row: int
    column: str
    message: str = Field(description="e.g. 第 3 行「办理时限」：日期格式应为 YYYY-MM-DD")


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


@dataclass
class OrgSnapshot:
    """The org chart read once per import: rows resolve names to codes and run the org checks on it."""

    unit_list: list[UnitRecord]
    user_list: list[UserRecord]
    by_unit_name: dict[str, str] = field(init=False)
    by_leader_name: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_unit_name = {unit.name: unit.id for unit in self.unit_list}
        self.by_leader_name = {u.name: u.id for u in self.user_list if u.role is Role.LEADER}

    async def units(self) -> Sequence[UnitRecord]:
        """Every unit."""
        return self.unit_list

    async def user(self, user_id: str) -> UserRecord | None:
        """One user, or None."""
        return next((u for u in self.user_list if u.id == user_id), None)

    def unit_code(self, given: str) -> str:
        """A unit's code, given its code or its name (an unknown one is left for check_units to name)."""
        return self.by_unit_name.get(given, given)

    def leader_code(self, given: str) -> str:
        """A leader's code, given their code or their name."""
        return self.by_leader_name.get(given, given)


class _Row:
    """One row being read: the body it makes and the problems of its cells."""

    def __init__(self, sheet_row: SheetRow) -> None:
        self.number = sheet_row.row
        self.cells = sheet_row.cells
        self.body: dict[str, Any] = {}
        self.errors: list[ImportProblem] = []

    def problem(self, column: str, message: str) -> None:
        if any(e.column == column for e in self.errors):
            return  # one problem per cell: the first says what to fix
        self.errors.append(
            ImportProblem(
                row=self.number, column=column, message=f"第 {self.number} 行「{column}」：{message}"
            )
        )

    def text(self, column: str) -> str | None:
        value = self.cells.get(column)
        if value is None:
            return None
        return value.isoformat() if isinstance(value, date) else value

    def has_problem(self, column: str) -> bool:
        return any(e.column == column for e in self.errors)


def _choice(row: _Row, column: str, labels: dict[Any, str], key: str) -> None:
    given = row.text(column)
    if given is None:
        return
    by_label = {label: value.value for value, label in labels.items()}
    by_value = {value.value: value.value for value in labels}
    found = by_label.get(given) or by_value.get(given)
    if found is None:
        row.problem(column, f"应为以下之一：{'、'.join(labels.values())}")
    else:
        row.body[key] = found


def _date(row: _Row, column: str, value: str | date) -> str | None:
    if isinstance(value, date):
        return value.isoformat()
    if ISO_DATE.match(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    row.problem(column, DATE_FORMAT)
    return None


def _milestones(row: _Row) -> None:
    given = row.cells.get("节点")
    if given is None:
        return
    if isinstance(given, date):
        row.problem("节点", "应写作 名称@YYYY-MM-DD，多个以分号分隔")
        return
    milestones: list[dict[str, str]] = []
    for i, part in enumerate((p.strip() for p in MILESTONE_SEPARATORS.split(given)), start=1):
        if not part:
            continue
        name, at, due = part.replace("＠", "@").rpartition("@")
        if not at or not name.strip():
            row.problem("节点", f"第 {i} 个节点「{part}」应写作 名称@YYYY-MM-DD")
            return
        day = _date(row, "节点", due.strip())
        if day is None:
            return
        milestones.append({"name": name.strip(), "due": day})
    row.body["milestones"] = milestones


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in LIST_SEPARATORS.split(value or "") if part.strip()]


def _body(row: _Row, org: OrgSnapshot) -> None:
    for column, key in (("标题", "title"), ("工作要求", "requirements")):
        if (given := row.text(column)) is not None:
            row.body[key] = given
    if (remark := row.text("备注")) is not None:
        row.body["requirements"] = f"{row.body.get('requirements', '')}\n备注：{remark}".strip()
    _choice(row, "类别", CATEGORY_LABELS, "category")
    _choice(row, "来源", SOURCE_LABELS, "source")
    _choice(row, "紧急程度", PRIORITY_LABELS, "priority")
    if (lead := row.text("牵头单位")) is not None:
        row.body["lead_unit"] = org.unit_code(lead)
    row.body["co_units"] = [org.unit_code(unit) for unit in _split(row.text("协办单位"))]
    if (leader := row.text("责任领导")) is not None:
        row.body["leader"] = org.leader_code(leader)
    if (deadline := row.cells.get("办理时限")) is not None and (day := _date(row, "办理时限", deadline)):
        row.body["deadline"] = day
    _milestones(row)
    row.body["tags"] = _split(row.text("标签"))


def _schema_message(error: Any) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "必填，不能为空"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "string_too_long":
        return f"过长，最多 {ctx.get('max_length')} 字"
    if kind == "too_long":
        return f"过多，最多 {ctx.get('max_length')} 项"
    if kind.startswith(("datetime", "date")):
        return DATE_FORMAT
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    return message.split(" / ", maxsplit=1)[0]


def _schema_column(loc: Sequence[Any], message: str) -> str:
    if loc and str(loc[0]) in FIELD_COLUMNS:
        return FIELD_COLUMNS[str(loc[0])]
    # Model-level rules name what they are about.
    return "节点" if "时间节点" in message else "协办单位"


def _validated(row: _Row) -> ItemCreate | None:
    try:
        return ItemCreate.model_validate(row.body)
    except ValidationError as error:
        for problem in error.errors(include_url=False):
            loc = problem.get("loc", ())
            message = _schema_message(problem)
            if loc and str(loc[0]) == "milestones" and len(loc) > 1 and isinstance(loc[1], int):
                message = f"第 {loc[1] + 1} 个节点：{message}"
            column = _schema_column(loc, message)
            if not row.has_problem(column):
                row.problem(column, message)
        return None


def _chinese(refused: CommandRefused) -> str:
    return refused.refusal.reason.split(" / ", maxsplit=1)[0]


async def _org_checked(row: _Row, org: OrgSnapshot) -> None:
    """The API's org checks on whichever units and leader the row names, each problem in its column."""
    lead, co, leader = row.body.get("lead_unit"), row.body.get("co_units") or [], row.body.get("leader")
    checks: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    if isinstance(lead, str):
        checks.append(("牵头单位", lambda: check_units(org, [lead])))
    checks.append(("协办单位", lambda: check_units(org, co)))
    if isinstance(leader, str):
        checks.append(("责任领导", lambda: check_leader(org, leader)))
    for column, check in checks:
        try:
            await check()
        except CommandRefused as refused:
            row.problem(column, _chinese(refused) + "（可填名称或代码，见模板「选项」表）")


def _prechecked(row: _Row, body: ItemCreate, actor: Actor, now: datetime) -> bool:
    """`decide`'s own precheck of the opening (deadline and milestones in the future, in order)."""
    try:
        precheck_opening(actor, body, now)
    except CommandRefused as refused:
        message = _chinese(refused)
        row.problem("节点" if "时间节点" in message else "办理时限", message)
        return False
    return True


async def validate_rows(
    rows: Sequence[SheetRow], org: OrgSnapshot, actor: Actor, now: datetime
) -> list[tuple[_Row, ItemCreate | None]]:
    """Each row with the opening it makes (None when it has problems); every cell's problem is named."""
    checked: list[tuple[_Row, ItemCreate | None]] = []
    for sheet_row in rows:
        row = _Row(sheet_row)
        _body(row, org)
        body = _validated(row)
        await _org_checked(row, org)
        if row.errors or body is None or not _prechecked(row, body, actor, now):
            # Report cell problems in the template's column order.
            row.errors.sort(key=lambda e: HEADERS.index(e.column) if e.column in HEADERS else len(HEADERS))
            body = None
        checked.append((row, body))
    return checked


def row_key(file_sha256: str, row: int) -> str:
    """The Idempotency-Key a row opens under: the file's hash and the row's number."""
    return f"import:{file_sha256}:{row}"


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
                opened = await open_one(services, actor, body, row_key(file_sha256, row.number))
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


async def template_bytes(services: Services) -> bytes:
    """The template workbook with today's org chart in its 选项 sheet."""
    units = [unit for unit in await services.org.units() if unit.kind == "unit"]
    leaders = [user for user in await services.org.users() if user.role is Role.LEADER]
    return template_workbook(units, leaders)


@router.get("/template.xlsx", summary="批量立项模板 / the bulk-opening template")
async def import_template(actor: Supervisor, services: ServicesDep) -> Response:
    """The .xlsx to fill, one row per item, with a 选项 sheet of valid units, leaders and categories."""
    disposition = (
        f"attachment; filename=\"import-template.xlsx\"; filename*=UTF-8''{quote(TEMPLATE_FILE_NAME)}"
    )
    return Response(
        await template_bytes(services), media_type=XLSX, headers={"Content-Disposition": disposition}
    )


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
    large. Uploading the same file again opens nothing new: its rows answer `already_opened`.
    """
    data = await file.read(MAX_FILE_BYTES + 1)
    report = await import_items(services, actor, data, dry_run=dry_run, only_valid=only_valid)
    code = status.HTTP_200_OK
    if refused_whole(report):
        code = 422
    elif report.opened:
        code = status.HTTP_201_CREATED
    return JSONResponse(report.model_dump(mode="json"), status_code=code)
