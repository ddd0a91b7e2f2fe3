"""The five stages of the closed loop, their labels and the traffic light."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Where an item is in the loop; `closed` and `cancelled` are terminal."""

    DEPLOY = "deploy"
    IMPLEMENT = "implement"
    INSPECT = "inspect"
    REPORT = "report"
    EVALUATE = "evaluate"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """The Chinese-first label shown to people."""
        return STAGE_LABELS[self]

    @property
    def is_open(self) -> bool:
        """True while the item still waits for someone."""
        return self not in (Stage.CLOSED, Stage.CANCELLED)


STAGE_LABELS: dict[Stage, str] = {
    Stage.DEPLOY: "研究部署 / deploy",
    Stage.IMPLEMENT: "狠抓落实 / implement",
    Stage.INSPECT: "督促检查 / inspect",
    Stage.REPORT: "及时报告 / report",
    Stage.EVALUATE: "跟踪问效 / evaluate",
    Stage.CLOSED: "办结归档 / closed",
    Stage.CANCELLED: "已撤销 / cancelled",
}


class Light(StrEnum):
    """The item's traffic light (绿灯 / 黄灯 / 红灯)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
