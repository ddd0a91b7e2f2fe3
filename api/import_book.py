"""The bulk 立项 workbook: its template (Chinese headers, a sheet of valid choices) and its reader.

The reader only turns a file into rows of cell text; what a row means is decided in
api/importing.py with the API's own ItemCreate schema and org checks. A file that is not an
.xlsx, is empty, has unknown or missing headers or too many rows is refused as a whole.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from api.errors import ApiError
from domain.vocabulary import CATEGORY_LABELS, PRIORITY_LABELS, SOURCE_LABELS
from store.org import UnitRecord, UserRecord

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_FILE_NAME = "批量立项模板.xlsx"
ITEMS_SHEET = "立项清单"
CHOICES_SHEET = "选项"
# The request body cap is 256 KiB; the pages carry the file once more (base64) to confirm it.
MAX_FILE_BYTES = 160 * 1024
# What the archive may unpack to: a 1,000-row sheet is a few MiB; more is a zip bomb, not a list.
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
MAX_ROWS = 1000
# Rows of the template that carry the dropdowns and the date check.
TEMPLATE_ROWS = MAX_ROWS + 1


@dataclass(frozen=True)
class Column:
    """One column of the workbook: its Chinese header, whether a row must fill it, and a hint."""

    header: str
    required: bool
    hint: str
    width: int = 16


COLUMNS: tuple[Column, ...] = (
    Column("标题", True, "事项标题，最多 200 字", 30),
    Column("工作要求", True, "督办的具体要求", 40),
    Column("类别", True, "重大政策 / 重大资金 / 重大项目 / 其他"),
    Column("来源", True, "会议决定、领导批示等，见「选项」表"),
    Column("紧急程度", False, "一般 / 重要 / 紧急；不填为一般", 10),
    Column("牵头单位", True, "单位名称或代码，见「选项」表", 24),
    Column("协办单位", False, "可填多个，以顿号或逗号分隔", 24),
    Column("责任领导", True, "领导姓名或代码，见「选项」表"),
    Column("办理时限", True, "日期，格式 YYYY-MM-DD", 14),
    Column(
        "节点", False, "时间节点，名称@日期，多个以分号分隔，如：方案报送@2027-03-31; 中期评估@2027-06-30", 36
    ),
    Column("标签", False, "可填多个，以顿号或逗号分隔"),
    Column("备注", False, "附在工作要求之后", 24),
)
HEADERS = tuple(column.header for column in COLUMNS)
REQUIRED = tuple(column.header for column in COLUMNS if column.required)


class ImportFileRefused(ApiError):
    """The file as a whole cannot be read as a 立项 list: nothing in it is looked at further."""

    status_code = 422


class ImportFileTooLarge(ImportFileRefused):
    """More bytes or rows than one import takes."""

    status_code = 413


@dataclass(frozen=True)
class SheetRow:
    """One filled row of the sheet: its Excel row number and its cells by header (text, or a date)."""

    row: int
    cells: dict[str, str | date]


@dataclass(frozen=True)
class Sheet:
    """The rows of an uploaded workbook, in order, blank rows left out."""

    headers: tuple[str, ...]
    rows: list[SheetRow]


# -- the template ------------------------------------------------------------------------------


def _list_validation(formula: str, column: str, prompt: str) -> DataValidation:
    validation = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=False,  # a unit's code is as good as its name: the upload decides
        showInputMessage=True,
        prompt=prompt,
    )
    validation.add(f"{column}2:{column}{TEMPLATE_ROWS}")
    return validation


def _choices_sheet(
    book: Workbook, units: Sequence[UnitRecord], leaders: Sequence[UserRecord]
) -> dict[str, str]:
    """The second sheet: units, leaders and the closed vocabularies; returns each list's range."""
    sheet = book.create_sheet(CHOICES_SHEET)
    lists: dict[str, list[tuple[str, ...]]] = {
        "单位": [("单位代码", "单位名称", "单位类型"), *((u.id, u.name, u.type) for u in units)],
        "领导": [("领导代码", "姓名", "职务"), *((u.id, u.name, u.title) for u in leaders)],
        "类别": [("类别",), *((label,) for label in CATEGORY_LABELS.values())],
        "来源": [("来源",), *((label,) for label in SOURCE_LABELS.values())],
        "紧急程度": [("紧急程度",), *((label,) for label in PRIORITY_LABELS.values())],
    }
    ranges: dict[str, str] = {}
    first_column = 1
    bold = Font(bold=True)
    for name, rows in lists.items():
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                cell = sheet.cell(row=r, column=first_column + c, value=value)
                if r == 1:
                    cell.font = bold
        # The dropdown offers the names (the second column when there is one).
        shown = get_column_letter(first_column + (1 if len(rows[0]) > 1 else 0))
        ranges[name] = f"{quote_sheetname(CHOICES_SHEET)}!${shown}$2:${shown}${max(len(rows), 2)}"
        for c in range(len(rows[0])):
            sheet.column_dimensions[get_column_letter(first_column + c)].width = 18 if c else 12
        first_column += len(rows[0]) + 1
    return ranges


