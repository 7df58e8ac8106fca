"""Cases, services, status history and hotline reports written straight to the
database with chosen reporting values, so report tests can control every cell.

Victims are placeholder person rows (kind, sex, nationality only: no name, nothing
encrypted): the reports never read persons, so nothing more is needed.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Case, CaseTimelineEntry, CaseVerification, HotlineReport, SupportService
from app.security.permissions import Role
from tests.conftest import Actor, World

_serial = itertools.count(1)
# Inside 2026-H1 in Vietnam time.
MARCH = datetime(2026, 3, 15, 3, 0, tzinfo=UTC)


async def analyst(world: World, province_code: str | None = "40") -> Actor:
    """An analyst of a provincial agency, or of a national one (`province_code` None)."""
    kind = "national" if province_code is None else "social_affairs"
    return await world.user(Role.ANALYST, await world.agency(kind, province_code=province_code))


async def officer(world: World, province_code: str | None = "40") -> Actor:
    """The reporting officer (`reports:exact`) of a provincial or national agency."""
    kind = "national" if province_code is None else "social_affairs"
    agency = await world.agency(kind, province_code=province_code)
    return await world.user(Role.REPORTING_OFFICER, agency)


async def owner(world: World, province_code: str = "40") -> Actor:
    """A case worker whose agency owns the seeded cases of `province_code`."""
    agency = await world.agency("social_affairs", province_code=province_code)
    return await world.user(Role.CASE_WORKER, agency, login=False)


async def bare_victims(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    """Victim rows with no identity field and no key, one per id: reports never read
    persons, but a case needs its own victim."""
    await session.execute(
        text(
            "INSERT INTO persons (id, kind, sex, nationality, version, created_at, updated_at) "
            "SELECT unnest(CAST(:ids AS uuid[])), 'victim', 'female', 'VN', 1, now(), now()"
        ),
        {"ids": ids},
    )


async def person(world: World) -> uuid.UUID:
    person_id = uuid.uuid4()
    await bare_victims(world.session, [person_id])
    return person_id


async def cases(world: World, owner: Actor, count: int, **values: Any) -> list[uuid.UUID]:
    """`count` cases of `owner`'s agency (province of the agency unless given), each
    with its own victim unless `victim_person_id` is given; `values` set columns."""
    rows = []
    for _ in range(count):
        serial = next(_serial)
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "province_code": owner.agency.province_code or "40",
            "year": 2026,
            "serial": serial,
            "status": "received",
            "owner_agency_id": owner.agency.id,
            "intake_source": "hotline",
            "received_at": MARCH,
            "exploitation_types": [],
            "destination_country": None,
            "is_child": False,
            "is_minor": False,
            "victim_sex": "female",
            "victim_age_at_intake": 25,
            "currently_abroad": False,
            "version": 1,
            "created_by": owner.id,
            "created_at": datetime.now(UTC),
            "updated_at": datetime.now(UTC),
        }
        row.update(values)
        row.setdefault("victim_person_id", None)
        if row["victim_person_id"] is None:
            row["victim_person_id"] = await person(world)
        row["case_number"] = f"{row['province_code']}-{row['year']}-{serial:06d}"
        rows.append(row)
    await world.session.execute(insert(Case), rows)
    await world.session.commit()
    return [row["id"] for row in rows]


async def services(
    world: World,
    owner: Actor,
    case_ids: list[uuid.UUID],
    *,
    type: str = "essential_needs",
    amount_vnd: int = 100_000,
    status: str = "delivered",
    delivered_at: datetime = MARCH,
) -> None:
    """One service of `type` per case, delivered (or `status`) to the case's victim."""
    victims: dict[uuid.UUID, uuid.UUID] = dict(
        (
            await world.session.execute(
                text("SELECT id, victim_person_id FROM cases WHERE id = ANY(:ids)"),
                {"ids": case_ids},
            )
        ).all()
    )
    rows = [
        {
            "id": uuid.uuid4(),
            "case_id": case_id,
            "person_id": victims[case_id],
            "type": type,
            "unit": "lump_sum",
            "quantity": 1,
            "service_date": delivered_at.date(),
            "amount_vnd": amount_vnd,
            "amount_overridden": False,
            "cap_extended": False,
            "status": status,
            "requested_by": owner.id,
            "delivered_at": delivered_at if status == "delivered" else None,
            "version": 1,
        }
        for case_id in case_ids
    ]
    await world.session.execute(insert(SupportService), rows)
    await world.session.commit()


async def moved(
    world: World, case_ids: list[uuid.UUID], to_status: str, at: datetime = MARCH
) -> None:
    """A `status_changed` timeline entry to `to_status` at `at` for each case."""
    rows = [
        {
            "id": uuid.uuid4(),
            "case_id": case_id,
            "occurred_at": at,
            "kind": "status_changed",
            "to_status": to_status,
        }
        for case_id in case_ids
    ]
    await world.session.execute(insert(CaseTimelineEntry), rows)
    await world.session.commit()


async def verified(
    world: World, owner: Actor, case_ids: list[uuid.UUID], at: datetime = MARCH
) -> None:
    """The initial verification record of each case, completed at `at` by `owner`."""
    rows = [
        {
            "id": uuid.uuid4(),
            "case_id": case_id,
            "outcome": "grounds_found",
            "completed_at": at,
            "agency_ids": [owner.agency.id],
            "recorded_by": owner.id,
            "agency_id": owner.agency.id,
        }
        for case_id in case_ids
    ]
    await world.session.execute(insert(CaseVerification), rows)
    await world.session.commit()


async def hotline_reports(
    world: World, owner: Actor, count: int, *, status: str = "open", **values: Any
) -> None:
    caller = await person(world)
    rows = []
    for _ in range(count):
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "received_at": MARCH,
            "channel": "phone",
            "province_code": owner.agency.province_code or "40",
            "urgency": "routine",
            "status": status,
            "owner_agency_id": owner.agency.id,
            "created_by": owner.id,
            "caller_person_id": caller,
            "summary": b"sealed",  # stands for ciphertext; reports never read it
            "version": 1,
            "created_at": datetime.now(UTC),
            "updated_at": datetime.now(UTC),
        }
        row.update(values)
        rows.append(row)
    await world.session.execute(insert(HotlineReport), rows)
    await world.session.commit()
