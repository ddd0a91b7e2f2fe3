"""The rhythms' documents: 通报 / 调度 summaries as `.docx` from an editable template, figures as `.xlsx`.

The template is an ordinary Word file. Placeholders in its text are replaced:
`{{title}}`, `{{period}}`, `{{as_of}}`, `{{calendar}}`, `{{figures_hash}}`, `{{red_count}}`,
`{{stuck_count}}`; a paragraph holding only `{{unit_table}}`, `{{red_items}}` or `{{stuck_items}}`
becomes that table. Without a template file (setting `DOCUMENT_TEMPLATE`), the default below is
used; `duban documents template FILE` writes it out for the office to edit.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from openpyxl import Workbook

from domain.instants import CHINA
from domain.ladder import Level
from domain.statistics import (
    ASSIGNED,
    CLOSED,
    CLOSED_ON_TIME,
    FIGURE_LABELS,
    ON_TIME_RATE,
    RETURNED,
    SIGNED_LATE,
    URGED,
    Clock,
    escalations,
    overdue_now,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The per-unit columns the Word document shows (the workbook has every figure).
DOCUMENT_FIGURES = (
    ASSIGNED,
    SIGNED_LATE,
    CLOSED,
    CLOSED_ON_TIME,
    ON_TIME_RATE,
    overdue_now(Clock.COMPLETION),
    escalations(Level.OVERDUE),
    RETURNED,
    URGED,
)
TABLES = ("unit_table", "red_items", "stuck_items")
ITEM_HEADERS = ("编号", "事项", "牵头单位", "灯色", "情况")
LIGHT_LABELS = {"green": "绿", "yellow": "黄", "red": "红"}


def short_label(figure: str) -> str:
    """The Chinese part of a figure's label."""
    return FIGURE_LABELS[figure].split(" / ")[0]


def build_template(blocks: Sequence[tuple[int, str]]) -> DocxDocument:
    """A template from (level, text) blocks: level 1 or 2 a heading, 0 a paragraph."""
    document = Document()
    document.styles["Normal"].font.size = Pt(11)
    for level, text in blocks:
        if level:
            document.add_heading(text, level=level)
        else:
            document.add_paragraph(text)
    return document


def default_template() -> DocxDocument:
    """The default template: a heading, three sections with their tables, the figures' hash."""
    return build_template(
        (
            (1, "{{title}}"),
            (0, "统计期间：{{period}}　数据截至：{{as_of}}"),
            (2, "一、各单位办理情况"),
            (0, "{{unit_table}}"),
            (2, "二、红灯及超期事项（{{red_count}} 项）"),
            (0, "{{red_items}}"),
            (2, "三、久拖未动事项（{{stuck_count}} 项）"),
            (0, "{{stuck_items}}"),
            (0, "工作日历：{{calendar}}。数据指纹（SHA-256）：{{figures_hash}}"),
        )
    )


def write_default_template(path: Path, default: Callable[[], DocxDocument] = default_template) -> None:
    """Write a default template where the office can edit it (then point DOCUMENT_TEMPLATE, or
    ASSESSMENT_TEMPLATE for the 考核 result's, at it)."""
    default().save(str(path))


def load_template(
    template: Path | None, default: Callable[[], DocxDocument] = default_template
) -> DocxDocument:
    """The office's template file, or `default()` when none is set."""
    return default() if template is None else Document(str(template))


def _fill_text(paragraph: Paragraph, values: dict[str, str]) -> None:
    text = paragraph.text
    if "{{" not in text:
        return
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    runs = paragraph.runs
    if runs:  # keep the first run's formatting for the whole text
        runs[0].text = text
        for run in runs[1:]:
            run.text = ""


def _table(document: DocxDocument, headers: list[str], rows: list[list[str]]) -> Table:
    table: Table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    for line, values in zip(table.rows, [headers, *rows], strict=True):
        for cell, value in zip(line.cells, values, strict=True):
            cell.text = value
    return table


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:.1f}"
    return str(value)


def _cell(value: Any) -> str:
    return "—" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))


def _table_rows(name: str, figures: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    if name == "unit_table":
        headers = ["单位", "排名", *(short_label(f) for f in DOCUMENT_FIGURES)]
        rows = [
            [unit["label"], str(unit["rank"]), *(_cell(unit["figures"][f]) for f in DOCUMENT_FIGURES)]
            for unit in figures["units"]
        ]
        return headers, rows
    listed = figures["red_and_overdue"] if name == "red_items" else figures["stuck"]
    rows = [
        [i["number"], i["title"], i["lead_unit_name"], LIGHT_LABELS.get(i["light"], i["light"]), i["detail"]]
        for i in listed
    ]
    return list(ITEM_HEADERS), rows


def fill_template(
    document: DocxDocument, values: dict[str, str], tables: dict[str, tuple[list[str], list[list[str]]]]
) -> bytes:
    """Replace the placeholders in `document` (body and table cells): a paragraph holding only a
    name in `tables` becomes that table, every other `{{name}}` its value. The saved bytes."""
    paragraphs = list(document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                paragraphs.extend(cell.paragraphs)
    for paragraph in paragraphs:
        marker = paragraph.text.strip()
        name = marker[2:-2] if marker.startswith("{{") and marker.endswith("}}") else ""
        if name in tables:
            headers, rows = tables[name]
            table = _table(document, headers, rows)
            paragraph._p.addnext(table._tbl)
            paragraph._p.getparent().remove(paragraph._p)
        else:
            _fill_text(paragraph, values)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render_docx(title: str, figures: dict[str, Any], figures_hash: str, template: Path | None) -> bytes:
    """The document from `template` (or the default) filled with `figures`."""
    values = {
        "title": title,
        "period": f"{_day(figures['from'])} 至 {_day(figures['to'])}（{figures['period']}）",
        "as_of": _day(figures["as_of"]),
        "calendar": figures["calendar"],
        "figures_hash": figures_hash,
        "red_count": str(len(figures["red_and_overdue"])),
        "stuck_count": str(len(figures["stuck"])),
    }
    tables = {name: _table_rows(name, figures) for name in TABLES}
    return fill_template(load_template(template), values, tables)


def _day(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(CHINA).date().isoformat()


def render_xlsx(title: str, figures: dict[str, Any], figures_hash: str) -> bytes:
    """The figures as a workbook: every figure per unit, the red and overdue items, the stuck ones."""
    book = Workbook()
    book.remove(book.worksheets[0])
    sheet = book.create_sheet("各单位")
    names = list(FIGURE_LABELS)
    sheet.append(["单位代码", "单位", "排名", *(FIGURE_LABELS[n] for n in names)])
    sheet.append(["unit", "", "rank", *names])  # machine-readable figure names under the labels
    for unit in figures["units"]:
        sheet.append([unit["key"], unit["label"], unit["rank"], *(unit["figures"][n] for n in names)])
    for sheet_title, key in (("红灯及超期", "red_and_overdue"), ("久拖未动", "stuck")):
        listed = book.create_sheet(sheet_title)
        listed.append([*ITEM_HEADERS, "天数"])
        for i in figures[key]:
            listed.append([i["number"], i["title"], i["lead_unit_name"], i["light"], i["detail"], i["days"]])
    about = book.create_sheet("说明")
    for row in (
        ("标题", title),
        ("期间", figures["period"]),
        ("起", figures["from"]),
        ("止", figures["to"]),
        ("数据截至", figures["as_of"]),
        ("工作日历", figures["calendar"]),
        ("数据指纹 SHA-256", figures_hash),
    ):
        about.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
