"""Cases made directly in the database, so case-record tests do not depend on the
intake endpoint."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from fastapi import FastAPI

from app.models import Agency, Case, CasePerson
from app.security.permissions import Role
from app.services.cases.numbering import next_case_number
from app.services.persons import PersonFields, create_person
from tests.conftest import Actor, World, fake


def app_of(world: World) -> FastAPI:
    return world.client._transport.app  # type: ignore[attr-defined,no-any-return]


async def make_case(
    world: World,
    owner: Actor,
    *,
    status: str = "received",
    date_of_birth: date | None = None,
    is_child: bool = False,
) -> Case:
    """A case owned by `owner`'s agency, with a made-up victim."""
    app = app_of(world)
    session = world.session
    victim = await create_person(
        session,
        app.state.keys,
        app.state.indexer,
        "victim",
        PersonFields(
            full_name=fake.name(), sex="female", nationality="VN", date_of_birth=date_of_birth
        ),
    )
    province = owner.agency.province_code or "40"
    now = datetime.now(UTC)
    serial, number = await next_case_number(session, province, now.year)
    case = Case(
        case_number=number,
        province_code=province,
        year=now.year,
        serial=serial,
        status=status,
        owner_agency_id=owner.agency.id,
        intake_source="police_rescue",
        received_at=now,
        victim_person_id=victim.id,
        is_child=is_child,
        is_minor=is_child,
        created_by=owner.id,
    )
    session.add(case)
    await session.flush()
    session.add(CasePerson(case_id=case.id, person_id=victim.id, role="victim"))
    await session.commit()
    return case


async def add_person(world: World, case: Case, role: str) -> uuid.UUID:
    app = app_of(world)
    person = await create_person(
        world.session,
        app.state.keys,
        app.state.indexer,
        role,
        PersonFields(full_name=fake.name(), sex="male", nationality="VN"),
    )
    world.session.add(CasePerson(case_id=case.id, person_id=person.id, role=role))
    await world.session.commit()
    return person.id


async def worker(
    world: World, kind: str = "social_affairs", role: Role = Role.CASE_WORKER
) -> Actor:
    agency: Agency = await world.agency(kind)
    return await world.user(role, agency)


async def stranger(world: World, kind: str = "social_affairs") -> Actor:
    """A case worker of another agency of the same kind and province."""
    return await worker(world, kind)
