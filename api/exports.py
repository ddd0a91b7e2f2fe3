"""GET /api/items/export.xlsx: the 台账 (item ledger) as a spreadsheet, with the list's filters.

The rows come from the read model through a server-side cursor and go into an openpyxl
write-only workbook (rows are written to disk as they come), so 100,000 items never sit in
memory at once; the finished file is then streamed back in chunks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Annotated, Any, Protocol
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from openpyxl import Workbook

from api.errors import SIGNED_IN_ERRORS
from api.permissions import ItemReader, unit_scope
from api.schemas import ItemFilterQuery, ItemPublic, item_public
from api.services import Services, ServicesDep
from domain.instants import CHINA
from domain.stages import Light
from domain.vocabulary import CATEGORY_LABELS, PRIORITY_LABELS, SOURCE_LABELS

router = APIRouter(prefix="/api/items", tags=["items"], responses=SIGNED_IN_ERRORS)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_NAME = "督办台账.xlsx"
SHEET_NAME = "督办台账"
# Kept in memory up to this size, then spilled to a temporary file.
_SPOOL_BYTES = 4 * 1024 * 1024
_CHUNK_BYTES = 64 * 1024

LIGHT_LABELS = {Light.GREEN: "绿灯", Light.YELLOW: "黄灯", Light.RED: "红灯"}


@dataclass(frozen=True)
class Names:
    """Display names of units and people, from the org chart (ids stand in for unknown ones)."""

    units: Mapping[str, str]
    users: Mapping[str, str]

    def unit(self, unit_id: str) -> str:
        """A unit's name."""
        return self.units.get(unit_id, unit_id)

    def user(self, user_id: str) -> str:
        """A person's name."""
        return self.users.get(user_id, user_id)


def beijing(moment: datetime | None) -> datetime | None:
    """The instant as a Beijing wall-clock time to the second: Excel cells hold no timezone, and
    keep milliseconds at most, which a 台账 has no use for."""
    return None if moment is None else moment.astimezone(CHINA).replace(tzinfo=None, microsecond=0)


def _yes_no(flag: bool) -> str:
    return "是" if flag else "否"


def _next_due(item: ItemPublic) -> datetime | None:
    dues = [step.due for step in item.pending if step.due is not None]
    return min(dues) if dues else None


Column = tuple[str, Callable[[ItemPublic, Names], Any]]

COLUMNS: list[Column] = [
    ("编号", lambda item, _: item.number),
    ("事项名称", lambda item, _: item.title),
    ("事项来源", lambda item, _: SOURCE_LABELS[item.source] if item.source else ""),
    ("事项类别", lambda item, _: CATEGORY_LABELS[item.category] if item.category else ""),
    ("紧急程度", lambda item, _: PRIORITY_LABELS[item.priority] if item.priority else ""),
    ("牵头单位", lambda item, names: names.unit(item.lead_unit)),
    ("协办单位", lambda item, names: "、".join(names.unit(unit) for unit in item.co_units)),
    ("责任领导", lambda item, names: names.user(item.leader)),
    ("当前阶段", lambda item, _: item.stage_label),
    ("督办灯", lambda item, _: LIGHT_LABELS[item.light]),
    ("挂牌督办", lambda item, _: _yes_no(item.flagged)),
    ("进度（%）", lambda item, _: item.percent),
    ("办理时限", lambda item, _: beijing(item.deadline)),
    ("当前待办", lambda item, _: "；".join(f"{step.actor}：{step.label}" for step in item.pending)),
    ("最近期限", lambda item, _: beijing(_next_due(item))),
    ("是否超期", lambda item, _: _yes_no(item.overdue)),
    ("立项时间", lambda item, _: beijing(item.opened_at)),
    ("最近更新", lambda item, _: beijing(item.updated_at)),
]
"""The 台账's columns: the list's fields, in Chinese, in the order the page shows them."""

HEADERS = [header for header, _ in COLUMNS]


def ledger_row(item: ItemPublic, names: Names) -> list[Any]:
    """One item as a row of the 台账."""
    return [cell(item, names) for _, cell in COLUMNS]


class _Sheet(Protocol):
    def append(self, iterable: Iterable[Any]) -> None: ...


def _append(sheet: _Sheet, rows: list[list[Any]]) -> None:
    for row in rows:
        sheet.append(row)


async def _names(services: Services) -> Names:
    units = {unit.id: unit.name for unit in await services.org.units()}
    users = {user.id: user.name for user in await services.org.users()}
    return Names(units=units, users=users)


async def _chunks(spool: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := spool.read(_CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


@router.get("/export.xlsx", summary="导出台账 / export the ledger as .xlsx")
async def export_items(
    actor: ItemReader, services: ServicesDep, query: Annotated[ItemFilterQuery, Query()]
) -> StreamingResponse:
    """Every item matching the list's filters (no paging), as an .xlsx with Chinese headers.

    Units get only the items they are assigned to, as in the list. Times are Beijing time.
    """
    now = datetime.now(UTC)
    names = await _names(services)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    sheet.freeze_panes = "A2"
    sheet.append(HEADERS)
    batches = services.items.stream(query.item_filter(), now=now, visible_to_unit=unit_scope(actor))
    async with aclosing(batches):
        async for states in batches:
            rows = [ledger_row(item_public(state, now), names) for state in states]
            # openpyxl is synchronous: a batch at a time in a thread keeps other requests moving.
            await asyncio.to_thread(_append, sheet, rows)
    spool: IO[bytes] = SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 — closed by _chunks
    await asyncio.to_thread(workbook.save, spool)
    spool.seek(0)
    disposition = f"attachment; filename=\"ledger.xlsx\"; filename*=UTF-8''{quote(FILE_NAME)}"
    return StreamingResponse(_chunks(spool), media_type=XLSX, headers={"Content-Disposition": disposition})
