"""An audit event as people read it: its Chinese name and its payload as labelled lines.

No raw type name or dict reaches the page: units and people are named, instants are Beijing time,
an escalation says which policy rule raised it and who was told, a notice says over which channel
it reached whom (the delivery's proof) or why it did not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.instants import CHINA
from domain.ladder import LEVEL_LABELS, Audience, Level
from domain.state import signing_unit
from domain.vocabulary import (
    ACTION_LABELS,
    CATEGORY_LABELS,
    EVENT_LABELS,
    PRIORITY_LABELS,
    RATING_LABELS,
    SOURCE_LABELS,
    Category,
    Priority,
    Source,
)
from pages.web import OrgNames, short_label, templates

CHANNEL_LABELS = {"inbox": "站内消息", "email": "电子邮件", "dingtalk": "政务钉钉", "wecom": "企业微信"}
AUDIENCE_LABELS = {
    Audience.UNIT_HANDLERS: "承办人员",
    Audience.UNIT_LEADER: "单位负责人",
    Audience.RESPONSIBLE_LEADER: "责任领导",
    Audience.TOP_LEADER: "主要领导",
    Audience.DISCIPLINE: "纪检监察",
    Audience.SUPERVISOR: "督查室",
}
# A ladder's step is an action name (its label from ACTION_LABELS), or one of these, with what it
# concerns after a colon ("sign_for:fgw", "milestone:完成摸底").
STEP_LABELS = {"milestone": "时间节点", "completion": "办结", "rectify": "整改"}

# Payload fields shown, in this order, with their Chinese names; the rest (dues the ladder
# recomputes, calendars, hashes) stay in the audit export.
FIELD_LABELS = {
    "number": "编号",
    "title": "标题",
    "requirements": "要求",
    "source": "来源",
    "category": "类别",
    "priority": "紧急程度",
    "unit": "单位",
    "lead_unit": "牵头单位",
    "co_units": "协办单位",
    "leader": "责任领导",
    "deadline": "办理期限",
    "measures": "工作措施",
    "milestones": "时间节点",
    "summary": "内容",
    "percent": "完成比例",
    "milestones_done": "完成节点",
    "problems": "存在问题",
    "new_deadline": "新期限",
    "findings": "检查发现",
    "reason": "理由",
    "comment": "意见",
    "instructions": "批示",
    "rating": "评价",
    "message": "催办内容",
    "units": "催办单位",
    "text": "留言",
    "evidence": "佐证材料",
    "round": "轮次",
    "completion_due": "办结期限",
    "tags": "标签",
}


def _when(value: Any) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return str(value)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _step(step: str, names: OrgNames) -> str:
    kind, _, rest = step.partition(":")
    label = STEP_LABELS.get(kind) or ACTION_LABELS.get(kind, kind)
    # After the colon: the unit to sign for (an id), or a milestone's own name (text, shown as typed).
    unit = signing_unit(step)
    concerns = rest if unit is None else names.unit(unit)
    return f"{label}（{concerns}）" if rest else label


def _value(key: str, value: Any, names: OrgNames) -> str:
    """One payload value as text."""
    named: dict[str, Callable[[Any], str]] = {
        "source": lambda v: SOURCE_LABELS.get(Source(v), v) if v in Source._value2member_map_ else str(v),
        "category": lambda v: CATEGORY_LABELS[Category(v)] if v in Category._value2member_map_ else str(v),
        "priority": lambda v: PRIORITY_LABELS[Priority(v)] if v in Priority._value2member_map_ else str(v),
        "rating": lambda v: RATING_LABELS.get(str(v), str(v)),
        "unit": names.unit,
        "lead_unit": names.unit,
        "leader": names.user,
        "percent": lambda v: f"{v}%",
        "round": lambda v: f"第 {v} 轮",
    }
    if key in named:
        return named[key](value)
    if key.endswith("deadline") or key.endswith("_due"):
        return _when(value)
    if isinstance(value, list):
        return "；".join(_item(key, entry, names) for entry in value)
    return str(value)


def _item(key: str, entry: Any, names: OrgNames) -> str:
    if isinstance(entry, dict):
        if "due" in entry and "name" in entry:  # a 时间节点
            return f"{entry['name']}（{_when(entry['due'])[:10]}）"
        if "sha256" in entry:  # an attachment, pinned by its hash
            where = f" {entry['uri']}" if entry.get("uri") else ""
            return f"{entry.get('name', '')}{where}（SHA-256 {str(entry['sha256'])[:12]}…）"
        return "、".join(str(v) for v in entry.values())
    if key in ("co_units", "units"):
        return names.unit(str(entry))
    return str(entry)


def _ladder_lines(payload: dict[str, Any], names: OrgNames) -> list[tuple[str, str]]:
    """ReminderSent / EscalationRaised: the rung, the rule that raised it, whom it told."""
    level = payload.get("level", "")
    audience = [
        AUDIENCE_LABELS.get(Audience(a), a) for a in payload.get("audience", []) if a in set(Audience)
    ]
    return [
        ("级别", short_label(LEVEL_LABELS[Level(level)]) if level in set(Level) else str(level)),
        ("环节", _step(str(payload.get("step", "")), names)),
        ("环节期限", _when(payload.get("due"))),
        ("依据规则", str(payload.get("rule", ""))),
        ("通知对象", "、".join(audience)),
        ("通知人员", "、".join(names.unit_or_user(str(r)) for r in payload.get("recipients", []))),
    ]


def _notice_lines(kind: str, payload: dict[str, Any], names: OrgNames) -> list[tuple[str, str]]:
    """NotificationDelivered / Queued / Failed: channel, recipient and the channel's own answer."""
    channel = str(payload.get("channel", ""))
    lines = [
        ("渠道", CHANNEL_LABELS.get(channel, channel)),
        ("接收人", names.unit_or_user(str(payload.get("recipient", "")))),
        ("通知", f"第 {payload.get('notice_seq')} 条（{_level_or_kind(str(payload.get('kind', '')))}）"),
    ]
    if kind == "NotificationFailed":
        lines.append(("原因", str(payload.get("reason", ""))))
    elif payload.get("detail"):
        lines.append(("送达凭据", str(payload["detail"])))
    return lines


