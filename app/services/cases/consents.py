"""Consents of the person (or their legal representative) per scope, kept as proof
(Law 91/2025 on personal data; DOMAIN.md, "Children", "Personal data").

Rules:
- A child's consent is given by the legal representative, and from age 7 the child's
  own consent is needed too (age at `given_at`, from the victim's date of birth):
  under 7, `legal_representative` or `both`; 7 to 15, only `both`; 16 and over, any.
  The date of birth is decrypted inside this service to apply the rule and never
  leaves it.
- Without a date of birth the age is not established (`app.domain.age`): a person
  who is, or is presumed, a minor (by the estimate, or while the age is unknown) is
  treated as a child: the legal representative takes part, and from an estimated 7
  the person too (`both`).
- A withdrawal takes effect at once (status `withdrawn`, `withdrawn_at`), is audited
  and is kept on record; a withdrawn consent cannot be withdrawn again (409).
- `active_consent` answers whether a consent is in force for a scope at a moment
  (for referrals that share data).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.age import CHILD_AGE, OWN_CONSENT_AGE
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import msg
from app.models import Case, CaseConsent, Referral
from app.models.case_records import ConsentGiver, ConsentScope, ConsentStatus
from app.schemas.case_records import ConsentCreate, ConsentPublic
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services import persons
from app.services.cases import timeline
from app.services.cases.access import get_readable_case
from app.services.cases.stats import age_on
from app.services.pagination import PageParams, page_of, paginate

_REPRESENTED = {ConsentGiver.LEGAL_REPRESENTATIVE, ConsentGiver.BOTH}


def allowed_givers(
    age: int | None, *, is_minor: bool, estimate: int | None = None
) -> set[ConsentGiver]:
    """Who may give consent for a person of `age` (None: no date of birth; then
    `is_minor` and the `estimate` decide)."""
    if age is None:
        if not is_minor:
            return set(ConsentGiver)
        if estimate is not None and estimate >= OWN_CONSENT_AGE:
            return {ConsentGiver.BOTH}
        return set(_REPRESENTED)
    if age < OWN_CONSENT_AGE:
        return set(_REPRESENTED)
    if age < CHILD_AGE:
        return {ConsentGiver.BOTH}
    return set(ConsentGiver)


async def _victim_birth_date(
    session: AsyncSession, keys: KeyProvider, principal: Principal, case: Case
) -> date | None:
    view = await persons.read_person(
        session, keys, case.victim_person_id, reveal=True, actor=principal
    )
    if view.erased or not view.date_of_birth:
        return None
    try:
        return date.fromisoformat(str(view.date_of_birth))
    except ValueError:
        return None


def _in_force(row: CaseConsent, at: datetime) -> bool:
    return (
        row.status == ConsentStatus.ACTIVE.value
        and row.given_at <= at
        and (row.expires_at is None or row.expires_at > at)
    )


def _public(row: CaseConsent) -> ConsentPublic:
    return ConsentPublic(
        id=row.id,
        case_id=row.case_id,
        scope=ConsentScope(row.scope),
        given_by=ConsentGiver(row.given_by),
        given_at=row.given_at,
        expires_at=row.expires_at,
        status=ConsentStatus(row.status),
        in_force=_in_force(row, datetime.now(UTC)),
        withdrawn_at=row.withdrawn_at,
        withdrawn_by=row.withdrawn_by,
        recorded_by=row.recorded_by,
        created_at=row.created_at,
    )


async def create_consent(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    body: ConsentCreate,
) -> ConsentPublic:
    """Record a consent, refusing a giver the person's age does not allow (422)."""
    case = await get_readable_case(session, principal, case_id, action="consent.create")
    birth = await _victim_birth_date(session, keys, principal, case)
    age = age_on(birth, body.given_at.date()) if birth else None
    allowed = allowed_givers(age, is_minor=case.is_minor, estimate=case.age_estimate)
    if body.given_by not in allowed:
        # Says which givers are valid, never the age or the date of birth.
        raise ValidationFailed(
            [
                {
                    "field": "given_by",
                    "message": msg(
                        "for this person consent must be given by: {givers}",
                        givers=", ".join(sorted(g.value for g in allowed)),
                    ),
                }
            ]
        )
    row = CaseConsent(
        case_id=case.id,
        scope=body.scope.value,
        given_by=body.given_by.value,
        given_at=body.given_at,
        expires_at=body.expires_at,
        recorded_by=principal.actor_id,
    )
    session.add(row)
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "consent_given",
        principal=principal,
        ref_type="consent",
        ref_id=row.id,
        detail=f"{row.scope}:{row.given_by}",
    )
    await audit.record(
        session,
        action="consent.create",
        resource_type="consent",
        resource_id=row.id,
        principal=principal,
        person_id=case.victim_person_id,
    )
    return _public(row)


