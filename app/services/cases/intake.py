"""Case intake (tiếp nhận): a new case with its victim, accompanying minors, number,
first deadline, timeline entry, audit event, and the possible duplicates it may have.

Rules:
- The victim and the minors become persons (encrypted identity, blind indexes) of
  kinds `victim` and `minor`, linked through `case_persons`.
- The number is `<province of reception>-<year of reception>-<serial>`, allocated in
  this transaction (no gaps, no duplicates: `numbering`). The year is the Vietnamese
  calendar year of `received_at` (UTC+7).
- Status `received`; initial verification is due 3 days after reception.
- Only an agency whose kind receives cases (`receive`) opens one: else 403
  `agency-function-required` (a bank, a hospital, the hotline centre, ...).
- `is_child` (under 16) and `is_minor` (under 18) are the age at reception, from the
  date of birth, else the estimate, else presumed a minor (`app.domain.age`).
- A minor's case is notified at once to the province's child protection, and a case a
  commune receives to the province's social-affairs lead (`first_days`); an intake by
  any other body records the commune the person was brought to, and when.
- The caller's agency receives only where `jurisdiction` allows (its province, its
  posts, anywhere for a national kind).
- Possible duplicates (same national ID, phone, or full name with date of birth) are
  reported, never merged, and only among cases the caller may read: a match in a case
  out of reach is not revealed, not even by its number.
- `case.created` is queued for the lead agency's webhooks (`events`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.agency_functions import OPEN_CASE
from app.domain.workflow import CaseStatus
from app.errors import ValidationFailed
from app.models import Case, CasePerson, HotlineReport, Province
from app.models.person import PersonKind
from app.schemas.case import CaseCreate, PossibleDuplicate
from app.security.blind_index import BlindIndexer
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services import case_persons, persons, persons_search
from app.services.agency_functions import require_own
from app.services.case_persons import CasePersonView
from app.services.cases import events, first_days, jurisdiction, numbering, stats, timeline
from app.services.cases.access import readable_cases
from app.services.cases.deadlines import deadline_policy
from app.services.person_fields import PersonFields, field_errors

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def _victim_fields(data: CaseCreate) -> PersonFields:
    victim = data.victim
    return PersonFields(
        full_name=victim.full_name,
        other_names=victim.other_names,
        date_of_birth=victim.date_of_birth,
        national_id=victim.national_id,
        phone=victim.phone,
        address=victim.address,
        ethnicity=victim.ethnicity,
        sex=victim.sex,
        nationality=victim.nationality,
        hometown_province_code=victim.hometown_province_code,
    )


async def _check(session: AsyncSession, principal: Principal, data: CaseCreate) -> None:
    errors: list[dict[str, str]] = []
    if data.hotline_report_id is not None:
        # Only a report the caller's agency may read (its own, or forwarded to it).
        from app.services.hotline import readable_reports

        reachable = await session.execute(
            readable_reports(principal).where(col(HotlineReport.id) == data.hotline_report_id)
        )
        if reachable.first() is None:
            errors.append({"field": "hotline_report_id", "message": "unknown hotline report"})
    if await session.get(Province, data.received_location.province_code) is None:
        errors.append(
            {"field": "received_location.province_code", "message": "unknown province code"}
        )
    elif not await jurisdiction.receives_in(
        session, principal, data.received_location.province_code
    ):
        errors.append({"field": jurisdiction.FIELD, "message": jurisdiction.MESSAGE})
    if data.received_at > datetime.now(UTC) + first_days.CLOCK_SKEW:
        errors.append({"field": "received_at", "message": "must not be in the future"})
    born = data.victim.date_of_birth
    if born is not None and born > data.received_at.astimezone(VIETNAM).date():
        errors.append({"field": "victim.date_of_birth", "message": "is after received_at"})
    errors.extend(await field_errors(session, "victim", _victim_fields(data)))
    for position, minor in enumerate(data.accompanying_minors):
        errors.extend(
            await field_errors(
                session,
                f"accompanying_minors[{position}]",
                PersonFields(full_name=minor.full_name, date_of_birth=minor.date_of_birth),
            )
        )
    errors.extend(
        first_days.arrival_errors(
            principal,
            data.received_location.province_code,
            data.received_at,
            data.brought_to_commune,
        )
    )
    if errors:
        raise ValidationFailed(errors)


async def possible_duplicates(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    principal: Principal,
    person_fields: PersonFields,
    *,
    exclude_case: uuid.UUID | None = None,
    exclude_persons: tuple[uuid.UUID, ...] = (),
) -> list[PossibleDuplicate]:
    """Readable cases with a victim or minor matching `person_fields` exactly."""
    matches = await persons_search.find_matches(
        session,
        keys,
        indexer,
        person_fields,
        kinds=(PersonKind.VICTIM, PersonKind.MINOR),
        exclude=exclude_persons,
        actor=principal,
        within=principal,  # out-of-reach persons are never decrypted (timing)
    )
    if not matches:
        return []
    match_of = {m.person_id: m.match for m in matches}
    statement = (
        readable_cases(principal)
        .join(CasePerson, col(CasePerson.case_id) == col(Case.id))
        .add_columns(col(CasePerson.person_id))
        .where(col(CasePerson.person_id).in_(list(match_of)))
        .order_by(col(Case.created_at), col(Case.id))
    )
    if exclude_case is not None:
        statement = statement.where(col(Case.id) != exclude_case)
    found: dict[uuid.UUID, PossibleDuplicate] = {}
    for case, person_id in (await session.execute(statement)).all():
        found.setdefault(
            case.id,
            PossibleDuplicate(
                case_id=case.id, case_number=case.case_number, match=match_of[person_id]
            ),
        )
    return list(found.values())


class Intake(NamedTuple):
    """An intake's result: the case, its possible duplicates, and its persons as the
    caller sees them (masked), read before the number was allocated."""

    case: Case
    duplicates: list[PossibleDuplicate]
    persons: list[CasePersonView]


async def intake_case(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    principal: Principal,
    data: CaseCreate,
) -> Intake:
    """Record a new case owned by the caller's agency (see the module rules). Flushes;
    the request's transaction commits. The hotline triage calls this too.

    The number is allocated last: its counter row stays locked from allocation to
    commit, and intakes of one province queue there, so everything else runs before
    it. The rows that point to the case (its persons, its timeline) are written before
    the case itself; their foreign keys are checked at commit (deferred)."""
    await require_own(session, principal, OPEN_CASE, action="case.create", resource_type="case")
    await _check(session, principal, data)
    victim_fields = _victim_fields(data)
    victim = await persons.create_person(session, keys, indexer, PersonKind.VICTIM, victim_fields)
    minors = []
    for minor in data.accompanying_minors:
        person = await persons.create_person(
            session,
            keys,
            indexer,
            PersonKind.MINOR,
            PersonFields(full_name=minor.full_name, date_of_birth=minor.date_of_birth),
        )
        minors.append((person.id, minor.relation))
    duplicates = await possible_duplicates(
        session,
        keys,
        indexer,
        principal,
        victim_fields,
        exclude_persons=(victim.id, *(person_id for person_id, _ in minors)),
    )
    case_id = uuid.uuid4()
    session.add(CasePerson(case_id=case_id, person_id=victim.id, role="victim"))
    for person_id, relation in minors:
        session.add(
            CasePerson(case_id=case_id, person_id=person_id, role="minor", relation=relation)
        )
    status = CaseStatus.RECEIVED.value
    await timeline.append(session, case_id, "case_opened", principal=principal, to_status=status)
    await audit.record(
        session,
        action="case.create",
        resource_type="case",
        resource_id=case_id,
        principal=principal,
        person_id=victim.id,
        fields=tuple(f"victim.{name}" for name in sorted(victim_fields.given())),
    )
    linked = await case_persons.read_case_persons(
        session, keys, case_id, reveal=False, actor=principal
    )
    # From here to commit the province's counter row is locked: only the case's own
    # INSERT follows.
    province = data.received_location.province_code
    year = data.received_at.astimezone(VIETNAM).year
    serial, case_number = await numbering.next_case_number(session, province, year)
    received_day = data.received_at.astimezone(VIETNAM).date()
    now = datetime.now(UTC)
    case = Case(
        id=case_id,
        case_number=case_number,
        province_code=province,
        year=year,
        serial=serial,
        status=status,
        owner_agency_id=principal.agency_id,
        intake_source=data.intake_source.value,
        received_at=data.received_at,
        received_commune_code=data.received_location.commune_code,
        exploitation_types=sorted({t.value for t in data.exploitation_types}),
        destination_country=data.destination_country,
        victim_person_id=victim.id,
        currently_abroad=data.currently_abroad,
        hotline_report_id=data.hotline_report_id,
        first_needs=sorted({n.value for n in data.first_needs}),
        risk_level=data.risk_level.value if data.risk_level else None,
        next_due_at=deadline_policy().due_for(
            CaseStatus.RECEIVED, data.received_at, verified=False
        ),
        created_by=principal.actor_id,
        created_at=now,
        updated_at=now,
    )
    stats.apply_victim_stats(case, received_day, data.victim.model_dump())
    session.add(case)
    await session.flush()
    await events.announce_created(session, case)
    await first_days.after_intake(session, keys, principal, case, data.brought_to_commune)
    return Intake(case, duplicates, linked)
