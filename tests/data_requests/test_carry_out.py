"""Completing a request carries it out, or checks it was: consents withdrawn,
erasure and rectification done first."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.cases.test_case_persons import add, person_body, persons_url
from tests.conftest import World, assert_problem
from tests.data_requests.helpers import URL, Led, led, made
from tests.referrals.helpers import give_consent, parties, refer

DONE = "Đã thực hiện"


async def _complete(world: World, c: Led, request_id: str, **extra: Any) -> Any:
    return await world.client.post(
        f"{URL}/{request_id}/complete", json={"outcome": DONE, **extra}, headers=c.lead.headers
    )


class TestConsentWithdrawal:
    async def test_ends_the_named_consents_and_their_referrals_access(
        self, world: World, engine: AsyncEngine
    ) -> None:
        p = await parties(world)
        c = Led(p.owner, p.case)
        referral = await refer(world, p)
        consent_id = referral["consent_id"]
        kept = await give_consent(world, p.owner, p.case["id"], scope="services")
        request = await made(world, c, kind="consent_withdrawal")
        # The consents to end are named.
        assert_problem(await _complete(world, c, request["id"]), 422)
        response = await _complete(world, c, request["id"], consent_ids=[consent_id])
        assert response.status_code == 200, response.text
        consents = await world.client.get(
            f"/api/v1/cases/{p.case['id']}/consents", headers=p.owner.headers
        )
        status = {x["id"]: x["status"] for x in consents.json()["items"]}
        assert status == {consent_id: "withdrawn", kept: "active"}
        # The referral resting on it has lost its basis.
        async with engine.connect() as conn:
            ends = (
                await conn.execute(
                    text("SELECT basis_ends_at FROM referrals WHERE id = :id"),
                    {"id": uuid.UUID(referral["id"])},
                )
            ).scalar_one()
        assert ends is not None

    async def test_a_consent_of_another_case_is_refused(self, world: World) -> None:
        c = await led(world)
        other = await led(world)
        foreign = await give_consent(world, other.lead, other.case["id"])
        request = await made(world, c, kind="consent_withdrawal")
        response = await _complete(world, c, request["id"], consent_ids=[foreign])
        assert_problem(response, 422)

    async def test_consent_ids_only_for_that_kind(self, world: World) -> None:
        c = await led(world)
        consent = await give_consent(world, c.lead, c.case["id"])
        request = await made(world, c, kind="objection")
        assert_problem(await _complete(world, c, request["id"], consent_ids=[consent]), 422)


class TestErasure:
    async def test_completes_only_once_the_person_is_erased(self, world: World) -> None:
        c = await led(world)
        request = await made(world, c, kind="erasure")
        assert_problem(await _complete(world, c, request["id"]), 409)
        admin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        erased = await world.client.post(
            f"/api/v1/persons/{c.person_id}/erasure",
            json={"legal_basis": "Điều 16 Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15"},
            headers=admin.headers,
        )
        assert erased.status_code == 200, erased.text
        response = await _complete(world, c, request["id"])
        assert response.status_code == 200, response.text
        # Nothing can be sealed under a shredded key: the outcome is not kept.
        assert response.json()["outcome"] is None


class TestRectification:
    async def test_completes_only_once_the_record_is_corrected(self, world: World) -> None:
        c = await led(world)
        request = await made(world, c, kind="rectification")
        assert_problem(await _complete(world, c, request["id"]), 409)
        patched = await world.client.patch(
            f"/api/v1/cases/{c.case['id']}",
            json={"victim": {"phone": "0912345678"}},
            headers={**c.lead.headers, "If-Match": '"1"'},
        )
        assert patched.status_code == 200, patched.text
        response = await _complete(world, c, request["id"])
        assert response.status_code == 200, response.text


class TestRestriction:
    def _reveal(self, c: Led) -> str:
        return f"/api/v1/cases/{c.case['id']}?reveal=identity"

    async def test_only_a_supervisor_reveals_a_restricted_person(
        self, world: World, engine: AsyncEngine
    ) -> None:
        c = await led(world)
        purpose = {"X-Purpose-Of-Use": "case_management"}
        before = await world.client.get(self._reveal(c), headers={**c.lead.headers, **purpose})
        assert before.status_code == 200, before.text
        request = await made(world, c, kind="restriction")
        assert (await _complete(world, c, request["id"])).status_code == 200
        mark = await last_event_id(engine)
        refused = await world.client.get(self._reveal(c), headers={**c.lead.headers, **purpose})
        assert_problem(refused, 403)
        assert refused.json()["type"].endswith("person-restricted")
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("case.reveal", "denied", "person_restricted")
        ]
        # Masked reads go on.
        masked = await world.client.get(f"/api/v1/cases/{c.case['id']}", headers=c.lead.headers)
        assert masked.status_code == 200, masked.text
        supervisor = await world.user(Role.SUPERVISOR, c.lead.agency)
        allowed = await world.client.get(self._reveal(c), headers={**supervisor.headers, **purpose})
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["victim"]["revealed"] is True

    async def test_a_restricted_person_of_the_case_is_not_revealed(self, world: World) -> None:
        c = await led(world)
        relative = await add(world, c.lead, c.case["id"], person_body("relative"))
        request = await made(world, c, kind="restriction", person_id=relative["id"])
        assert (await _complete(world, c, request["id"])).status_code == 200
        purpose = {"X-Purpose-Of-Use": "protection"}
        url = persons_url(c.case["id"])
        refused = await world.client.get(
            url, params={"reveal": "identity"}, headers={**c.lead.headers, **purpose}
        )
        assert_problem(refused, 403)
        # The victim's own case read is refused too: the restricted person is on it.
        case_reveal = await world.client.get(self._reveal(c), headers={**c.lead.headers, **purpose})
        assert_problem(case_reveal, 403)
        supervisor = await world.user(Role.SUPERVISOR, c.lead.agency)
        allowed = await world.client.get(
            url, params={"reveal": "identity"}, headers={**supervisor.headers, **purpose}
        )
        assert allowed.status_code == 200, allowed.text

    async def test_a_referral_of_a_restricted_victim_is_not_revealed(self, world: World) -> None:
        p = await parties(world)
        c = Led(p.owner, p.case)
        referral = await refer(world, p)
        url = f"/api/v1/referrals/{referral['id']}"
        params = {"reveal": "identity"}
        purpose = {"X-Purpose-Of-Use": "case_management"}
        before = await world.client.get(url, params=params, headers={**p.owner.headers, **purpose})
        assert before.status_code == 200, before.text
        request = await made(world, c, kind="restriction")
        assert (await _complete(world, c, request["id"])).status_code == 200
        after = await world.client.get(url, params=params, headers={**p.owner.headers, **purpose})
        assert_problem(after, 403)
