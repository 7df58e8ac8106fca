"""Creating a referral.

Rules:
- Only the case's owning agency refers it (a case worker or supervisor with
  `referrals:write` who reaches the case); a case out of reach is 404, a case the
  caller reaches without owning it is 403.
- The receiving agency exists, is active and is not the sender (else 422), and its
  kind has what the purpose needs (`app.domain.agency_functions.REFERRAL_RECEIVER`:
  repatriation `repatriate` or `hand_over`, i.e. a diplomatic mission or the border
  guard; transfer `receive`; protection `protect`), else 422.
- The legal basis is `consent` when `consent_id` names a `data_sharing` consent of
  this case in force now (else 422); without one, `investigation` when the purpose is
  identification or investigation and the receiving agency's kind has the
  `investigate` function (a bank or a hospital is never sent data on that basis:
  422), `emergency` when an `emergency_reason` is given; otherwise 422. The audit row
  flags the basis (reason `legal_basis:<basis>`).
- `due_at` is in the future; by default VCM_REFERRAL_DUE_DAYS days from now.
- The note and the emergency reason are encrypted under the victim's data key. The
  answer shows what was written and the shared values as GET shows them (masked).
- The step is written to the case timeline (`referral_created`) and the audit trail
  (`referral.create`, naming the fields disclosed and the victim), and
  `referral.created` is queued for the receiving agency's webhooks.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.config import get_settings
from app.domain.agency_functions import REFERRAL_RECEIVER, lacking
from app.errors import DeniedForbidden, ValidationFailed
from app.i18n import msg
from app.models import Agency, AgencyKind, Case, Referral
from app.models.referral import LegalBasis, ReferralPurpose
from app.schemas.referrals import ReferralCreate, ReferralPublic
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import timeline
from app.services.cases.access import get_readable_case
from app.services.referrals import fields
from app.services.referrals.access import consent_in_force
from app.services.referrals.read import created_public
from app.services.webhooks.outbox import emit

ACTION = "referral.create"


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "message": message}], detail=message)


_INVESTIGATING = frozenset({ReferralPurpose.INVESTIGATION, ReferralPurpose.IDENTIFICATION})


async def _receiver_functions(
    session: AsyncSession, principal: Principal, agency_id: uuid.UUID
) -> list[str]:
    """The receiving agency kind's functions; 422 unless it is another, active agency."""
    if agency_id == principal.agency_id:
        raise _invalid("to_agency_id", "must be another agency than the sender")
    functions = (
        await session.execute(
            select(col(AgencyKind.functions))
            .join(Agency, col(Agency.kind) == col(AgencyKind.code))
            .where(col(Agency.id) == agency_id, col(Agency.is_active).is_(True))
        )
    ).scalar_one_or_none()
    if functions is None:
        raise _invalid("to_agency_id", "must be an existing, active agency")
    return list(functions)


async def _legal_basis(
    session: AsyncSession,
    body: ReferralCreate,
    case_id: uuid.UUID,
    receiver_functions: list[str],
    now: datetime,
) -> tuple[LegalBasis, datetime | None]:
    """The basis, and when it ends (a consent's expiry)."""
    if body.consent_id is not None:
        consent = await consent_in_force(session, body.consent_id, case_id, now)
        if consent is None:
            raise _invalid(
                "consent_id", "must be a data_sharing consent of this case that is in force"
            )
        return LegalBasis.CONSENT, consent.expires_at
    if body.purpose in _INVESTIGATING:
        if "investigate" not in receiver_functions:
            raise _invalid(
                "consent_id",
                "is required: the investigation basis shares data only with an agency "
                "that investigates",
            )
        return LegalBasis.INVESTIGATION, None
    if body.emergency_reason:
        return LegalBasis.EMERGENCY, None
    raise _invalid(
        "consent_id",
        "is required unless the purpose is identification or investigation or an "
        "emergency_reason is given",
    )


