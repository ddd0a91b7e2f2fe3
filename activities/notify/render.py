"""What a notice says on each channel: email subject and body, robot markdown, the daily digest."""

from __future__ import annotations

from collections.abc import Sequence

from domain.instants import CHINA
from workflows.messages import Notice

KIND_LABELS = {
    "reminder": "提醒",
    "warning": "预警",
    "overdue": "超期",
    "top": "挂牌督办",
    "urge": "催办",
}


def kind_label(kind: str) -> str:
    """The Chinese label of a notice kind (the kind itself when unknown)."""
    return KIND_LABELS.get(kind, kind)


def headline(notice: Notice) -> str:
    """One line naming the kind and the item: 【督办预警】DB-2026-000001 推进老旧小区改造."""
    return f"【督办{kind_label(notice.kind)}】{notice.number} {notice.title}"


def _facts(notice: Notice) -> list[str]:
    facts = []
    if notice.due is not None:
        facts.append(f"期限 / due：{notice.due.astimezone(CHINA):%Y-%m-%d %H:%M}（北京时间）")
    if notice.rule:
        facts.append(f"规则 / rule：{notice.rule}")
    return facts


def email_subject(notice: Notice) -> str:
    """The subject of a notice's email."""
    return headline(notice)


def email_body(notice: Notice) -> str:
    """The plain-text body of a notice's email."""
    lines = [notice.message, "", f"督办事项 / item：{notice.number} {notice.title}", *_facts(notice)]
    return "\n".join(lines) + "\n"


def robot_title(notice: Notice) -> str:
    """The short title a DingTalk robot shows in the conversation list."""
    return f"【督办{kind_label(notice.kind)}】{notice.number}"


def robot_markdown(notice: Notice) -> str:
    """The markdown a group robot (DingTalk or WeCom) posts for one notice."""
    facts = [f"- {fact}" for fact in _facts(notice)]
    return "\n\n".join([f"### {headline(notice)}", notice.message, *(["\n".join(facts)] if facts else [])])


def digest_subject(day: str, notices: Sequence[Notice]) -> str:
    """The subject of a day's digest email."""
    return f"【督办提醒汇总】{day} 共 {len(notices)} 条 / daily reminders"


def digest_body(day: str, notices: Sequence[Notice]) -> str:
    """The plain-text body of a day's digest: one block per notice, in the order they were queued."""
    blocks = [f"{day} 督办提醒汇总 / daily reminders ({len(notices)})"]
    blocks += [email_body(notice).rstrip("\n") for notice in notices]
    return "\n\n---\n\n".join(blocks) + "\n"


def digest_markdown(day: str, notices: Sequence[Notice]) -> str:
    """The markdown a group robot posts for a day's digest."""
    heading = f"### 【督办提醒汇总】{day} 共 {len(notices)} 条"
    return "\n\n".join([heading, *(f"- **{headline(n)}**：{n.message}" for n in notices)])
