"""Notification activities: the inbox, email over SMTP, DingTalk / WeCom robots and the daily digest."""

from activities.notify.channels import ChannelSettings
from activities.notify.delivery import NotifyActivities

__all__ = ["ChannelSettings", "NotifyActivities"]
