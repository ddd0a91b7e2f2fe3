"""The `act` update's message carries the typed command, and still reads the old dict body.

Histories recorded before the change carry `body` as a plain dict of the command's fields; it
must parse into the very command the workflow used to parse from it, so replays decide the same.
A typed request travels as its command's fields and comes back equal, so the signature the API
computes is the one the worker recomputes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.contrib.pydantic import pydantic_data_converter

from domain import commands as cmd
from domain.people import Actor, Role
from workflows.messages import ACT_UPDATE, ActionRequest
from workflows.signing import request_signature

SUPERVISOR = Actor(id="sup-zhang", role=Role.SUPERVISOR, unit="dcs", name="张明")
KEY = b"test-key"
HISTORIES = Path(__file__).parents[1] / "histories"


def _recorded_requests() -> list[dict[str, Any]]:
    """Every `act` update's request as the recorded histories carry it (the old `body: dict` shape)."""
    found = []
    for history in sorted(HISTORIES.glob("*.json")):
        for event in json.loads(history.read_text())["events"]:
            accepted = event.get("workflowExecutionUpdateAcceptedEventAttributes")
            if accepted and accepted["acceptedRequest"]["input"]["name"] == ACT_UPDATE:
                payloads = accepted["acceptedRequest"]["input"]["args"]["payloads"]
                found.extend(json.loads(base64.b64decode(payload["data"])) for payload in payloads)
    return found


def test_the_recorded_requests_parse_into_the_commands_the_workflow_parsed_before() -> None:
    recorded = _recorded_requests()
    assert len(recorded) > 20
    for raw in recorded:
        request = ActionRequest.model_validate(raw)
        command_type = cmd.ACTIONS[request.action]
        assert request.command() == command_type.model_validate(raw["body"]), raw
        # Once typed, the request reads back as itself and signs the same on both sides.
        again = ActionRequest.model_validate_json(request.model_dump_json())
        assert again == request
        assert request_signature(KEY, "wf", "u", again) == request_signature(KEY, "wf", "u", request)


def test_a_typed_request_travels_as_the_commands_fields() -> None:
    request = ActionRequest(action="urge", actor=SUPERVISOR, body=cmd.Urge(message=" 抓紧 ", units=["fgw"]))
    payload = pydantic_data_converter.payload_converter.to_payloads([request])[0]
    assert json.loads(payload.data)["body"] == {"message": "抓紧", "units": ["fgw"]}
    [back] = pydantic_data_converter.payload_converter.from_payloads([payload], [ActionRequest])
    assert back == request
    assert back.command() == cmd.Urge(message="抓紧", units=["fgw"])


def test_a_body_that_is_not_its_actions_command_stays_a_dict_for_the_workflow_to_refuse() -> None:
    malformed = ActionRequest.model_validate({"action": "urge", "actor": SUPERVISOR, "body": {"units": 1}})
    unknown = ActionRequest.model_validate({"action": "dance", "actor": SUPERVISOR, "body": {}})
    assert (malformed.body, malformed.command()) == ({"units": 1}, None)
    assert (unknown.body, unknown.command()) == ({}, None)


def test_a_command_of_another_action_is_refused() -> None:
    with pytest.raises(ValidationError, match="not the command of action urge"):
        ActionRequest(action="urge", actor=SUPERVISOR, body=cmd.Cancel(reason="撤销"))
