"""Closed vocabularies of an item's attributes, with their Chinese-first labels."""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    """Where the tracked item comes from (事项来源)."""

    SUPERIOR_ASSIGNMENT = "superior_assignment"
    MEETING_DECISION = "meeting_decision"
    LEADER_INSTRUCTION = "leader_instruction"
    KEY_DOCUMENT = "key_document"
    PUBLIC_REPORT = "public_report"
    SPECIAL_INSPECTION = "special_inspection"


SOURCE_LABELS: dict[Source, str] = {
    Source.SUPERIOR_ASSIGNMENT: "上级交办",
    Source.MEETING_DECISION: "会议决定",
    Source.LEADER_INSTRUCTION: "领导批示",
    Source.KEY_DOCUMENT: "重要文件",
    Source.PUBLIC_REPORT: "群众反映",
    Source.SPECIAL_INSPECTION: "专项督查",
}


class Category(StrEnum):
    """The item's category; with priority it chooses the escalation policy."""

    MAJOR_POLICY = "major_policy"
    MAJOR_FUNDS = "major_funds"
    MAJOR_PROJECT = "major_project"
    OTHER = "other"


CATEGORY_LABELS: dict[Category, str] = {
    Category.MAJOR_POLICY: "重大政策",
    Category.MAJOR_FUNDS: "重大资金",
    Category.MAJOR_PROJECT: "重大项目",
    Category.OTHER: "其他",
}


class Priority(StrEnum):
    """How pressing the item is (一般 / 重要 / 紧急)."""

    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_LABELS: dict[Priority, str] = {
    Priority.NORMAL: "一般",
    Priority.HIGH: "重要",
    Priority.URGENT: "紧急",
}


ACTION_LABELS: dict[str, str] = {
    "open": "立项",
    "sign_for": "签收",
    "return": "退回",
    "reassign": "改派",
    "submit_plan": "报送工作方案",
    "approve_plan": "审核通过工作方案",
    "reject_plan": "退回工作方案",
    "report_progress": "报送进展",
    "request_extension": "申请延期",
    "decide_extension": "审批延期",
    "claim_completion": "申报办结",
    "inspect": "督促检查",
    "submit_report": "报送报告",
    "sign_off": "审阅签批",
    "evaluate": "跟踪问效",
    "urge": "催办",
    "comment": "留言 / 批示",
    "cancel": "撤销",
}
"""Each action's Chinese name, keyed by the action name of the API path."""


EVENT_LABELS: dict[str, str] = {
    "ItemOpened": "立项",
    "AssignmentSigned": "签收",
    "AssignmentReturned": "退回交办",
    "UnitsReassigned": "改派",
    "PlanSubmitted": "报送方案",
    "PlanApproved": "方案审核通过",
    "PlanRejected": "方案退回",
    "ProgressReported": "报送进展",
    "ExtensionRequested": "申请延期",
    "ExtensionApproved": "同意延期",
    "ExtensionRejected": "不同意延期",
    "CompletionClaimed": "申报办结",
    "InspectionPassed": "检查验收通过",
    "RectificationOrdered": "责令整改",
    "ReportSubmitted": "报送报告",
    "ReportApproved": "领导签批",
    "ReportSentBack": "报告退回",
    "ItemClosed": "办结归档",
    "ItemReopened": "重新落实",
    "ItemUrged": "催办",
    "CommentAdded": "留言 / 批示",
    "ItemCancelled": "撤销",
    "PolicyApplied": "适用督办阶梯",
    "LadderArmed": "设定督办节点",
    "ReminderSent": "到期提醒",
    "EscalationRaised": "预警升级",
    "NotificationDelivered": "通知送达",
    "NotificationQueued": "通知并入每日汇总",
    "NotificationFailed": "通知未送达",
}
"""Each audit event type's Chinese name, keyed by the event's `type`."""

RATING_LABELS: dict[str, str] = {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}
"""跟踪问效's ratings."""
