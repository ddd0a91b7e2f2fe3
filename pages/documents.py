"""文件: the 通报 and 调度 documents the rhythms generated, and each rhythm's recorded runs, for the
office and the leaders — downloads go through the API's own handler."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from api import documents as document_routes
from api.documents import DocumentReader
from api.services import ServicesDep
from domain.rhythms import RHYTHM_LABELS
from pages.errors import mark_page
from pages.web import PageActor, render, require
from store.rhythms import RhythmStore

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)


@router.get("/documents")
async def documents_page(request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """Every generated document (newest period first) and the rhythms' runs: when, for whom, which hash."""
    await require(DocumentReader, actor)
    listed = await document_routes.list_documents(actor, services)
    runs = await RhythmStore(services.sessions).runs()
    return render(
        request,
        "documents.html",
        documents=listed,
        runs=runs,
        rhythm_labels={rhythm.value: label for rhythm, label in RHYTHM_LABELS.items()},
    )


@router.get("/documents/{document_id}")
async def download(
    document_id: Annotated[int, Path(ge=1, le=2**62)], actor: PageActor, services: ServicesDep
) -> Response:
    """The document's bytes, through the API's handler (404 page when there is none)."""
    await require(DocumentReader, actor)
    return await document_routes.download_document(document_id, actor, services)
