"""导入: bulk 立项 from a workbook on a page — template, upload, preview with errors by cell, confirm.

The page runs the JSON import's own `import_items`: the preview is its dry run, the confirmation
its real run. The previewed file travels back with the confirmation as a hidden base64 field of
the same CSRF-protected form, so nothing is kept on the server between the two; the confirmation
validates the file again from its bytes, and each row's key (file hash + row) makes a second
confirmation open nothing new.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.errors import ApiError
from api.import_book import HEADERS, MAX_FILE_BYTES, ImportFileRefused
from api.importing import ROW_STATUS_LABELS, ImportReport, import_items, refused_whole, template_response
from api.permissions import Supervisor
from api.services import ServicesDep
from pages.errors import mark_page
from pages.web import CsrfChecked, PageActor, render, require

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

NO_FILE = "请选择要上传的 .xlsx 文件 / choose an .xlsx file"


def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    defaults: dict[str, Any] = {
        "report": None,
        "problem": "",
        "payload": "",
        "headers": HEADERS,
        "status_labels": ROW_STATUS_LABELS,
        "max_kib": MAX_FILE_BYTES // 1024,
    }
    return render(request, "import_items.html", status_code, **{**defaults, **context})


@router.get("/items/import")
async def import_form(request: Request, actor: PageActor) -> Response:
    """The 导入 page: download the template, upload the filled file for a preview."""
    await require(Supervisor, actor)
    return _page(request)


@router.get("/items/import/template.xlsx")
async def import_template(actor: PageActor, services: ServicesDep) -> Response:
    """The same template as `GET /api/items/import/template.xlsx`, for the signed-in supervisor."""
    await require(Supervisor, actor)
    return await template_response(services)


async def _file_bytes(form: Any) -> bytes:
    """The uploaded file, or the previewed one carried back by the confirmation."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        return await upload.read(MAX_FILE_BYTES + 1)
    payload = form.get("payload")
    if isinstance(payload, str) and payload:
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ImportFileRefused("文件内容已损坏，请重新上传 / the carried file is damaged") from error
    raise ImportFileRefused(NO_FILE)


def _cell_errors(report: ImportReport) -> dict[tuple[int, str], str]:
    return {(problem.row, problem.column): problem.message for problem in report.errors}


@router.post("/items/import", dependencies=[CsrfChecked])
async def import_upload(request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """Preview (a dry run) an uploaded file, or open the previewed one when confirmed."""
    await require(Supervisor, actor)
    form = await request.form()
    confirm = form.get("confirm") == "1"
    only_valid = form.get("only_valid") == "true"
    try:
        data = await _file_bytes(form)
        report = await import_items(services, actor, data, dry_run=not confirm, only_valid=only_valid)
    except ApiError as refused:
        return _page(request, refused.status_code, problem=refused.detail)
    status_code = 422 if refused_whole(report) else 200
    return _page(
        request,
        status_code,
        report=report,
        cell_errors=_cell_errors(report),
        payload=base64.b64encode(data).decode("ascii") if not confirm else "",
    )
