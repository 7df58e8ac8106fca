"""KEK rotation without downtime: rewrap every person's DEK under the new version.

How a rotation runs (`vcm keys rotate`):
1. `rotate_kek` adds KEK version N+1 to the key ring file and makes it current.
   Every worker's `FileKeyProvider` notices the changed file on its next wrap, and
   unwraps with any version it holds, so reads and writes go on throughout.
2. The rotation barrier: an exclusive transaction advisory lock, taken once and
   released at once. Every creation of a DEK holds it shared while it wraps and
   inserts (`app.services.vault.new_person_key`), so once the exclusive lock is
   granted every DEK wrapped under an older version has committed or rolled back,
   and every later one sees version N+1.
3. Rewrap in batches (`rewrap_all`): each batch is one short transaction that
   selects up to `batch_size` keys with `kek_version < N` `FOR UPDATE SKIP LOCKED`
   (so it never waits on, or blocks, a request or a second rotation worker),
   unwraps each DEK and wraps it again under N, and commits. Encrypted fields are
   not touched: the DEK itself does not change. It ends when no key under an older
   version is left; rows locked by someone else are retried until they are gone.
   Then the webhook signing secrets (also wrapped by the KEK, `webhook_endpoints`) and
   the staff's TOTP secrets (`user_totp`) are rewrapped the same way; creating an
   endpoint or a TOTP enrolment holds the barrier shared as well.
4. The old KEK version stays in the key ring. Remove it only when `vcm keys status`
   shows no DEK and no webhook secret under it AND every backup holding DEKs wrapped
   by it has expired: that is also what makes an erasure final in old backups (a
   backup keeps the erased person's wrapped DEK; without the KEK that wrapped it, it
   opens nothing).

Rotating a DEK (not done by this command; needed only if one person's DEK may have
leaked): create a new DEK for the person, then, in one transaction holding the
person's row lock, decrypt every field sealed under the old key id (the key id is in
each ciphertext's header; `persons` columns, `person_documents`, and every other
table holding that person's fields) and encrypt it under the new one with the same
`FieldContext`, replace the `person_keys` row (new key_id), and commit. Blind
indexes do not change (they use the index key, not the DEK). For large documents
the re-encryption can run per document, since each ciphertext names its own key id;
the old key row is deleted only when no ciphertext names it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.audit.writer import SYSTEM_CONTEXT, AuditContext, record
from app.domain.incidents import key_context as incident_key_context
from app.models.incident import Incident
from app.models.mfa import UserTotp
from app.models.person import PersonKey
from app.models.webhook import WebhookEndpoint
from app.security.crypto import dek_wrap_context
from app.security.errors import IntegrityError
from app.security.keyring import KeyProvider, WrappedKey, rewrap_dek
from app.services import second_factor
from app.services.vault import ROTATION_BARRIER
from app.services.webhooks.endpoints import secret_context

__all__ = [
    "RewrapReport",
    "kek_version_counts",
    "rewrap_all",
    "secret_version_counts",
    "wait_for_old_wraps",
]

log = logging.getLogger("vcm.keys")

DEFAULT_BATCH_SIZE = 500
_LOCKED_RETRY_SECONDS = 0.2


@dataclass
class RewrapReport:
    """What a rewrap pass did: the version it rewrapped to, how many data keys and
    webhook secrets, and those that failed to unwrap (left under their version)."""

    kek_version: int
    rewrapped: int = 0
    batches: int = 0
    failed: list[uuid.UUID] = field(default_factory=list)
    webhook_secrets: int = 0
    # Webhook and TOTP secrets that failed to unwrap (ids of endpoints and users).
    failed_secrets: list[uuid.UUID] = field(default_factory=list)
    totp_secrets: int = 0
    # Data keys of incident descriptions (failures listed in `failed_secrets`).
    incident_keys: int = 0


async def wait_for_old_wraps(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The rotation barrier: returns once no transaction that may have wrapped a DEK
    under an older KEK version is still open."""
    async with sessionmaker() as session, session.begin():
        await session.execute(select(func.pg_advisory_xact_lock(ROTATION_BARRIER)))


