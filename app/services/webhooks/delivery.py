"""Delivering queued webhook events: claim, check, send, record.

Rules:
- only committed outbox rows exist to be claimed, so an event whose transaction
  rolled back is never sent;
- deliveries are claimed with FOR UPDATE SKIP LOCKED in a short transaction that
  also pushes `next_attempt_at` a lease ahead, so two worker processes never send
  the same delivery at once and a crashed worker's claim is retried after the lease;
  the HTTP request runs outside any transaction;
- before each request the URL is checked again after DNS resolution (every address
  public, `app.security.ssrf`) and the request goes to the checked address (host
  pinned: URL host replaced by the address, `Host` header and TLS SNI set to the
  name), so a DNS answer changed since the check cannot redirect it; redirects are not
  followed, timeouts are short and the response body is not read;
- each try is one `webhook_attempts` row; a 2xx answer delivers, anything else is
  retried on `BACKOFF` (beyond 24 hours in total), then the delivery fails.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.config import Settings
from app.models.webhook import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from app.security import ssrf
from app.security.keyring import KeyProvider
from app.services.webhooks import signing
from app.services.webhooks.endpoints import open_secret

log = logging.getLogger("vcm.webhooks")

# The wait before retry n (1-based). Its sum is about 55.7 hours; with the jitter
# below each wait is at least half its base, so the retries span at least 27.9 hours
# (the issue asks for at least 24).
BACKOFF: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s)
    for s in (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800, 28800, 28800, 28800, 28800)
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# A claimed delivery is not claimed again for this long; the send itself is bounded
# far below it (`SEND_DEADLINE_SECONDS`).
LEASE = timedelta(minutes=2)
SEND_DEADLINE_SECONDS = 30.0
BATCH_SIZE = 20
USER_AGENT = "vcm-webhooks/1"


def retry_delay(attempt: int, rng: random.Random | None = None) -> timedelta:
    """The wait after failed attempt number `attempt` (1-based).

    "Equal jitter": half the base wait plus a uniform random part up to the other half.
    Full jitter (0 to base) would spread retries as well but could shrink the whole
    schedule towards zero, breaking the 24-hour promise; half a base keeps it.
    """
    base = BACKOFF[min(attempt, len(BACKOFF)) - 1]
    half = base.total_seconds() / 2
    return timedelta(seconds=half + (rng or _rng).uniform(0, half))


_rng = random.SystemRandom()


@dataclass(frozen=True)
class Claimed:
    delivery_id: uuid.UUID
    event_id: uuid.UUID
    payload: dict[str, Any]
    url: str
    endpoint: Any  # row with id, secret_kek_version, secret_wrapped
    attempt: int


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime, limit: int
) -> list[Claimed]:
    """Lock due pending deliveries of active endpoints, lease them, commit."""
    async with sessionmaker() as session, session.begin():
        rows = (
            await session.execute(
                select(
                    col(WebhookDelivery.id),
                    col(WebhookDelivery.event_id),
                    col(WebhookDelivery.attempt_count),
                    col(WebhookEvent.payload),
                    col(WebhookEndpoint.id).label("endpoint_id"),
                    col(WebhookEndpoint.url),
                    col(WebhookEndpoint.secret_kek_version),
                    col(WebhookEndpoint.secret_wrapped),
                )
                .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
                .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
                .where(
                    col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
                    col(WebhookDelivery.next_attempt_at) <= now,
                    col(WebhookEndpoint.is_active).is_(True),
                )
                .order_by(col(WebhookDelivery.next_attempt_at))
                .limit(limit)
                .with_for_update(of=WebhookDelivery, skip_locked=True)
            )
        ).all()
        if rows:
            await session.execute(
                update(WebhookDelivery)
                .where(col(WebhookDelivery.id).in_([r.id for r in rows]))
                .values(next_attempt_at=now + LEASE)
            )
    return [
        Claimed(
            delivery_id=r.id,
            event_id=r.event_id,
            payload=r.payload,
            url=r.url,
            endpoint=_EndpointKey(r.endpoint_id, r.secret_kek_version, r.secret_wrapped),
            attempt=r.attempt_count + 1,
        )
        for r in rows
    ]


@dataclass(frozen=True, repr=False)
class _EndpointKey:
    id: uuid.UUID
    secret_kek_version: int
    secret_wrapped: bytes


async def send(
    claimed: Claimed,
    keys: KeyProvider,
    settings: Settings,
    *,
    now: datetime,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Outcome:
    """One signed POST to the endpoint's checked, pinned address."""
    started = time.monotonic()

    def done(status_code: int | None, error: str | None) -> Outcome:
        return Outcome(status_code, error, int((time.monotonic() - started) * 1000))

    try:
        target = await ssrf.check_url(
            claimed.url,
            require_https=settings.is_production,
            allow_private=settings.webhook_allow_private,
        )
    except ssrf.UnsafeUrl as exc:
        return done(None, exc.code)
    body = json.dumps(claimed.payload, separators=(",", ":"), sort_keys=True).encode()
    try:
        secret = open_secret(keys, claimed.endpoint)
    except Exception:  # a key ring without the wrapping KEK: record it, retry later
        return done(None, "secret_unavailable")
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signing.signature_headers(secret, str(claimed.event_id), int(now.timestamp()), body),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    timeout = httpx.Timeout(
        settings.webhook_timeout_seconds, connect=min(5.0, settings.webhook_timeout_seconds)
    )
    try:
        async with httpx.AsyncClient(
            transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
        ) as client:
            request = client.build_request(
                "POST", target.pinned_url, content=body, headers=headers, extensions=extensions
            )
            # The answer's status is all that counts; its body is never read.
            response = await asyncio.wait_for(
                client.send(request, stream=True), SEND_DEADLINE_SECONDS
            )
            await response.aclose()
            return done(response.status_code, None)
    except (httpx.TimeoutException, TimeoutError):
        return done(None, "timeout")
    except httpx.ConnectError:
        return done(None, "connect_error")
    except httpx.HTTPError as exc:
        return done(None, f"http_error:{type(exc).__name__}"[:40].lower())


