"""Settings from the environment (API.md, "Running it").

Every knob has a safe development default; `VCM_ENV=production` turns the defaults
that are only safe on a laptop into start-up errors (see `production_problems`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.security.permissions import Role
from app.security.proxies import Network, parse_networks

# Passwords that ship in examples and tutorials; a production DATABASE_URL using one
# of them is treated as a default secret.
DEFAULT_DB_PASSWORDS = frozenset({"", "postgres", "password", "changeme", "secret", "vcm", "admin"})

# Staff who can reveal a person's identity or administer users and agencies.
PRODUCTION_MFA_ROLES = frozenset(
    r.value
    for r in (
        Role.CASE_WORKER,
        Role.SUPERVISOR,
        Role.HOTLINE_OPERATOR,
        Role.AGENCY_ADMIN,
        Role.SYSTEM_ADMIN,
    )
)
USER_ROLES = frozenset(r.value for r in Role if r is not Role.INTEGRATION_CLIENT)


def _split(value: str) -> list[str]:
    return [r.strip() for r in value.split(",") if r.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    env: Literal["dev", "production"] = Field(default="dev", alias="VCM_ENV")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    data_dir: Path = Field(default=Path("var"), alias="VCM_DATA_DIR")
    keyring_path: Path | None = Field(default=None, alias="VCM_KEYRING")
    # Where the key-encryption keys are: the key ring file, or a PKCS#11 token (an HSM;
    # `app.security.keyring_pkcs11`), the file then holding the other keys only.
    kek_provider: Literal["file", "pkcs11"] = Field(default="file", alias="VCM_KEK_PROVIDER")
    pkcs11_module: Path = Field(
        default=Path("/usr/lib/softhsm/libsofthsm2.so"), alias="VCM_PKCS11_MODULE"
    )
    pkcs11_token_label: str = Field(default="vcm", alias="VCM_PKCS11_TOKEN_LABEL", min_length=1)
    pkcs11_key_label: str = Field(default="vcm-kek", alias="VCM_PKCS11_KEY_LABEL", min_length=1)
    # The token's user PIN: from the environment, or (better) a file a secret store
    # mounts (`VCM_PKCS11_PIN_FILE`, e.g. a systemd credential or a Docker secret).
    pkcs11_pin: SecretStr | None = Field(default=None, alias="VCM_PKCS11_PIN")
    pkcs11_pin_file: Path | None = Field(default=None, alias="VCM_PKCS11_PIN_FILE")
    host: str = Field(default="127.0.0.1", alias="VCM_HOST")
    port: int = Field(default=8000, alias="PORT", ge=1, le=65535)
    workers: int = Field(default=1, alias="VCM_WORKERS", ge=1, le=64)
    # /docs and /openapi.json: on in dev, off in production unless asked for.
    docs_enabled: bool | None = Field(default=None, alias="VCM_DOCS")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="VCM_CORS_ORIGINS"
    )
    log_level: str = Field(default="INFO", alias="VCM_LOG_LEVEL")

    jwt_issuer: str = Field(default="urn:vcm", alias="VCM_JWT_ISSUER")
    jwt_audience: str = Field(default="urn:vcm:api", alias="VCM_JWT_AUDIENCE")
    # The issue caps access tokens at 15 minutes: disabling a user or logging out
    # must end access within one lifetime at most.
    access_token_ttl_seconds: int = Field(default=900, alias="VCM_ACCESS_TOKEN_TTL", ge=60, le=900)
    refresh_token_ttl_seconds: int = Field(
        default=14 * 24 * 3600, alias="VCM_REFRESH_TOKEN_TTL", ge=900
    )
    # Failed sign-ins (app.services.login_throttle): per account and client address,
    # this many are free; then the address waits VCM_LOGIN_DELAY seconds, doubled for
    # each further failure (at most the window). The account itself is never locked.
    login_max_failures: int = Field(default=5, alias="VCM_LOGIN_MAX_FAILURES", ge=1)
    login_delay_seconds: int = Field(default=30, alias="VCM_LOGIN_DELAY", ge=1)
    # This many failures for one account in the window, from all addresses together,
    # are announced to its agency (webhook `user.login_burst`, audit `auth.login_burst`).
    login_burst_failures: int = Field(default=20, alias="VCM_LOGIN_BURST", ge=2)
    # An office behind one NAT address shares this counter, so it is looser than the
    # per-account one; it still stops one address from spraying many accounts.
    login_max_failures_per_address: int = Field(
        default=20, alias="VCM_LOGIN_MAX_FAILURES_PER_ADDRESS", ge=1
    )
    login_window_seconds: int = Field(default=900, alias="VCM_LOGIN_WINDOW", ge=60)
    # Roles whose users must sign in with a second factor (comma-separated role names;
    # empty: none). Unset: in production the roles that can reveal identity or
    # administer (PRODUCTION_MFA_ROLES), in dev none.
    mfa_required_roles: str | None = Field(default=None, alias="VCM_MFA_REQUIRED_ROLES")
    max_body_bytes: int = Field(default=1024 * 1024, alias="VCM_MAX_BODY_BYTES", ge=1024)
    # The reverse proxies in front of the service (CIDR blocks, comma-separated). The
    # client's address is the right-most X-Forwarded-For hop that is not one of them,
    # walking from the socket peer (app.security.proxies); none listed: the peer.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="VCM_TRUSTED_PROXIES"
    )
    # Gone: it trusted the left-most X-Forwarded-For entry, which the client writes.
    # Setting it is an error, so a deployment that relied on it is told what replaced it.
    trust_forwarded_for: bool | None = Field(default=None, alias="VCM_TRUST_FORWARDED_FOR")
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
    # How long an `Idempotency-Key` is remembered; older keys are purged on the next write.
    idempotency_retention_hours: int = Field(
        default=24, alias="VCM_IDEMPOTENCY_RETENTION_HOURS", ge=1, le=24 * 365
    )
    # How long after a case is closed its persons' identity is kept; `vcm retention run`
    # crypto-shreds it past that. None (the default) keeps it.
    identity_retention_days: int | None = Field(
        default=None, alias="VCM_IDENTITY_RETENTION_DAYS", ge=1, le=365 * 100
    )
    # A personal-data incident is to be notified to the authority within this many
    # hours of its detection (72 by default; the legal figure is not yet confirmed).
    incident_notify_hours: int = Field(
        default=72, alias="VCM_INCIDENT_NOTIFY_HOURS", ge=1, le=24 * 30
    )
    # A data subject's request (Law 91/2025) is acknowledged within this many working
    # days (weekends and `public_holidays` excluded) and completed within this many
    # calendar days of its receipt (`app.domain.working_days`).
    data_request_ack_working_days: int = Field(
        default=2, alias="VCM_DATA_REQUEST_ACK_WORKING_DAYS", ge=0, le=30
    )
    data_request_complete_days: int = Field(
        default=15, alias="VCM_DATA_REQUEST_COMPLETE_DAYS", ge=1, le=90
    )
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

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @field_validator("mfa_required_roles")
    @classmethod
    def _known_roles(cls, value: str | None) -> str | None:
        if value is not None:
            unknown = set(_split(value)) - USER_ROLES
            if unknown:
                raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
        return value

    @property
    def mfa_roles(self) -> frozenset[str]:
        """The roles that must sign in with a second factor."""
        if self.mfa_required_roles is None:
            return PRODUCTION_MFA_ROLES if self.is_production else frozenset()
        return frozenset(_split(self.mfa_required_roles))

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        try:
            return [str(n) for n in parse_networks(value)]
        except ValueError as exc:
            raise ValueError(f"VCM_TRUSTED_PROXIES lists CIDR blocks: {exc}") from exc

    @field_validator("trust_forwarded_for")
    @classmethod
    def _forwarded_for_is_gone(cls, value: bool | None) -> None:
        if value is not None:
            raise ValueError(
                "VCM_TRUST_FORWARDED_FOR is replaced by VCM_TRUSTED_PROXIES "
                "(the CIDR blocks of your reverse proxies)."
            )
        return None

    @property
    def proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def show_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else not self.is_production

    def pkcs11_user_pin(self) -> str | None:
        """The token's PIN: `VCM_PKCS11_PIN_FILE`'s first line, else `VCM_PKCS11_PIN`."""
        if self.pkcs11_pin_file is not None:
            return self.pkcs11_pin_file.read_text().splitlines()[0].strip()
        return self.pkcs11_pin.get_secret_value() if self.pkcs11_pin else None

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
        if self.kek_provider == "pkcs11" and not (self.pkcs11_pin or self.pkcs11_pin_file):
            problems.append("VCM_PKCS11_PIN_FILE (or VCM_PKCS11_PIN) is required for the HSM.")
        if not self.database_url:
            problems.append("DATABASE_URL is required in production (no embedded database).")
        else:
            if _default_db_password(self.database_url):
                problems.append("DATABASE_URL uses a default or empty password.")
        if "*" in self.cors_origins:
            problems.append("VCM_CORS_ORIGINS must list origins, not '*', in production.")
        if self.webhook_allow_private:
            problems.append("VCM_WEBHOOK_ALLOW_PRIVATE must be off in production (SSRF).")
        return problems


def _default_db_password(url: str) -> bool:
    """Whether the parsed URL carries a default password (in its user info or its
    `password` query argument), or none at all over TCP. No password is sound only
    over a Unix socket (a `host` argument that is a path), where PostgreSQL's peer
    authentication checks the operating-system user instead."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return True
    query_password = parsed.query.get("password")
    if isinstance(query_password, tuple):
        query_password = query_password[-1] if query_password else None
    password = parsed.password if parsed.password is not None else query_password
    if password:
        return str(password).lower() in DEFAULT_DB_PASSWORDS
    host = parsed.query.get("host")
    hosts = host if isinstance(host, tuple) else (host,) if host else ()
    over_socket = bool(hosts) and all(str(h).startswith("/") for h in hosts)
    return not over_socket


@lru_cache
def get_settings() -> Settings:
    return Settings()
