"""Every knob in one place, with safe embedded defaults (pydantic-settings, env prefix none)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:  # imported where it is used: `duban --help` must not load the Temporal SDK
    from temporalio.service import TLSConfig

DEFAULT_SECRET = "duban-embedded-demo-secret-change-me"  # noqa: S105 — refused in production
# The tests' shared action key (environment "test" only): the API and the tests' workers agree on it.
TEST_ACTION_KEY = b"duban-test-action-signing-key"


class Settings(BaseSettings):
    """Read from the environment (and `.env`); names as in the README (DATABASE_URL, …)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["embedded", "production", "test"] = "embedded"
    data_dir: Path = Path("data")
    database_url: str = ""
    temporal_address: str = "127.0.0.1:7233"
    # `duban up` starts its own Temporal dev server unless TEMPORAL_ADDRESS is set; this forces either way.
    temporal_embedded: bool | None = None
    temporal_namespace: str = "default"
    task_queue: str = "duban-items"
    # How long an HTTP request waits for the workflow to confirm an action before answering 504.
    action_timeout_seconds: float = Field(default=30.0, gt=0)
    # TLS to the Temporal frontend: the CA alone verifies the server; cert and key add the client's (mTLS).
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    temporal_tls_server_name: str | None = None  # the name the server certificate carries, if not the host
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_ui_port: int = 8233
    jwt_secret: str = DEFAULT_SECRET
    # Shared by the API (signs every action) and every worker (refuses what it did not sign).
    # Unset: a random key in the data directory, which `duban up`'s processes share.
    action_signing_key: SecretStr | None = None
    jwt_ttl_hours: int = Field(default=12, ge=1, description="tokens' lifetime, and the longest accepted")
    # How long `POST /api/items` remembers an Idempotency-Key; after that the key opens a new item.
    idempotency_key_ttl_hours: int = Field(default=24, ge=1)
    # The pages' session cookie: signed with a key derived from JWT_SECRET, idle for at most this long.
    session_ttl_seconds: int = Field(default=8 * 3600, ge=1)
    log_level: str = "INFO"
    log_format: Literal["auto", "console", "json"] = "auto"
    seed_demo_org: bool = Field(default=True, description="load the demo org into an empty database")
    # Notification channels: email is planned only when SMTP_HOST is set, robots only when enabled.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "duban@localhost"
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 30.0
    webhooks_enabled: bool = False
    webhook_timeout_seconds: float = 10.0
    # The units' robot webhooks and 加签 secrets (TOML, mode 0600), read only when robots are enabled.
    unit_secrets_file: Path | None = None
    digest_cron: str = Field(default="30 8 * * *", description="daily reminder digest, Beijing time")
    # The rhythms (月督促, 季调度, 年评估) check daily at this time whether their working day has come.
    rhythm_cron: str = Field(default="0 9 * * *", description="daily rhythm check, Beijing time")
    # 月督促 and 季调度 go out on this working day of the month, 年评估 on January's (Chinese calendar:
    # holidays shift it).
    rhythm_workday: int = Field(default=5, ge=1, le=20, description="the N-th working day of the month")
    # An office-edited .docx template for the 通报 / 调度 documents; unset: the built-in default.
    document_template: Path | None = None
    # An office-edited .docx template for the 考核 result (年评估 draft, published assessments).
    assessment_template: Path | None = None
    # The Ed25519 key that signs audit checkpoints lives outside the database (embedded: data dir).
    audit_signer_file: Path | None = None
    checkpoint_every_minutes: int = Field(default=60, ge=1, description="signed audit checkpoint schedule")
    # The bearer token the API's /metrics asks for (Prometheus' `authorization`); unset: /metrics is
    # open, for a host where only the operator reaches the port. Compose sets it.
    metrics_token: SecretStr | None = None
    # host:port where a worker serves /metrics (the Temporal SDK's exporter); empty: no endpoint.
    worker_metrics_address: str = ""
    # Where spans go (OTLP over HTTP, e.g. http://collector:4318); empty: tracing is off.
    # The name is OpenTelemetry's own, so an operator's usual setting just works.
    otel_exporter_otlp_endpoint: str = ""

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.jwt_secret == DEFAULT_SECRET:
            raise ValueError("JWT_SECRET must be set in production (the embedded demo secret is public)")
        if self.environment == "production" and self.action_signing_key is None:
            raise ValueError(
                "ACTION_SIGNING_KEY must be set in production (shared by the API and the workers)"
            )
        if self.environment == "production" and self.audit_signer_file is None:
            raise ValueError("AUDIT_SIGNER_FILE must be set in production (the checkpoint signing key)")
        if (self.temporal_tls_cert_file is None) != (self.temporal_tls_key_file is None):
            raise ValueError("TEMPORAL_TLS_CERT_FILE 与 TEMPORAL_TLS_KEY_FILE 须同时设置 / both or none")
        if self.document_template is not None and not self.document_template.is_file():
            raise ValueError(f"DOCUMENT_TEMPLATE 文件不存在 / file not found: {self.document_template}")
        if self.assessment_template is not None and not self.assessment_template.is_file():
            raise ValueError(f"ASSESSMENT_TEMPLATE 文件不存在 / file not found: {self.assessment_template}")
        for name in ("temporal_tls_ca_file", "temporal_tls_cert_file", "temporal_tls_key_file"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"{name.upper()} 文件不存在 / file not found: {path}")
        return self

    def temporal_tls(self) -> TLSConfig | bool:
        """The TLS configuration of every Temporal connection; False (plain gRPC) when none is set."""
        if self.temporal_tls_ca_file is None and self.temporal_tls_cert_file is None:
            return False
        from temporalio.service import TLSConfig  # noqa: PLC0415 — see the TYPE_CHECKING import

        return TLSConfig(
            server_root_ca_cert=_read(self.temporal_tls_ca_file),
            client_cert=_read(self.temporal_tls_cert_file),
            client_private_key=_read(self.temporal_tls_key_file),
            domain=self.temporal_tls_server_name,
        )

    @property
    def resolved_audit_signer_file(self) -> Path:
        """AUDIT_SIGNER_FILE, or `audit-signing.key` in the data directory (embedded default)."""
        return self.audit_signer_file or self.data_dir / "audit-signing.key"

    def resolved_action_key(self) -> bytes:
        """ACTION_SIGNING_KEY; else (tests) a fixed key, or (embedded) `action-signing.key` in data_dir."""
        if self.action_signing_key is not None:
            return self.action_signing_key.get_secret_value().encode()
        if self.environment == "test":
            return TEST_ACTION_KEY
        path = self.data_dir / "action-signing.key"
        if not path.exists():
            # Written aside, then linked into place: the API and the worker may race to create it,
            # and neither may ever read a half-written key.
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
            descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
            draft.unlink()
        return path.read_bytes().strip()

    @property
    def resolved_unit_secrets_file(self) -> Path:
        """UNIT_SECRETS_FILE, or `unit-secrets.toml` in the data directory (embedded default)."""
        return self.unit_secrets_file or self.data_dir / "unit-secrets.toml"

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or the embedded SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'duban.db').resolve()}"


def _read(path: Path | None) -> bytes | None:
    return None if path is None else path.read_bytes()