def _level_or_kind(kind: str) -> str:
    return short_label(LEVEL_LABELS[Level(kind)]) if kind in set(Level) else EVENT_LABELS.get(kind, kind)


def _policy_lines(payload: dict[str, Any]) -> list[tuple[str, str]]:
    policy = payload.get("policy") or {}
    rungs = "；".join(
        f"{short_label(LEVEL_LABELS[Level(r['level'])])} 期限{int(r['offset_days']):+d}个工作日"
        for r in policy.get("rungs", [])
        if r.get("level") in set(Level)
    )
    return [("督办阶梯", f"{policy.get('policy_id', '')} 第 {policy.get('version', '')} 版"), ("规则", rungs)]


def _armed_lines(payload: dict[str, Any], names: OrgNames) -> list[tuple[str, str]]:
    return [
        ("环节", _step(str(payload.get("step", "")), names)),
        ("环节期限", _when(payload.get("due"))),
        ("督办阶梯", f"{payload.get('policy_id', '')} 第 {payload.get('policy_version', '')} 版"),
        ("节点数", str(len(payload.get("rungs", [])))),
    ]


def describe(event_type: str, payload: dict[str, Any], names: OrgNames) -> list[tuple[str, str]]:
    """The event's payload as (label, text) lines, empty values left out."""
    if event_type in ("ReminderSent", "EscalationRaised"):
        lines = _ladder_lines(payload, names)
    elif event_type.startswith("Notification"):
        lines = _notice_lines(event_type, payload, names)
    elif event_type == "PolicyApplied":
        lines = _policy_lines(payload)
    elif event_type == "LadderArmed":
        lines = _armed_lines(payload, names)
    else:
        lines = [
            (label, _value(key, payload[key], names))
            for key, label in FIELD_LABELS.items()
            if payload.get(key) not in (None, "", [], {})
        ]
    return [(label, text) for label, text in lines if text]


def event_label(event_type: str) -> str:
    """The event type's Chinese name (the type itself only if the vocabulary lacks it)."""
    return EVENT_LABELS.get(event_type, event_type)


class Entry(Protocol):
    """What the timeline needs of an audit event (a `RecordedEvent` or the API's `EventPublic`)."""

    @property
    def seq(self) -> int: ...

    @property
    def type(self) -> str: ...


@dataclass(frozen=True)
class TimelineRow:
    """One row of the timeline: an event shown in full, or a run of folded entries under one line.

    Folded entries keep their own seqs (the log's), so the page accounts for every event.
    """

    event: Entry | None = None
    folded: tuple[Entry, ...] = ()

    def seqs(self) -> str:
        """The folded run's seqs as "#2–#11" (one seq alone as "#2")."""
        first, last = self.folded[0].seq, self.folded[-1].seq
        return f"#{first}" if first == last else f"#{first}–#{last}"

    def summary(self) -> str:
        """What the folded run holds, by kind: "适用督办阶梯、送达通知 ×3"."""
        counts = Counter(event_label(entry.type) for entry in self.folded)
        return "、".join(label if n == 1 else f"{label} ×{n}" for label, n in counts.items())


def timeline_rows(events: Sequence[Entry], fold: frozenset[str] = frozenset()) -> list[TimelineRow]:
    """The events in seq order, each run of consecutive events whose type is in `fold` as one row."""
    rows: list[TimelineRow] = []
    run: list[Entry] = []
    for event in events:
        if event.type in fold:
            run.append(event)
            continue
        if run:
            rows.append(TimelineRow(folded=tuple(run)))
            run = []
        rows.append(TimelineRow(event=event))
    if run:
        rows.append(TimelineRow(folded=tuple(run)))
    return rows


def install() -> None:
    """Give the templates `describe_event` and `event_label`."""
    templates.env.globals.update(describe_event=describe, event_label=event_label)
