"""Settings from the environment (API.md, "Running it").

Every knob has a safe development default; `VCM_ENV=production` turns the defaults
that are only safe on a laptop into start-up errors (see `production_problems`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Passwords that ship in examples and tutorials; a production DATABASE_URL using one
# of them is treated as a default secret.
DEFAULT_DB_PASSWORDS = frozenset({"", "postgres", "password", "changeme", "secret", "vcm", "admin"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    env: Literal["dev", "production"] = Field(default="dev", alias="VCM_ENV")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    data_dir: Path = Field(default=Path("var"), alias="VCM_DATA_DIR")
    keyring_path: Path | None = Field(default=None, alias="VCM_KEYRING")
    host: str = Field(default="127.0.0.1", alias="VCM_HOST")
    port: int = Field(default=8000, alias="PORT", ge=1, le=65535)
    workers: int = Field(default=1, alias="VCM_WORKERS", ge=1, le=64)
    # /docs and /openapi.json: on in dev, off in production unless asked for.
    docs_enabled: bool | None = Field(default=None, alias="VCM_DOCS")
    cors_origins: list[str] = Field(default_factory=list, alias="VCM_CORS_ORIGINS")
    log_level: str = Field(default="INFO", alias="VCM_LOG_LEVEL")

    jwt_issuer: str = Field(default="urn:vcm", alias="VCM_JWT_ISSUER")
    jwt_audience: str = Field(default="urn:vcm:api", alias="VCM_JWT_AUDIENCE")
    # The issue caps access tokens at 15 minutes: disabling a user or logging out
    # must end access within one lifetime at most.
    access_token_ttl_seconds: int = Field(default=900, alias="VCM_ACCESS_TOKEN_TTL", ge=60, le=900)
    refresh_token_ttl_seconds: int = Field(
        default=14 * 24 * 3600, alias="VCM_REFRESH_TOKEN_TTL", ge=900
    )
    login_max_failures: int = Field(default=5, alias="VCM_LOGIN_MAX_FAILURES", ge=1)
    # An office behind one NAT address shares this counter, so it is looser than the
    # per-account one; it still stops one address from spraying many accounts.
    login_max_failures_per_address: int = Field(
        default=20, alias="VCM_LOGIN_MAX_FAILURES_PER_ADDRESS", ge=1
    )
    login_window_seconds: int = Field(default=900, alias="VCM_LOGIN_WINDOW", ge=60)
    max_body_bytes: int = Field(default=1024 * 1024, alias="VCM_MAX_BODY_BYTES", ge=1024)
    # Trust X-Forwarded-For only behind a known proxy; otherwise the socket peer counts.
    trust_forwarded_for: bool = Field(default=False, alias="VCM_TRUST_FORWARDED_FOR")
    # Database connections each worker keeps open (`app.db.make_engine`). Size it to
    # the requests a worker has in flight: a connection opened beyond it is closed
    # again when returned, and a new one costs a server process and every statement
    # prepared again. Measured (bench/load.py, 16 requests in flight per worker):
    # 10 churned connections, and 20 gave 17 % more reads a second and half the p99.
    # Two workers at 20 (+10 for bursts) stay within PostgreSQL's default 100.
    db_pool_size: int = Field(default=20, alias="VCM_DB_POOL_SIZE", ge=1)
    # Legal deadlines in days after intake. Initial verification: 3 days (Law 53/2024);
    # the later ones are UNCONFIRMED in the law (DOMAIN.md), so unset means none.
    deadline_initial_verification_days: int = Field(
        default=3, alias="VCM_DEADLINE_INITIAL_VERIFICATION_DAYS", ge=1
    )
    deadline_identification_days: int | None = Field(
        default=None, alias="VCM_DEADLINE_IDENTIFICATION_DAYS", ge=1
    )
    deadline_support_plan_days: int | None = Field(
        default=None, alias="VCM_DEADLINE_SUPPORT_PLAN_DAYS", ge=1
    )
    referral_due_days: int = Field(default=7, alias="VCM_REFERRAL_DUE_DAYS", ge=1, le=365)
    # A hotline report in immediate danger must be answered (triaged, forwarded or
    # closed) this many minutes after it was received, or it is listed as overdue. The
    # law sets no such deadline: this is the centre's own service level.
    hotline_immediate_danger_response_minutes: int = Field(
        default=60, alias="VCM_HOTLINE_IMMEDIATE_DANGER_RESPONSE_MINUTES", ge=1, le=7 * 24 * 60
    )
    # How long a break-glass read of a case outside the caller's access lasts.
    break_glass_minutes: int = Field(default=60, alias="VCM_BREAK_GLASS_MINUTES", ge=1, le=24 * 60)
    # The audit sealer chains committed events this often (0 turns the background
    # sealer off; verification still seals on demand) and signs a checkpoint of the
    # chain's head at most this often.
    audit_seal_interval_seconds: float = Field(default=2.0, alias="VCM_AUDIT_SEAL_INTERVAL", ge=0)
    audit_checkpoint_interval_seconds: int = Field(
        default=3600, alias="VCM_AUDIT_CHECKPOINT_INTERVAL", ge=0
    )
    # Webhook delivery worker: seconds between rounds (0: no background worker in the
    # server; `vcm worker` still runs it), per-request timeout, and whether receivers
    # on loopback/private addresses are allowed (dev and tests only; refused in
    # production, where webhook URLs must also be https).
    webhook_delivery_interval_seconds: float = Field(
        default=2.0, alias="VCM_WEBHOOK_DELIVERY_INTERVAL", ge=0
    )
    webhook_timeout_seconds: float = Field(default=10.0, alias="VCM_WEBHOOK_TIMEOUT", gt=0, le=30)
    webhook_allow_private: bool = Field(default=False, alias="VCM_WEBHOOK_ALLOW_PRIVATE")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def show_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else not self.is_production

    @property
    def resolved_keyring_path(self) -> Path:
        """The key ring in use: `VCM_KEYRING`, or the dev ring under the data folder."""
        return self.keyring_path or (self.data_dir / "keyring.json")

    def production_problems(self) -> list[str]:
        """What makes this configuration unsafe for production, one actionable line each.

        Key-ring contents (a ring generated in dev mode) are checked where the ring is
        loaded, see `app.state_setup.load_keyring`.
        """
        if not self.is_production:
            return []
        problems = []
        if self.keyring_path is None:
            problems.append("VCM_KEYRING is required in production (path of a 0600 key ring).")
        elif self.keyring_path.resolve().is_relative_to(self.data_dir.resolve()):
            problems.append(
                "VCM_KEYRING points into VCM_DATA_DIR, where dev key rings are generated; "
                "keep the production ring elsewhere."
            )
        if not self.database_url:
            problems.append("DATABASE_URL is required in production (no embedded database).")
        else:
            password = urlsplit(self.database_url).password or ""
            if password.lower() in DEFAULT_DB_PASSWORDS and "host=/" not in self.database_url:
                problems.append("DATABASE_URL uses a default or empty password.")
        if "*" in self.cors_origins:
            problems.append("VCM_CORS_ORIGINS must list origins, not '*', in production.")
        if self.webhook_allow_private:
            problems.append("VCM_WEBHOOK_ALLOW_PRIVATE must be off in production (SSRF).")
        return problems


@lru_cache
def get_settings() -> Settings:
    return Settings()
