"""The timeline's words: every event type has a Chinese name, and payloads read as labelled text."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import EVENT_TYPES, SYSTEM_EVENT_TYPES
from domain.vocabulary import EVENT_LABELS
from pages.timeline import describe, event_label, timeline_rows
from pages.web import OrgNames
from store.demo_org import DEMO_ORG

NAMES = OrgNames(units={u.id: u for u in DEMO_ORG.units}, users={u.id: u for u in DEMO_ORG.users})


def test_every_event_type_has_a_chinese_label() -> None:
    assert set(EVENT_LABELS) == set(EVENT_TYPES)
    assert event_label("ItemOpened") == "立项"
    assert event_label("PlanSubmitted") == "报送方案"


def test_an_escalation_names_its_rule_step_and_recipients() -> None:
    lines = dict(
        describe(
            "EscalationRaised",
            {
                "step": "sign_for:fgw",
                "level": "overdue",
                "at": "2026-12-07T10:00:00+00:00",
                "due": "2026-12-07T10:00:00+00:00",
                "rule": "major_project/normal v1 overdue: due+0 working days",
                "audience": ["unit_handlers", "responsible_leader"],
                "recipients": ["fgw-li", "leader-wang"],
            },
            NAMES,
        )
    )
    assert lines == {
        "级别": "超期（红灯）",
        "环节": "签收（市发展和改革委员会）",
        "环节期限": "2026-12-07 18:00",
        "依据规则": "major_project/normal v1 overdue: due+0 working days",
        "通知对象": "承办人员、责任领导",
        "通知人员": "李强、王建国",
    }


def test_a_notice_shows_its_channel_recipient_and_delivery_proof() -> None:
    delivered = {"notice_seq": 7, "kind": "warning", "recipient": "fgw", "channel": "dingtalk"}
    lines = dict(describe("NotificationDelivered", {**delivered, "detail": "errcode 0, msgid 42"}, NAMES))
    assert lines == {
        "渠道": "政务钉钉",
        "接收人": "市发展和改革委员会",
        "通知": "第 7 条（预警（黄灯））",
        "送达凭据": "errcode 0, msgid 42",
    }
    failed = dict(describe("NotificationFailed", {**delivered, "reason": "HTTP 500"}, NAMES))
    assert failed["原因"] == "HTTP 500"


def test_an_action_payload_reads_as_text_not_a_dict() -> None:
    lines = describe(
        "PlanSubmitted",
        {
            "unit": "fgw",
            "measures": "分片包干",
            "milestones": [{"name": "完成摸底", "due": "2027-03-02T16:00:00+00:00"}],
        },
        NAMES,
    )
    assert lines == [
        ("单位", "市发展和改革委员会"),
        ("工作措施", "分片包干"),
        ("时间节点", "完成摸底（2027-03-03）"),
    ]


def test_folded_system_entries_keep_their_seqs_and_say_what_they_are() -> None:
    @dataclass(frozen=True)
    class Logged:
        seq: int
        type: str

    kinds = ["ItemOpened", "PolicyApplied", "LadderArmed", "LadderArmed", "AssignmentSigned", "ReminderSent"]
    events = [Logged(seq, kind) for seq, kind in enumerate(kinds, start=1)]
    rows = timeline_rows(events, SYSTEM_EVENT_TYPES)
    assert [(row.event.seq if row.event else [e.seq for e in row.folded]) for row in rows] == [
        1,
        [2, 3, 4],
        5,
        [6],
    ]
    assert (rows[1].seqs(), rows[1].summary()) == ("#2–#4", "适用督办阶梯、设定督办节点 ×2")
    assert rows[3].seqs() == "#6"
    assert all(row.event for row in timeline_rows(events))  # nothing folds unless asked
