"""考核: every unit's score and band for a period, one unit's breakdown, the policy's versions and
editor, the what-if side by side, and the supervisor's publish button — all through the API's own
handlers, so the page and the JSON agree and refuse alike."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api import assessment as routes
from api.assessment import DocumentFormat, Overseer, PolicyEdit, PublishBody
from api.permissions import ItemReader, Supervisor, unit_scope
from api.services import ServicesDep
from domain.assessment import BAND_LABELS, RULE_LABELS, Rule
from domain.people import Actor
from pages.errors import mark_page
from pages.web import CsrfChecked, PageActor, passes, render, require, see_other

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

Text = Annotated[str | None, Query(max_length=40)]
Version = Annotated[int | None, Query(ge=1, le=1_000_000)]
Unit = Annotated[str | None, Query(max_length=128)]

RULE_FIELDS = [rule.value for rule in Rule]


def _problem(error: ValidationError) -> str:
    return "；".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())


async def _page(
    request: Request,
    actor: Actor,
    services: ServicesDep,
    *,
    from_: str | None = None,
    to: str | None = None,
    policy_version: int | None = None,
    proposed: int | None = None,
    unit: str | None = None,
    status: int = 200,
    problem: str | None = None,
) -> Response:
    overseer = await passes(Overseer, actor)
    own = unit_scope(actor)
    # The scores, the breakdown and the what-if from one reading of the log, as the API answers each.
    view = await routes.assessment_view(
        actor,
        services,
        from_,
        to,
        policy_version,
        unit or own,
        proposed if overseer else None,
    )
    scores = view.scores
    period = {"from": scores.period_from.isoformat(), "to": scores.to.isoformat()}
    policies = await routes.list_policies(actor, services)
    publications = await routes.publications(actor, services)
    current = next(v for v in policies.versions if v.version == policies.current)
    return render(
        request,
        "assessment.html",
        status,
        scores=scores,
        period=period,
        query={"from": from_ or "", "to": to or "", "policy_version": policy_version, "proposed": proposed},
        breakdown=view.breakdown,
        what_if=view.what_if,
        policies=policies,
        current_rules=current.rules,
        publications=publications,
        can_edit=await passes(Supervisor, actor),
        overseer=overseer,
        rule_labels={rule.value: label for rule, label in RULE_LABELS.items()},
        band_labels={band.value: label for band, label in BAND_LABELS.items()},
        rule_fields=RULE_FIELDS,
        problem=problem,
    )


@router.get("/assessment")
async def assessment(  # noqa: PLR0917 — the page's query parameters
    request: Request,
    actor: PageActor,
    services: ServicesDep,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Text = None,
    policy_version: Version = None,
    proposed: Version = None,
    unit: Unit = None,
) -> Response:
    """The scores for the period, a unit's breakdown, and the what-if when a proposed version is chosen."""
    await require(ItemReader, actor)
    return await _page(
        request,
        actor,
        services,
        from_=from_ or None,
        to=to or None,
        policy_version=policy_version,
        proposed=proposed,
        unit=unit or None,
    )


def _form_rules(form: Any) -> dict[str, Any]:
    rules: dict[str, Any] = {
        field: str(form.get(field) or "0") for field in (*RULE_FIELDS, "base", "bonus_cap")
    }
    rules["early_days_cap"] = str(form.get("early_days_cap") or "0")
    rules["bands"] = {band: str(form.get(f"band_{band}") or "0") for band in ("excellent", "good", "passing")}
    return rules


@router.post("/assessment/policies", dependencies=[CsrfChecked])
async def edit_policy(request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """Publish the edited rules as the next version (in force, or a draft for what-ifs)."""
    await require(Supervisor, actor)
    form = await request.form()
    try:
        body = PolicyEdit.model_validate(
            {
                "rules": _form_rules(form),
                "note": str(form.get("note") or ""),
                "draft": bool(form.get("draft")),
            }
        )
    except ValidationError as error:
        return await _page(request, actor, services, status=422, problem=_problem(error))
    made = await routes.publish_policy(body, actor, services)
    period = urlencode({"from": str(form.get("from") or ""), "to": str(form.get("to") or "")})
    if made.draft:
        return see_other(f"/assessment?{period}&proposed={made.version}#what-if")
    return see_other(f"/assessment?{period}#policy")


@router.post("/assessment/publish", dependencies=[CsrfChecked])
async def publish(request: Request, actor: PageActor, services: ServicesDep) -> Response:
    """Publish the period's scores under the version shown."""
    await require(Supervisor, actor)
    form = await request.form()
    try:
        body = PublishBody.model_validate(
            {
                "from": str(form.get("from") or ""),
                "to": str(form.get("to") or ""),
                "policy_version": form.get("policy_version") or None,
                "note": str(form.get("note") or ""),
                "revise": bool(form.get("revise")),
            }
        )
    except ValidationError as error:
        return await _page(request, actor, services, status=422, problem=_problem(error))
    await routes.publish(body, actor, services)
    return see_other(f"/assessment?{urlencode({'from': body.period_from, 'to': body.to})}#publications")


@router.get("/assessment/publications/{position}/document")
async def publication_file(
    position: Annotated[int, Path(ge=1, le=1_000_000_000)],
    actor: PageActor,
    services: ServicesDep,
    format_: Annotated[DocumentFormat, Query(alias="format")] = DocumentFormat.DOCX,
) -> Response:
    """A published assessment as .docx / .xlsx, through the API's handler (a unit's own part for a
    unit; 404 page when there is none)."""
    await require(ItemReader, actor)
    return await routes.publication_file(position, actor, services, format_)