def template_workbook(units: Sequence[UnitRecord], leaders: Sequence[UserRecord]) -> bytes:
    """The template: the 立项清单 sheet (headers, hints, dropdowns, date check) and the 选项 sheet."""
    book = Workbook()
    sheet = book.create_sheet(ITEMS_SHEET)
    book.remove(book.worksheets[0])
    sheet.append(list(HEADERS))
    sheet.freeze_panes = "A2"
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    letters = {column.header: get_column_letter(i) for i, column in enumerate(COLUMNS, start=1)}
    for i, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.comment = Comment(("必填。" if column.required else "选填。") + column.hint, "duban")
        if column.required:
            cell.fill = required_fill
        sheet.column_dimensions[letters[column.header]].width = column.width
    ranges = _choices_sheet(book, units, leaders)
    for header, choice in (
        ("类别", "类别"),
        ("来源", "来源"),
        ("紧急程度", "紧急程度"),
        ("牵头单位", "单位"),
        ("责任领导", "领导"),
    ):
        sheet.add_data_validation(
            _list_validation(ranges[choice], letters[header], COLUMNS[HEADERS.index(header)].hint)
        )
    dates = DataValidation(
        type="date",
        operator="between",
        formula1="DATE(2000,1,1)",
        formula2="DATE(2100,12,31)",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="办理时限",
        error="请填写 2000-01-01 至 2100-12-31 之间的日期，格式 YYYY-MM-DD",
    )
    dates.add(f"{letters['办理时限']}2:{letters['办理时限']}{TEMPLATE_ROWS}")
    sheet.add_data_validation(dates)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


# -- the reader --------------------------------------------------------------------------------


def _cell(value: Any) -> str | date | None:
    """A cell as text (or a date when Excel holds one); None when blank."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _refuse_bombs(data: bytes) -> None:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise ImportFileRefused(
            "文件不是有效的 Excel 工作簿（.xlsx），请下载模板填写后上传 / not an .xlsx workbook"
        ) from error
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileTooLarge("工作簿解压后过大 / the workbook unpacks to too much data")


def _headers(first: Sequence[Any]) -> tuple[str, ...]:
    headers = [str(value).strip() if value is not None else "" for value in first]
    while headers and not headers[-1]:
        headers.pop()
    problems: list[str] = []
    unknown = [h or f"第 {i} 列（空）" for i, h in enumerate(headers, start=1) if h not in HEADERS]
    if unknown:
        problems.append("无法识别的列：" + "、".join(f"「{h}」" for h in unknown))
    doubled = sorted({h for h in headers if h and headers.count(h) > 1})
    if doubled:
        problems.append("重复的列：" + "、".join(f"「{h}」" for h in doubled))
    missing = [h for h in REQUIRED if h not in headers]
    if missing:
        problems.append("缺少必填列：" + "、".join(f"「{h}」" for h in missing))
    if problems:
        raise ImportFileRefused(
            "表头与模板不符，"
            + "；".join(problems)
            + "。请下载模板填写 / the headers do not match the template"
        )
    return tuple(headers)


def read_sheet(data: bytes) -> Sheet:
    """The filled rows of the uploaded workbook's 立项清单 sheet (or its first sheet).

    Raises ImportFileRefused (422) or ImportFileTooLarge (413) with a Chinese message.
    """
    if not data:
        raise ImportFileRefused("文件为空 / the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileTooLarge(
            f"文件过大，上限 {MAX_FILE_BYTES // 1024} KiB / the file exceeds {MAX_FILE_BYTES // 1024} KiB"
        )
    _refuse_bombs(data)
    try:
        book = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds (KeyError, InvalidFileException, …)
        raise ImportFileRefused(
            "文件不是有效的 Excel 工作簿（.xlsx），请下载模板填写后上传 / not an .xlsx workbook"
        ) from error
    try:
        sheet = book[ITEMS_SHEET] if ITEMS_SHEET in book.sheetnames else book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        first = next(lines, None)
        if first is None or all(_cell(value) is None for value in first):
            raise ImportFileRefused("工作表为空，没有表头 / the sheet is empty")
        headers = _headers(first)
        rows: list[SheetRow] = []
        for number, values in enumerate(lines, start=2):
            cells = {h: c for h, v in zip(headers, values, strict=False) if h and (c := _cell(v)) is not None}
            if not cells:
                continue
            if len(rows) == MAX_ROWS:
                raise ImportFileTooLarge(
                    f"行数过多，一次最多导入 {MAX_ROWS} 行 / at most {MAX_ROWS} rows per file"
                )
            rows.append(SheetRow(number, cells))
    finally:
        book.close()
    if not rows:
        raise ImportFileRefused("没有可导入的数据行（表头之下为空）/ no rows below the headers")
    return Sheet(headers, rows)
