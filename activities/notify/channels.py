"""The outside channels: email over SMTP and the DingTalk / WeCom group robots.

Every failure is raised as an ApplicationError whose message names the channel and the
reason but never a robot URL (it carries the robot's access token). Transient failures are
retryable; a refusal that will not change on retry (a rejected recipient, a missing robot) is not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import quote_plus

import aiosmtplib
import httpx
from pydantic import BaseModel, ConfigDict, Field
from temporalio.exceptions import ApplicationError

from settings import Settings
from store.unit_secrets import UnitRobots, load_unit_secrets


class ChannelSettings(BaseModel):
    """The SMTP server, the robot switch and the units' robots; unconfigured channels are not planned."""

    model_config = ConfigDict(frozen=True)

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "duban@localhost"
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 30.0
    webhooks_enabled: bool = False
    webhook_timeout_seconds: float = 10.0
    robots: dict[str, UnitRobots] = Field(default_factory=dict)  # by unit id, from UNIT_SECRETS_FILE

    @classmethod
    def from_settings(cls, settings: Settings) -> ChannelSettings:
        """The channel part of the service's settings; with robots on, the units' robots from their file.

        Raises SecretsUnavailable when robots are on and the file is missing, open to others or malformed.
        """
        channels = cls.model_validate(settings.model_dump(include=set(cls.model_fields)))
        if not channels.webhooks_enabled:
            return channels
        return channels.model_copy(update={"robots": load_unit_secrets(settings.resolved_unit_secrets_file)})

    @property
    def email_enabled(self) -> bool:
        """True when an SMTP server is configured."""
        return bool(self.smtp_host)


async def send_email(settings: ChannelSettings, to: str, subject: str, body: str, message_id: str) -> None:
    """Send one plain-text email; the Message-ID is fixed per notice so a re-sent copy is recognisable."""
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message.set_content(body)
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            start_tls=settings.smtp_starttls,
            username=settings.smtp_user,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as refused:
        raise ApplicationError(
            f"收件人被拒绝 / recipient refused: {to}", type="EmailRefused", non_retryable=True
        ) from refused
    except (aiosmtplib.SMTPException, OSError) as error:
        raise ApplicationError(f"邮件发送失败 / SMTP failed: {error}", type="EmailFailed") from error


def dingtalk_payload(title: str, text: str) -> dict[str, Any]:
    """DingTalk's custom-robot markdown message."""
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": text},
        "at": {"atMobiles": [], "isAtAll": False},
    }


def wecom_payload(content: str) -> dict[str, Any]:
    """WeCom's group-robot markdown message."""
    return {"msgtype": "markdown", "markdown": {"content": content}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with the timestamp and sign query parameters DingTalk checks."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


async def post_robot(
    http: httpx.AsyncClient, url: str, payload: dict[str, Any], timeout_seconds: float, robot: str
) -> None:
    """POST a robot message; a transport error, a non-2xx answer or an errcode other than 0 raises."""
    try:
        response = await http.post(url, json=payload, timeout=timeout_seconds)
    except httpx.HTTPError as error:
        raise ApplicationError(
            f"{robot}不可达 / robot unreachable: {type(error).__name__}", type="RobotFailed"
        ) from error
    if not response.is_success:
        raise ApplicationError(f"{robot}返回 HTTP {response.status_code} / robot refused", type="RobotFailed")
    try:
        answer = response.json()
    except ValueError as error:
        raise ApplicationError(
            f"{robot}应答不是 JSON / robot answer is not JSON", type="RobotFailed"
        ) from error
    code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    if code != 0:
        raise ApplicationError(
            f"{robot}拒收 errcode {code}: {answer.get('errmsg', '')} / robot refused the message",
            type="RobotFailed",
        )