@dataclass(frozen=True)
class _Wrapped:
    """A table of keys wrapped by the KEK: its columns, the wrap context of a row, and
    how a key that fails to unwrap is recorded."""

    label: str  # for the log
    id: Any
    version: Any
    blob: Any
    owner: Any  # the person the key belongs to (a column), or a NULL literal
    context: Callable[[uuid.UUID, uuid.UUID | None], bytes]  # (id, owner) -> context
    resource_type: str
    audit_field: str
    stamp: Any = None  # a column set to the time of the rewrap, if the table has one


_DATA_KEYS = _Wrapped(
    label="data key",
    id=col(PersonKey.key_id),
    version=col(PersonKey.kek_version),
    blob=col(PersonKey.wrapped),
    owner=col(PersonKey.person_id),
    context=lambda key_id, person_id: dek_wrap_context(key_id, person_id),  # type: ignore[arg-type]
    resource_type="person_key",
    audit_field="wrapped",
    stamp=col(PersonKey.rewrapped_at),
)
_WEBHOOK_SECRETS = _Wrapped(
    label="webhook signing secret",
    id=col(WebhookEndpoint.id),
    version=col(WebhookEndpoint.secret_kek_version),
    blob=col(WebhookEndpoint.secret_wrapped),
    owner=null(),
    context=lambda endpoint_id, _: secret_context(endpoint_id),
    resource_type="webhook",
    audit_field="secret",
)
_TOTP_SECRETS = _Wrapped(
    label="TOTP secret",
    id=col(UserTotp.user_id),
    version=col(UserTotp.secret_kek_version),
    blob=col(UserTotp.secret_wrapped),
    owner=null(),
    context=lambda user_id, _: second_factor.secret_context(user_id),
    resource_type="user",
    audit_field="totp_secret",
)
_INCIDENT_KEYS = _Wrapped(
    label="incident description key",
    id=col(Incident.id),
    version=col(Incident.description_kek_version),
    blob=col(Incident.description_key_wrapped),
    owner=null(),
    context=lambda incident_id, _: incident_key_context(incident_id),
    resource_type="incident",
    audit_field="description_key",
)


async def kek_version_counts(session: AsyncSession) -> dict[int, int]:
    """How many DEKs each KEK version wraps."""
    return await _counts_by(session, _DATA_KEYS)


async def secret_version_counts(session: AsyncSession) -> dict[int, int]:
    """How many secrets (webhook signing secrets and TOTP secrets) each KEK version
    wraps."""
    counts = await _counts_by(session, _WEBHOOK_SECRETS)
    for kind in (_TOTP_SECRETS, _INCIDENT_KEYS):
        for version, count in (await _counts_by(session, kind)).items():
            counts[version] = counts.get(version, 0) + count
    return dict(sorted(counts.items()))


async def _counts_by(session: AsyncSession, kind: _Wrapped) -> dict[int, int]:
    version = kind.version
    rows = await session.execute(select(version, func.count()).group_by(version).order_by(version))
    return {int(v): int(count) for v, count in rows.all()}