async def create_referral(
    session: AsyncSession, keys: KeyProvider, principal: Principal, body: ReferralCreate
) -> ReferralPublic:
    """Refer a case to another agency (rules in the module docstring)."""
    case = await get_readable_case(session, principal, body.case_id, action=ACTION)
    if case.owner_agency_id != principal.agency_id:
        await audit.record(
            session,
            action=ACTION,
            resource_type="case",
            resource_id=case.id,
            principal=principal,
            outcome="denied",
            reason="not_owning_agency",
        )
        raise DeniedForbidden("Only the agency that owns the case may refer it.")
    # Every invalid field is reported at once: the receiver, the legal basis (when it
    # can be judged without a valid receiver), the due date.
    problems: list[ValidationFailed] = []
    receiver_functions: list[str] | None = None
    try:
        receiver_functions = await _receiver_functions(session, principal, body.to_agency_id)
    except ValidationFailed as exc:
        problems.append(exc)
    needed = REFERRAL_RECEIVER.get(body.purpose.value)
    missing = None if needed is None else lacking(needed, receiver_functions or ())
    if receiver_functions is not None and missing is not None:
        problems.append(
            _invalid(
                "to_agency_id",
                msg(
                    "a {purpose} referral goes to an agency with the '{function}' function",
                    purpose=body.purpose.value,
                    function=missing,
                ),
            )
        )
    now = datetime.now(UTC)
    basis, basis_ends_at = LegalBasis.CONSENT, None
    if receiver_functions is not None or body.consent_id is not None:
        try:
            basis, basis_ends_at = await _legal_basis(
                session, body, case.id, receiver_functions or [], now
            )
        except ValidationFailed as exc:
            problems.append(exc)
    due_at = body.due_at or now + timedelta(days=get_settings().referral_due_days)
    if due_at <= now:
        problems.append(_invalid("due_at", "must be in the future"))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ValidationFailed([e for p in problems for e in p.extra["errors"]])
    referral = await record_referral(
        session,
        keys,
        principal,
        case,
        to_agency_id=body.to_agency_id,
        purpose=body.purpose,
        services=[s.value for s in body.services],
        shared_fields=[f.value for f in body.shared_fields],
        basis=basis,
        consent_id=body.consent_id,
        basis_ends_at=basis_ends_at,
        due_at=due_at,
        note=body.note,
        emergency_reason=body.emergency_reason,
        now=now,
    )
    texts = {"note": body.note or None, "emergency_reason": body.emergency_reason or None}
    return await created_public(session, keys, principal, referral, case, now, texts)


async def record_referral(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    *,
    to_agency_id: uuid.UUID,
    purpose: ReferralPurpose,
    services: list[str],
    shared_fields: list[str],
    basis: LegalBasis,
    due_at: datetime,
    now: datetime,
    consent_id: uuid.UUID | None = None,
    basis_ends_at: datetime | None = None,
    note: str | None = None,
    emergency_reason: str | None = None,
) -> Referral:
    """Write a checked referral of `case` from the caller's agency: the row (its texts
    sealed), the timeline, the audit event and the receiver's webhook event."""
    referral_id = uuid.uuid4()
    victim = case.victim_person_id
    referral = Referral(
        id=referral_id,
        case_id=case.id,
        from_agency_id=principal.agency_id,
        to_agency_id=to_agency_id,
        purpose=purpose.value,
        services=services,
        shared_fields=shared_fields,
        legal_basis=basis.value,
        consent_id=consent_id,
        basis_ends_at=basis_ends_at,
        due_at=due_at,
        note=await fields.seal(session, keys, principal, victim, referral_id, "note", note),
        emergency_reason=await fields.seal(
            session, keys, principal, victim, referral_id, "emergency_reason", emergency_reason
        ),
        created_by=principal.actor_id,
        created_by_type=principal.actor_type,
        created_at=now,
    )
    session.add(referral)
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "referral_created",
        principal=principal,
        ref_type="referral",
        ref_id=referral.id,
        detail=f"{referral.purpose}:{referral.legal_basis}",
    )
    await audit.record(
        session,
        action=ACTION,
        resource_type="referral",
        resource_id=referral.id,
        principal=principal,
        person_id=victim,
        fields=tuple(referral.shared_fields),
        purpose=fields.audit_purpose(referral),
        reason=fields.basis_reason(referral),
    )
    await emit(
        session,
        event_type="referral.created",
        agency_ids=[referral.to_agency_id],
        data={"referral_id": str(referral.id), "case_id": str(case.id)},
    )
    return referral
