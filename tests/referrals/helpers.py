"""Arrangements for the referral tests: a case owned by one agency, a receiving
agency, a third agency, consents and referrals made through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from app.models import Case, Referral
from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import Actor, World

URL = "/api/v1/referrals"


@dataclass
class Parties:
    owner: Actor
    receiver: Actor
    third: Actor
    case: dict[str, Any]
    # The victim's values as given at intake (the intake answer masks them).
    victim: dict[str, Any]


async def parties(
    world: World, *, receiver_province: str = "40", receiver_kind: str = "social_affairs"
) -> Parties:
    """A case opened by a social affairs case worker in Nghệ An (40), a case worker of
    a receiving agency (police for an investigation, which only an agency that
    investigates may receive without consent), and one of a third agency."""
    owner = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    receiver = await world.user(
        Role.CASE_WORKER, await world.agency(receiver_kind, receiver_province)
    )
    third = await world.user(Role.CASE_WORKER, await world.agency("police", "40"))
    intake = intake_body()
    case = await open_case(world, owner, intake)
    return Parties(owner, receiver, third, case, intake["victim"])


async def give_consent(
    world: World, owner: Actor, case_id: str, scope: str = "data_sharing"
) -> str:
    body = {
        "scope": scope,
        "given_by": "self",
        "given_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
    }
    response = await world.client.post(
        f"/api/v1/cases/{case_id}/consents", json=body, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def referral_body(p: Parties, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case_id": p.case["id"],
        "to_agency_id": str(p.receiver.agency.id),
        "purpose": "support",
        "services": ["medical", "psychological"],
        "shared_fields": ["victim.full_name", "victim.sex", "case.exploitation_types"],
        "note": "Cần hỗ trợ y tế và tâm lý (thử nghiệm)",
    }
    body.update(overrides)
    return body


async def refer(
    world: World, p: Parties, *, consent: bool = True, **overrides: Any
) -> dict[str, Any]:
    """A pending referral from the owner to the receiver (on a data-sharing consent
    unless told otherwise)."""
    if consent and "consent_id" not in overrides:
        overrides["consent_id"] = await give_consent(world, p.owner, p.case["id"])
    response = await world.client.post(
        URL, json=referral_body(p, **overrides), headers=p.owner.headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def act(world: World, actor: Actor, referral_id: str, action: str, body: Any = None) -> Any:
    return await world.client.post(
        f"{URL}/{referral_id}/{action}", json=body, headers=actor.headers
    )


async def make_overdue(world: World, referral_id: str) -> None:
    """Move a referral's due date into the past (as if time had passed)."""
    await world.session.execute(
        update(Referral)
        .where(col(Referral.id) == referral_id)
        .values(due_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    await world.session.commit()


async def owner_of(world: World, case_id: str) -> Any:
    return (
        await world.session.execute(
            select(col(Case.owner_agency_id)).where(col(Case.id) == case_id)
        )
    ).scalar_one()