async def record(
    sessionmaker: async_sessionmaker[AsyncSession],
    claimed: Claimed,
    outcome: Outcome,
    *,
    now: datetime,
) -> str:
    """Write the attempt and move the delivery on; returns its new status."""
    if outcome.delivered:
        values: dict[str, Any] = {"status": DeliveryStatus.DELIVERED.value, "delivered_at": now}
    elif claimed.attempt >= MAX_ATTEMPTS:
        values = {"status": DeliveryStatus.FAILED.value}
    else:
        values = {"next_attempt_at": now + retry_delay(claimed.attempt)}
    async with sessionmaker() as session, session.begin():
        await session.execute(
            insert(WebhookAttempt).values(
                id=uuid.uuid4(),
                delivery_id=claimed.delivery_id,
                attempted_at=now,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        # Only a still-pending delivery moves: one deactivated meanwhile stays failed.
        await session.execute(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == claimed.delivery_id,
                col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
            )
            .values(
                attempt_count=claimed.attempt,
                last_status_code=outcome.status_code,
                last_error=outcome.error,
                **values,
            )
        )
    return str(values.get("status", DeliveryStatus.PENDING.value))


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: KeyProvider,
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int = BATCH_SIZE,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Claim and try up to `limit` due deliveries; returns how many were tried.

    `now` (default: the clock) decides what is due and stamps the attempts, so tests
    can step through the backoff schedule without waiting.
    """
    moment = now or datetime.now(UTC)
    batch = await claim(sessionmaker, moment, limit)
    for claimed in batch:
        outcome = await send(claimed, keys, settings, now=moment, transport=transport)
        status = await record(sessionmaker, claimed, outcome, now=moment)
        # Ids and codes only: never the URL's query or the payload.
        log.info(
            "webhook delivery %s attempt %d: %s (%s)",
            claimed.delivery_id,
            claimed.attempt,
            outcome.status_code or outcome.error,
            status,
        )
    return len(batch)
