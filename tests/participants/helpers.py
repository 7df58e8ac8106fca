"""Arrangements for the participant tests: a case led by a province's Sở Y tế
(social affairs) and another agency taking part through an accepted referral."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import Actor, World
from tests.referrals.helpers import URL, give_consent

ALL_FIELDS = ["victim.full_name", "victim.date_of_birth", "victim.national_id", "victim.sex"]


@dataclass
class Participation:
    lead: Actor
    participant: Actor
    case: dict[str, Any]
    victim: dict[str, Any]
    referral: dict[str, Any]
    consent_id: str | None


async def participation(
    world: World,
    *,
    kind: str = "police",
    purpose: str = "identification",
    services: list[str] | None = None,
    shared_fields: list[str] | None = None,
    consent: bool = True,
    role: Role = Role.CASE_WORKER,
    province: str = "40",
    accept: bool = True,
    intake: dict[str, Any] | None = None,
) -> Participation:
    """A case led by social affairs in Nghệ An, referred to an agency of `kind` for
    `purpose` (on a data-sharing consent unless `consent=False`), accepted by it."""
    lead_agency = await world.agency("social_affairs", "40")
    lead = await world.user(Role.SUPERVISOR, lead_agency)
    body = intake or intake_body()
    case = await open_case(world, lead, body)
    participant = await world.user(role, await world.agency(kind, province))
    consent_id = await give_consent(world, lead, case["id"]) if consent else None
    request: dict[str, Any] = {
        "case_id": case["id"],
        "to_agency_id": str(participant.agency.id),
        "purpose": purpose,
        "services": services or [],
        "shared_fields": shared_fields if shared_fields is not None else ALL_FIELDS,
        "note": "Đề nghị phối hợp (thử)",
    }
    if consent_id:
        request["consent_id"] = consent_id
    response = await world.client.post(URL, json=request, headers=lead.headers)
    assert response.status_code == 201, response.text
    referral = response.json()
    if accept:
        answer = await world.client.post(
            f"{URL}/{referral['id']}/accept", json={"note": "nhận"}, headers=participant.headers
        )
        assert answer.status_code == 200, answer.text
    return Participation(lead, participant, case, body["victim"], referral, consent_id)


async def move_to_verifying(world: World, p: Participation) -> None:
    response = await world.client.post(
        f"/api/v1/cases/{p.case['id']}/transitions",
        json={"to": "verifying"},
        headers={**p.lead.headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
