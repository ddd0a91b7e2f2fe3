"""/api/documents: the rhythms' 通报 / 调度 documents; /api/items/{id}/dossier.xlsx: an item's dossier.

The documents cover every unit, so supervisors, leaders and auditors read them. The dossier is
one item's timeline and its chain's verification, for supervisors and auditors, and for a unit
on its own items.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from openpyxl import Workbook

from activities.documents import DOCX, XLSX
from api.errors import SIGNED_IN_ERRORS, NotFound, item_not_found
from api.permissions import require_visible, role_in
from api.services import ServicesDep
from domain.fold import fold
from domain.instants import CHINA
from domain.people import ROLE_LABELS, Actor, Role
from domain.rhythms import DOCUMENT_LABELS, DocumentKind
from domain.state import ItemState
from store.rhythms import DocumentInfo, RhythmStore
from store.verification import verify_audit_trail

router = APIRouter(tags=["documents"], responses=SIGNED_IN_ERRORS)


DocumentReader = Annotated[Actor, Depends(role_in(Role.SUPERVISOR, Role.LEADER, Role.AUDITOR))]
DossierReader = Annotated[Actor, Depends(role_in(Role.SUPERVISOR, Role.AUDITOR, Role.UNIT))]

TIMELINE_HEADERS = (
    "序号",
    "时间（北京时间）",
    "事件",
    "阶段",
    "操作人",
    "角色",
    "单位",
    "内容",
    "哈希",
    "前一哈希",
)


class DocumentPublic(DocumentInfo):
    """A stored document (without its bytes): download it from `GET /api/documents/{id}`."""

    kind_label: str


def document_public(document: DocumentInfo) -> DocumentPublic:
    """The listing form of a document, with its kind's Chinese label."""
    label = DOCUMENT_LABELS.get(DocumentKind(document.kind), document.kind)
    return DocumentPublic(**document.model_dump(), kind_label=label)


def attachment(filename: str) -> str:
    """A Content-Disposition naming a (Chinese) file name, RFC 6266 style."""
    return f"attachment; filename=\"document\"; filename*=UTF-8''{quote(filename)}"


@router.get("/api/documents", summary="生成的文件 / generated documents")
async def list_documents(actor: DocumentReader, services: ServicesDep) -> list[DocumentPublic]:
    """The 通报 and 调度 documents the rhythms generated, newest period first."""
    return [document_public(d) for d in await RhythmStore(services.sessions).documents()]


@router.get(
    "/api/documents/{document_id}",
    summary="下载文件 / download a document",
    response_class=Response,
    responses={200: {"content": {DOCX: {}, XLSX: {}}}},
)
async def download_document(
    document_id: Annotated[int, Path(ge=1, le=2**62)], actor: DocumentReader, services: ServicesDep
) -> Response:
    """The document's bytes (`.docx` or `.xlsx`), with its Chinese file name. 404 if there is none."""
    document = await RhythmStore(services.sessions).document(document_id)
    if document is None:
        raise NotFound(f"没有编号为 {document_id} 的文件 / no such document")
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": attachment(document.filename)},
    )


def _beijing(moment: datetime) -> datetime:
    return moment.astimezone(CHINA).replace(tzinfo=None, microsecond=0)


@router.get(
    "/api/items/{item_id}/dossier.xlsx",
    summary="事项档案 / an item's dossier",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def item_dossier(
    item_id: Annotated[str, Path(max_length=128)], actor: DossierReader, services: ServicesDep
) -> Response:
    """The item's timeline (every audit event, with its hashes) and its chain's verification, as `.xlsx`.

    404 no such item, or a unit asking for an item its unit is not assigned to (the same answer).
    """
    events = await services.events.read(item_id)
    if not events:
        raise item_not_found(item_id)
    state = fold(events, ItemState(id=item_id))
    require_visible(actor, state)
    report = await verify_audit_trail(services.sessions, item_id=item_id)
    book = Workbook()
    book.remove(book.worksheets[0])
    about = book.create_sheet("事项")
    for row in (
        ("编号", state.number),
        ("事项", state.title),
        ("阶段", state.stage.label),
        ("牵头单位", state.lead_unit),
        ("事件数", len(events)),
        ("审计链校验", "完好" if report.ok else "损坏"),
        ("校验结果", report.one_line()),
    ):
        about.append(list(row))
    timeline = book.create_sheet("时间线")
    timeline.append(list(TIMELINE_HEADERS))
    for event in events:
        timeline.append(
            [
                event.seq,
                _beijing(event.occurred_at),
                event.type,
                event.stage.label,
                event.actor.name or event.actor.id,
                ROLE_LABELS[event.actor.role].split(" / ")[0],
                event.actor.unit or "",
                json.dumps(event.payload, ensure_ascii=False, sort_keys=True, default=str),
                event.hash,
                event.prev_hash,
            ]
        )
    check = book.create_sheet("校验")
    check.append(["结论", "已校验事项", "已校验事件", "首个问题序号", "问题类型", "说明"])
    check.append(
        [
            "完好" if report.ok else "损坏",
            report.items_checked,
            report.events_checked,
            report.seq,
            report.kind.value if report.kind else "",
            report.problem or "",
        ]
    )
    out = io.BytesIO()
    book.save(out)
    filename = f"事项档案-{state.number or item_id}.xlsx"
    return Response(out.getvalue(), media_type=XLSX, headers={"Content-Disposition": attachment(filename)})
