"""The OpenAPI document is the contract: it is valid, it types every action's body and every error,
and real requests built from it alone, answered by the app and a real worker, conform to it.

Bodies here are built from the spec's schemas (required fields only, each the simplest value its
schema allows); the test adds nothing but the org's names where a field must name a real unit.
Every answer is checked against the schema the spec documents for its status.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema_rs
import pytest
from openapi_spec_validator import validate as validate_openapi

from api.item_actions import ACTION_NAMES
from bootstrap import create_app
from domain.commands import ACTIONS
from tests.api.conftest import AUDITOR, CO, LEAD, LEADER, SUPERVISOR, Api, app_settings

ERROR_STATUSES = {"401", "403", "404", "409", "422", "429", "503", "504"}
FAR_FUTURE = (datetime.now(UTC) + timedelta(days=3650)).replace(microsecond=0).isoformat()


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The app's OpenAPI document, as a client downloads it."""
    document: dict[str, Any] = create_app(app_settings("sqlite+aiosqlite://", "unused")).openapi()
    return document


def _action_path(action: str) -> str:
    return f"/api/items/{{item_id}}/actions/{action}"


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _example(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The simplest value `schema` accepts: required properties only, first enum value, minimum."""
    schema = _resolve(spec, schema)
    if "anyOf" in schema:
        return _example(spec, next(s for s in schema["anyOf"] if s.get("type") != "null"))
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _example(spec, properties[name]) for name in schema.get("required", [])}
    if kind == "string":
        if schema.get("format") == "date-time":
            return FAR_FUTURE
        return "字" * max(1, schema.get("minLength", 1))
    if kind == "integer":
        return schema.get("minimum", 0)
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    raise AssertionError(f"no example for {schema}")


def _body_for(spec: dict[str, Any], action: str) -> Any:
    request_body = spec["paths"][_action_path(action)]["post"]["requestBody"]
    return _example(spec, request_body["content"]["application/json"]["schema"])


def _conforms(spec: dict[str, Any], path: str, method: str, response: httpx.Response) -> None:
    """The answer's status is documented for the operation, and its body fits that status's schema."""
    documented = spec["paths"][path][method]["responses"]
    assert str(response.status_code) in documented, f"{method} {path}: {response.status_code} undocumented"
    schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    jsonschema_rs.validate({**schema, "components": spec["components"]}, response.json())


def test_the_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate_openapi(spec)


def test_every_action_has_its_commands_body_and_documents_every_error(spec: dict[str, Any]) -> None:
    for action in ACTION_NAMES:
        operation = spec["paths"][_action_path(action)]["post"]
        body = _resolve(spec, operation["requestBody"]["content"]["application/json"]["schema"])
        assert set(body.get("properties", {})) == set(ACTIONS[action].model_fields), action
        assert body.get("additionalProperties") is False, action  # unknown fields are refused
        assert set(operation["responses"]) >= ERROR_STATUSES, action
        assert operation["operationId"] == f"act_{action}"
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's default 422, which the API never sends
    assert schemas["ValidationErrorBody"]["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/FieldError"
    }


# The loop, one action after another on one item, each by who may perform it, with a body built
# from the spec. The test supplies only the names of real units where a field must name one.
STRAIGHT_PATH = [
    ("sign_for", LEAD, {}),
    ("sign_for", CO, {}),
    ("submit_plan", LEAD, {}),
    ("approve_plan", SUPERVISOR, {}),
    ("request_extension", LEAD, {}),
    ("decide_extension", SUPERVISOR, {}),
    ("report_progress", LEAD, {}),
    ("urge", SUPERVISOR, {}),
    ("comment", LEADER, {}),
    ("claim_completion", LEAD, {}),
    ("inspect", SUPERVISOR, {}),
    ("submit_report", SUPERVISOR, {}),
    ("sign_off", LEADER, {}),
    ("evaluate", SUPERVISOR, {}),
]
SIDE_PATH = [
    ("return", CO, {}),
    ("reassign", SUPERVISOR, {"lead_unit": "fgw", "co_units": ["zjj"]}),
    ("sign_for", LEAD, {}),
    ("sign_for", "zjj-song", {}),
    ("submit_plan", LEAD, {}),
    ("reject_plan", SUPERVISOR, {}),
    ("cancel", SUPERVISOR, {}),
]


async def test_every_action_with_a_body_built_from_the_spec_is_performed_and_answered_per_spec(
    api: Api, spec: dict[str, Any]
) -> None:
    assert {action for action, _, _ in STRAIGHT_PATH + SIDE_PATH} == set(ACTION_NAMES)
    for path in (STRAIGHT_PATH, SIDE_PATH):
        item = await api.open()
        for action, user, names in path:
            body = {**_body_for(spec, action), **names}
            response = await api.post(f"/api/items/{item['id']}/actions/{action}", user, json=body)
            assert response.status_code == 200, f"{action} {body}: {response.text}"
            _conforms(spec, _action_path(action), "post", response)
        assert response.json()["stage"] == ("closed" if path is STRAIGHT_PATH else "cancelled")


async def test_refusals_are_answered_with_the_documented_error_bodies(api: Api, spec: dict[str, Any]) -> None:
    item = await api.open()
    path = _action_path("report_progress")
    url = f"/api/items/{item['id']}/actions/report_progress"
    answers = {
        401: await api.http.post(url, json=_body_for(spec, "report_progress")),
        403: await api.post(url, AUDITOR, json={}),
        404: await api.post("/api/items/no-such-item/actions/report_progress", LEAD, json={}),
        409: await api.post(url, LEAD, json=_body_for(spec, "report_progress")),  # not signed for yet
        422: await api.post(url, LEAD, json={"percent": 101}),
    }
    for status, response in answers.items():
        assert response.status_code == status, response.text
        _conforms(spec, path, "post", response)
