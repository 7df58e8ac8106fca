"""Arrangements for the support-money tests: requests and steps through the API, and a
provider taking part in a case through an accepted support referral."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import col

from app.models import Case
from app.security.permissions import Role
from tests.conftest import Actor, World
from tests.referrals.helpers import URL as REFERRALS
from tests.referrals.helpers import give_consent
from tests.support.factories import MadeCase


def url(case: MadeCase | uuid.UUID | str, tail: str = "") -> str:
    case_id = case.id if isinstance(case, MadeCase) else case
    return f"/api/v1/cases/{case_id}/support-services{tail}"


def body(type_: str = "essential_needs", **overrides: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "type": type_,
        "quantity": 1,
        "unit": "day",
        "service_date": "2026-03-02",
    }
    made.update(overrides)
    return made


def receipt(**overrides: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "number": "HĐ-0012345",
        "date": "2026-03-02",
        "issuer": "Bệnh viện Đa khoa tỉnh (thử)",
        "amount_vnd": 1_250_000,
    }
    made.update(overrides)
    return made


async def ask(
    world: World, actor: Actor, case: MadeCase | uuid.UUID | str, **overrides: Any
) -> httpx.Response:
    type_ = overrides.pop("type", "essential_needs")
    return await world.client.post(url(case), json=body(type_, **overrides), headers=actor.headers)


async def step(
    world: World,
    actor: Actor,
    case: MadeCase | uuid.UUID | str,
    service_id: str,
    action: str,
    json: Any = None,
) -> httpx.Response:
    return await world.client.post(
        url(case, f"/{service_id}/{action}"), json=json, headers=actor.headers
    )


@dataclass
class Provider:
    """An agency taking part in a case through an accepted support referral: a case
    worker and a supervisor of it."""

    worker: Actor
    supervisor: Actor
    referral_id: str


async def provider(
    world: World, lead: Actor, case: MadeCase, kind: str, services: list[str]
) -> Provider:
    """An agency of `kind` the lead refers `services` of the case to (on a consent),
    which accepts."""
    # An adult victim, who consents for herself.
    await world.session.execute(
        update(Case)
        .where(col(Case.id) == case.id)
        .values(is_minor=False, age_basis="date_of_birth", victim_age_at_intake=28)
    )
    await world.session.commit()
    agency = await world.agency(kind, "40")
    worker = await world.user(Role.CASE_WORKER, agency)
    supervisor = await world.user(Role.SUPERVISOR, agency)
    consent_id = await give_consent(world, lead, str(case.id))
    referred = await world.client.post(
        REFERRALS,
        json={
            "case_id": str(case.id),
            "to_agency_id": str(agency.id),
            "purpose": "support",
            "services": services,
            "shared_fields": ["victim.sex"],
            "consent_id": consent_id,
        },
        headers=lead.headers,
    )
    assert referred.status_code == 201, referred.text
    referral_id = referred.json()["id"]
    accepted = await world.client.post(
        f"{REFERRALS}/{referral_id}/accept", json={"note": "nhận"}, headers=worker.headers
    )
    assert accepted.status_code == 200, accepted.text
    return Provider(worker, supervisor, referral_id)