async def withdraw_consent(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, consent_id: uuid.UUID
) -> ConsentPublic:
    """Withdraw a consent now; 409 if it already was."""
    action = "consent.withdraw"
    case = await get_readable_case(session, principal, case_id, action=action)
    row = (
        await session.execute(
            select(CaseConsent)
            .where(col(CaseConsent.id) == consent_id, col(CaseConsent.case_id) == case.id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound()
    if row.status == ConsentStatus.WITHDRAWN.value:
        raise Conflict("This consent has already been withdrawn.")
    row.status = ConsentStatus.WITHDRAWN.value
    row.withdrawn_at = datetime.now(UTC)
    row.withdrawn_by = principal.actor_id
    await session.flush()
    # The referrals resting on it lose their basis now: the case access rule and the
    # referral reads see it at the next request (`Referral.basis_ends_at`).
    await session.execute(
        update(Referral)
        .where(
            col(Referral.consent_id) == row.id,
            or_(
                col(Referral.basis_ends_at).is_(None),
                col(Referral.basis_ends_at) > row.withdrawn_at,
            ),
        )
        .values(basis_ends_at=row.withdrawn_at)
    )
    await timeline.append(
        session,
        case.id,
        "consent_withdrawn",
        principal=principal,
        ref_type="consent",
        ref_id=row.id,
        detail=row.scope,
    )
    await audit.record(
        session,
        action=action,
        resource_type="consent",
        resource_id=row.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("status",),
    )
    return _public(row)


async def list_consents(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, params: PageParams
) -> tuple[list[ConsentPublic], str | None]:
    """The case's consents, newest first, withdrawn ones included; audited."""
    case = await get_readable_case(session, principal, case_id, action="consent.list")
    statement = paginate(
        select(CaseConsent).where(col(CaseConsent.case_id) == case.id),
        params,
        col(CaseConsent.created_at),
        col(CaseConsent.id),
    )
    rows = list((await session.execute(statement)).scalars())
    kept, cursor = page_of(rows, params, lambda r: (r.created_at, r.id))
    await audit.record(
        session,
        action="consent.list",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
    )
    return [_public(r) for r in kept], cursor


async def active_consent(
    session: AsyncSession, case_id: uuid.UUID, scope: ConsentScope | str, at: datetime
) -> CaseConsent | None:
    """The consent in force for `scope` on the case at `at` (given by then, not
    withdrawn, not expired), the most recently given one; None if there is none.
    The caller has already checked it may reach the case."""
    return (
        await session.execute(
            select(CaseConsent)
            .where(
                col(CaseConsent.case_id) == case_id,
                col(CaseConsent.scope) == ConsentScope(scope).value,
                col(CaseConsent.status) == ConsentStatus.ACTIVE.value,
                col(CaseConsent.given_at) <= at,
                or_(col(CaseConsent.expires_at).is_(None), col(CaseConsent.expires_at) > at),
            )
            .order_by(col(CaseConsent.given_at).desc(), col(CaseConsent.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
