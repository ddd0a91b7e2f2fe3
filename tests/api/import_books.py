"""Filled 立项 templates for the import's tests: rows written under the template's headers, as a
person filling it in Excel would leave them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from io import BytesIO
from typing import Any

from openpyxl import load_workbook

from api.import_book import HEADERS, ITEMS_SHEET


def fill_template(template: bytes, rows: Sequence[Mapping[str, Any]]) -> bytes:
    """`template` with `rows` (cells by header) from its second row on, saved again."""
    book = load_workbook(BytesIO(template))
    sheet = book[ITEMS_SHEET]
    for r, values in enumerate(rows, start=2):
        for header, value in values.items():
            sheet.cell(row=r, column=HEADERS.index(header) + 1, value=value)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
