"""Cases made directly as rows (not through intake), so a test can put a case in any
status and situation the support rules look at. Made-up people only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from app.models import Case, CasePerson
from app.services import persons
from app.services.cases import numbering
from app.services.person_fields import PersonFields
from tests.conftest import Actor, World, fake


@dataclass
class MadeCase:
    id: uuid.UUID
    victim_id: uuid.UUID
    minor_ids: list[uuid.UUID] = field(default_factory=list)
    relative_ids: list[uuid.UUID] = field(default_factory=list)


def _app(world: World) -> FastAPI:
    return world.client._transport.app  # type: ignore[attr-defined]


async def make_case(
    world: World,
    owner: Actor,
    *,
    status: str = "identified",
    nationality: str | None = "VN",
    currently_abroad: bool = False,
    minors: int = 0,
    relatives: int = 0,
    province_code: str = "40",
) -> MadeCase:
    """A case owned by `owner`'s agency, with its victim and any accompanying minors."""
    app, session = _app(world), world.session
    keys, indexer = app.state.keys, app.state.indexer

    async def person(kind: str, **extra: Any) -> uuid.UUID:
        made = await persons.create_person(
            session,
            keys,
            indexer,
            kind,
            PersonFields(full_name=fake.name(), sex="female", nationality=nationality, **extra),
        )
        return made.id

    victim_id = await person("victim", birth_year=1998)
    year = datetime.now(UTC).year
    serial, number = await numbering.next_case_number(session, province_code, year)
    case = Case(
        case_number=number,
        province_code=province_code,
        year=year,
        serial=serial,
        status=status,
        owner_agency_id=owner.agency.id,
        intake_source="police_rescue",
        received_at=datetime.now(UTC),
        victim_person_id=victim_id,
        currently_abroad=currently_abroad,
        created_by=owner.id,
    )
    session.add(case)
    await session.flush()
    made = MadeCase(id=case.id, victim_id=victim_id)
    session.add(CasePerson(case_id=case.id, person_id=victim_id, role="victim"))
    for _ in range(minors):
        minor_id = await person("minor", birth_year=year - 10)
        session.add(CasePerson(case_id=case.id, person_id=minor_id, role="minor"))
        made.minor_ids.append(minor_id)
    for _ in range(relatives):
        relative_id = await person("relative")
        session.add(
            CasePerson(case_id=case.id, person_id=relative_id, role="relative", relation="mother")
        )
        made.relative_ids.append(relative_id)
    await session.commit()
    return made