async def _rewrap_batch(
    session: AsyncSession,
    keys: KeyProvider,
    kind: _Wrapped,
    current: int,
    batch_size: int,
    skip: list[uuid.UUID],
    context: AuditContext,
) -> tuple[int, list[uuid.UUID]]:
    """Rewrap up to `batch_size` keys of `kind` still under an older version than
    `current`, skipping rows locked by others; returns how many, and those that failed."""
    statement = (
        select(kind.id, kind.owner, kind.version, kind.blob)
        .where(kind.version < current)
        .order_by(kind.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    if skip:
        statement = statement.where(kind.id.not_in(skip))
    rows = (await session.execute(statement)).all()
    now = datetime.now(UTC)
    failed: list[uuid.UUID] = []
    for key_id, owner, version, blob in rows:
        try:
            fresh = rewrap_dek(keys, WrappedKey(version, blob), context=kind.context(key_id, owner))
        except IntegrityError:
            # Left under its old version and reported; the rest of the batch goes on.
            log.error("%s %s (person %s) failed to unwrap", kind.label, key_id, owner)
            failed.append(key_id)
            await record(
                session,
                action="integrity.error",
                resource_type=kind.resource_type,
                resource_id=key_id,
                person_id=owner,
                fields=(kind.audit_field,),
                outcome="error",
                reason="wrapped_key_rejected",
                context=context,
            )
            continue
        values = {kind.version: fresh.kek_version, kind.blob: fresh.blob}
        if kind.stamp is not None:
            values[kind.stamp] = now
        await session.execute(update(kind.id.class_).where(kind.id == key_id).values(values))
    return len(rows) - len(failed), failed


async def _remaining(
    sessionmaker: async_sessionmaker[AsyncSession],
    kind: _Wrapped,
    current: int,
    skip: list[uuid.UUID],
) -> int:
    async with sessionmaker() as session:
        statement = select(func.count()).where(kind.version < current)
        if skip:
            statement = statement.where(kind.id.not_in(skip))
        return int((await session.execute(statement)).scalar_one())


async def _rewrap_until_done(
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: KeyProvider,
    kind: _Wrapped,
    current: int,
    *,
    batch_size: int,
    failed: list[uuid.UUID],
    context: AuditContext,
    progress: Callable[[int], None],
) -> None:
    """Rewrap `kind` in short transactions until nothing under an older version is
    left but what failed (appended to `failed`); `progress` gets each batch's count."""
    while True:
        async with sessionmaker() as session, session.begin():
            done, failed_now = await _rewrap_batch(
                session, keys, kind, current, batch_size, failed, context
            )
        failed.extend(failed_now)
        if done or failed_now:
            progress(done)
            continue
        if await _remaining(sessionmaker, kind, current, failed) == 0:
            return
        # Only rows locked by others are left (a request erasing a person, another
        # rotation worker): wait for them to be released or deleted.
        await asyncio.sleep(_LOCKED_RETRY_SECONDS)


async def rewrap_all(
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: KeyProvider,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    context: AuditContext = SYSTEM_CONTEXT,
    progress: Callable[[RewrapReport], None] | None = None,
) -> RewrapReport:
    """Rewrap every DEK, then every webhook signing secret, TOTP secret and incident key, under an
    older KEK version with the current one, in short batches, while the service runs; records
    `keys.rotate` when done.

    Call after the new version is current. Keys that fail to unwrap are recorded as
    integrity failures, left as they are, and listed in the report.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    await wait_for_old_wraps(sessionmaker)
    report = RewrapReport(kek_version=keys.current_kek_version())

    def keys_done(count: int) -> None:
        report.rewrapped += count
        report.batches += 1
        if progress:
            progress(report)

    def secrets_done(count: int) -> None:
        report.webhook_secrets += count

    def totp_done(count: int) -> None:
        report.totp_secrets += count

    def incidents_done(count: int) -> None:
        report.incident_keys += count

    await _rewrap_until_done(
        sessionmaker,
        keys,
        _DATA_KEYS,
        report.kek_version,
        batch_size=batch_size,
        failed=report.failed,
        context=context,
        progress=keys_done,
    )
    await _rewrap_until_done(
        sessionmaker,
        keys,
        _WEBHOOK_SECRETS,
        report.kek_version,
        batch_size=batch_size,
        failed=report.failed_secrets,
        context=context,
        progress=secrets_done,
    )
    await _rewrap_until_done(
        sessionmaker,
        keys,
        _TOTP_SECRETS,
        report.kek_version,
        batch_size=batch_size,
        failed=report.failed_secrets,
        context=context,
        progress=totp_done,
    )
    await _rewrap_until_done(
        sessionmaker,
        keys,
        _INCIDENT_KEYS,
        report.kek_version,
        batch_size=batch_size,
        failed=report.failed_secrets,
        context=context,
        progress=incidents_done,
    )
    failures = report.failed or report.failed_secrets
    async with sessionmaker() as session, session.begin():
        await record(
            session,
            action="keys.rotate",
            resource_type="key_ring",
            resource_id=f"kek-v{report.kek_version}",
            outcome="error" if failures else "success",
            reason="unwrap_failures" if failures else None,
            context=context,
        )
    return report
