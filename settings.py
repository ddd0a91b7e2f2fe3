"""Every knob in one place, with safe embedded defaults (pydantic-settings, env prefix none)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "duban-embedded-demo-secret-change-me"  # noqa: S105 — refused in production


class Settings(BaseSettings):
    """Read from the environment (and `.env`); names match DESIGN.md (DATABASE_URL, TEMPORAL_ADDRESS)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["embedded", "production", "test"] = "embedded"
    data_dir: Path = Path("data")
    database_url: str = ""
    temporal_address: str = "127.0.0.1:7233"
    # `duban up` starts its own Temporal dev server unless TEMPORAL_ADDRESS is set; this forces either way.
    temporal_embedded: bool | None = None
    temporal_namespace: str = "default"
    task_queue: str = "duban-items"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_ui_port: int = 8233
    jwt_secret: str = DEFAULT_SECRET
    jwt_ttl_hours: int = Field(default=12, ge=1, description="tokens' lifetime, and the longest accepted")
    # How long `POST /api/items` remembers an Idempotency-Key; after that the key opens a new item.
    idempotency_key_ttl_hours: int = Field(default=24, ge=1)
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
    digest_cron: str = Field(default="30 8 * * *", description="daily reminder digest, Beijing time")
    # The Ed25519 key that signs audit checkpoints lives outside the database (embedded: data dir).
    audit_signer_file: Path | None = None
    checkpoint_every_minutes: int = Field(default=60, ge=1, description="signed audit checkpoint schedule")

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.jwt_secret == DEFAULT_SECRET:
            raise ValueError("JWT_SECRET must be set in production (the embedded demo secret is public)")
        if self.environment == "production" and self.audit_signer_file is None:
            raise ValueError("AUDIT_SIGNER_FILE must be set in production (the checkpoint signing key)")
        return self

    @property
    def resolved_audit_signer_file(self) -> Path:
        """AUDIT_SIGNER_FILE, or `audit-signing.key` in the data directory (embedded default)."""
        return self.audit_signer_file or self.data_dir / "audit-signing.key"

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or the embedded SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'duban.db').resolve()}"
