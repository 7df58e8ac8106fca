"""The participant's access decision is one statement, and its basis ends with the
consent's expiry as well as its withdrawal, without a sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.driver import DriverStatement
from app.models import Referral
from tests.conftest import World, assert_problem
from tests.participants.helpers import participation
from tests.referrals.helpers import URL


async def test_a_participants_read_decides_access_in_one_statement(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = await participation(world)
    seen: list[str] = []
    real = DriverStatement.fetch

    async def spy(self: DriverStatement, session: Any, params: Any) -> Any:
        seen.append(self.sql(session))
        return await real(self, session, params)

    monkeypatch.setattr(DriverStatement, "fetch", spy)
    response = await world.client.get(
        f"/api/v1/cases/{p.case['id']}", headers=p.participant.headers
    )
    assert response.status_code == 200, response.text
    on_referrals = [sql for sql in seen if "FROM referrals" in sql]
    assert len(on_referrals) == 1
    assert "FROM cases" in on_referrals[0]


async def test_the_consents_expiry_ends_the_participation(world: World) -> None:
    p = await participation(world, accept=False)
    row = await world.session.get(Referral, p.referral["id"])
    assert row is not None and row.basis_ends_at is None
    # A consent with an end date: the referral keeps it.
    expires = datetime.now(UTC) + timedelta(days=30)
    consent = await world.client.post(
        f"/api/v1/cases/{p.case['id']}/consents",
        json={"scope": "data_sharing", "given_by": "self",
              "given_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
              "expires_at": expires.isoformat()},
        headers=p.lead.headers,
    )  # fmt: skip
    assert consent.status_code == 201, consent.text
    body = {"case_id": p.case["id"], "to_agency_id": str(p.participant.agency.id),
            "purpose": "support", "shared_fields": ["victim.sex"],
            "consent_id": consent.json()["id"]}  # fmt: skip
    made = await world.client.post(URL, json=body, headers=p.lead.headers)
    assert made.status_code == 201, made.text
    referral_id = made.json()["id"]
    accepted = await world.client.post(f"{URL}/{referral_id}/accept", headers=p.participant.headers)
    assert accepted.status_code == 200, accepted.text
    stored = await world.session.get(Referral, referral_id)
    assert stored is not None and stored.basis_ends_at == expires
    case_url = f"/api/v1/cases/{p.case['id']}"
    assert (await world.client.get(case_url, headers=p.participant.headers)).status_code == 200
    # Time passes: the consent has expired. Nothing else changes.
    await world.session.execute(
        update(Referral)
        .where(Referral.id == referral_id)  # type: ignore[arg-type]
        .values(basis_ends_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    await world.session.commit()
    assert_problem(await world.client.get(case_url, headers=p.participant.headers), 404)
    seen = await world.client.get(f"{URL}/{referral_id}", headers=p.participant.headers)
    assert (seen.json()["access"], seen.json()["shared"]) == ("suspended", None)
