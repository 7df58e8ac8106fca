"""The right of access: the person's own data, in clear, against an open `access`
request, by the lead only, as JSON or a Vietnamese page, audited."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.data_requests.helpers import URL, Led, led, made
from tests.referrals.helpers import parties, refer


def export_url(person_id: str, request_id: str | None = None) -> str:
    query = f"?data_request_id={request_id}" if request_id else ""
    return f"/api/v1/persons/{person_id}/export{query}"


class TestExport:
    async def test_identity_in_clear_steps_and_audit(
        self, world: World, engine: AsyncEngine
    ) -> None:
        c = await led(world)
        request = await made(world, c)
        mark = await last_event_id(engine)
        response = await world.client.get(
            export_url(c.person_id, request["id"]), headers=c.lead.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        full_name = body["identity"]["full_name"]
        assert full_name and "*" not in full_name
        assert body["case"]["id"] == c.case["id"]
        assert body["steps"], "the case's steps are listed"
        events = await events_after(engine, mark)
        [event] = [e for e in events if e["action"] == "person.export"]
        assert event["reason"] == f"data_request:{request['id']}"
        assert str(event["person_id"]) == c.person_id

    async def test_the_request_may_be_implied(self, world: World) -> None:
        c = await led(world)
        await made(world, c)
        response = await world.client.get(export_url(c.person_id), headers=c.lead.headers)
        assert response.status_code == 200, response.text

    async def test_printable_page_in_vietnamese(self, world: World) -> None:
        c = await led(world)
        request = await made(world, c)
        response = await world.client.get(
            export_url(c.person_id, request["id"]),
            headers={**c.lead.headers, "Accept": "text/html"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert "Dữ liệu cá nhân của bạn" in response.text
        assert "Các cơ quan đã nhận dữ liệu của bạn" in response.text

    async def test_lists_the_agencies_it_was_disclosed_to(self, world: World) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        c = Led(p.owner, p.case)
        request = await made(world, c)
        response = await world.client.get(
            export_url(c.person_id, request["id"]), headers=c.lead.headers
        )
        assert response.status_code == 200, response.text
        disclosures = response.json()["disclosures"]
        assert [d["agency_id"] for d in disclosures] == [referral["to_agency_id"]]
        assert disclosures[0]["agency"] == p.receiver.agency.name
        # The referral rests on a consent, listed too.
        assert [x["scope"] for x in response.json()["consents"]] == ["data_sharing"]

    async def test_only_an_open_access_request(self, world: World) -> None:
        c = await led(world)
        erasure = await made(world, c, kind="erasure")
        assert_problem(
            await world.client.get(export_url(c.person_id, erasure["id"]), headers=c.lead.headers),
            422,
        )
        access = await made(world, c)
        done = await world.client.post(
            f"{URL}/{access['id']}/complete", json={"outcome": "đã gửi"}, headers=c.lead.headers
        )
        assert done.status_code == 200, done.text
        assert_problem(
            await world.client.get(export_url(c.person_id, access["id"]), headers=c.lead.headers),
            409,
        )
        # No open access request at all.
        assert_problem(await world.client.get(export_url(c.person_id), headers=c.lead.headers), 404)

    async def test_request_of_another_person(self, world: World) -> None:
        c = await led(world)
        other = await led(world)
        request = await made(world, c)
        response = await world.client.get(
            export_url(other.person_id, request["id"]), headers=c.lead.headers
        )
        assert_problem(response, 422)

    async def test_another_agency_gets_404(self, world: World) -> None:
        c = await led(world)
        request = await made(world, c)
        stranger = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
        for url in (export_url(c.person_id, request["id"]), export_url(c.person_id)):
            assert_problem(await world.client.get(url, headers=stranger.headers), 404)
        unknown = export_url(c.person_id, str(uuid.uuid4()))
        assert_problem(await world.client.get(unknown, headers=c.lead.headers), 404)
