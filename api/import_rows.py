"""The rows of a bulk 立项 workbook read as openings: cells to the body of `POST /api/items`,
checked by the API's own ItemCreate schema, org checks and `decide` precheck, every problem
named by row and column in Chinese (e.g. 第 3 行「办理时限」：日期格式应为 YYYY-MM-DD)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from api.import_book import HEADERS, SheetRow
from api.opening import precheck_opening
from api.org_checks import check_leader, check_units
from api.schemas import ItemCreate
from domain.people import Actor, Role
from domain.refusals import CommandRefused
from domain.vocabulary import CATEGORY_LABELS, PRIORITY_LABELS, SOURCE_LABELS
from store.org import UnitRecord, UserRecord

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
