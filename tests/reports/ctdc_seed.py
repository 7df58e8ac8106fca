"""Many cases with varied reporting values, written straight to the database so the
export tests can reach the sizes k-anonymity needs (intake would take minutes)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert

from app.models import Case, IdentificationDecision
from tests.conftest import Actor, World
from tests.reports.report_seed import bare_victims

EXPLOITATION = (
    "sexual",
    "forced_labour",
    "forced_marriage",
    "baby_selling",
    "organ_removal",
    "forced_begging",
    "other",
)
# Skewed like real data: mostly Vietnamese victims taken to neighbours, a long tail.
NATIONALITIES = ("VN",) * 12 + ("LA", "KH", "CN", None, "GB")
DESTINATIONS = ("CN",) * 6 + ("LA", "KH", "TH", "MY", None, "JP", "GB", "AE", "BR")
SEXES = ("female",) * 6 + ("male",) * 3 + ("other", "unknown")


@dataclass
class Seeded:
    identified: int = 0
    not_identified: int = 0


async def seed_cases(
    world: World,
    owner: Actor,
    *,
    count: int,
    seed: int,
    province_code: str | None = None,
    years: tuple[int, int] = (2019, 2026),
    alike: bool = False,
) -> Seeded:
    """`count` cases owned by `owner`'s agency, about 80 % with a `victim` decision,
    the rest with none or a `not_victim` one; `alike`: every case has the same values
    (2026, police rescue, a Vietnamese woman of 25 sexually exploited in China). Each
    has its own victim person with no identity fields (the export never reads persons;
    a person belongs to one case)."""
    rng = random.Random(seed)
    session = world.session
    province = province_code or owner.agency.province_code or "40"
    cases, decisions = [], []
    seeded = Seeded()
    base = rng.randrange(10**6)
    for n in range(count):
        year = rng.randint(*years)
        age = None if rng.random() < 0.1 else min(int(rng.expovariate(1 / 14)) + 5, 70)
        types = rng.sample(EXPLOITATION, k=rng.choice((0, 1, 1, 1, 2)))
        if alike:
            year, age, types = 2026, 25, ["sexual"]
        case_id = uuid.uuid4()
        serial = base + n
        cases.append(
            {
                "id": case_id,
                "case_number": f"{province}-{year}-{serial:07d}",
                "province_code": province,
                "year": year,
                "serial": serial,
                "status": "identified",
                "owner_agency_id": owner.agency.id,
                "intake_source": "police_rescue"
                if alike
                else rng.choice(("hotline", "police_rescue", "border_handover")),
                "received_at": datetime(year, 6, 1, tzinfo=UTC),
                "exploitation_types": types,
                "destination_country": "CN" if alike else rng.choice(DESTINATIONS),
                "victim_person_id": uuid.uuid4(),
                "is_child": age is not None and age < 16,
                "is_minor": age is not None and age < 18,
                "victim_sex": "female" if alike else rng.choice(SEXES),
                "victim_age_at_intake": age,
                "victim_nationality": "VN" if alike else rng.choice(NATIONALITIES),
                "currently_abroad": False,
                "version": 1,
                "created_by": owner.id,
                "created_at": datetime.now(UTC),
                "updated_at": datetime.now(UTC),
            }
        )
        roll = rng.random()
        if roll < 0.8:
            decisions.append(_decision(case_id, owner, "victim"))
            seeded.identified += 1
        else:
            seeded.not_identified += 1
            if roll < 0.9:
                decisions.append(_decision(case_id, owner, "not_victim"))
    await bare_victims(session, [case["victim_person_id"] for case in cases])
    await session.execute(insert(Case), cases)
    if decisions:
        await session.execute(insert(IdentificationDecision), decisions)
    await session.commit()
    return seeded


def _decision(case_id: uuid.UUID, owner: Actor, outcome: str) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "case_id": case_id,
        "decision": outcome,
        "decided_at": datetime.now(UTC),
        # Stands for the sealed legal basis; the export never reads it.
        "legal_basis": b"sealed",
        "evidence_ids": [],
        "decided_by": owner.id,
        "agency_id": owner.agency.id,
        "created_at": datetime.now(UTC),
    }


async def identify(world: World, case_id: uuid.UUID | str, decider: Actor) -> None:
    """Give a case (opened through intake) a `victim` decision."""
    await world.session.execute(
        insert(IdentificationDecision), [_decision(uuid.UUID(str(case_id)), decider, "victim")]
    )
    await world.session.commit()
