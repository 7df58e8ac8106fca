"""Coded values at intake and on PATCH: countries (ISO 3166-1), communes of the 2025
reorganisation in their province, ethnicity codes, a former hometown province; and
where an agency may receive (its province, a border guard's posts, national kinds
anywhere)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from app.models import Agency
from app.security.permissions import Role
from app.security.principal import Principal
from app.services.cases import jurisdiction
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import Actor, World, assert_problem
from tests.hotline.helpers import forward, operator, record_report, report_body

CASES = "/api/v1/cases"
REVEAL = {"X-Purpose-Of-Use": "case_management"}
NGHE_AN, NINH_BINH = "40", "37"
NINH_BINH_COMMUNE = "14464"


def fields_of(response: httpx.Response) -> set[str]:
    problem = assert_problem(response, 422)
    return {e["field"] for e in problem["errors"]}  # type: ignore[attr-defined]


async def post(world: World, actor: Actor, body: dict[str, Any]) -> httpx.Response:
    return await world.client.post(CASES, json=body, headers=actor.headers)


async def patch(world: World, actor: Actor, case: dict[str, Any], body: dict[str, Any]) -> Any:
    return await world.client.patch(
        f"{CASES}/{case['id']}",
        json=body,
        headers={**actor.headers, "If-Match": f'"{case["version"]}"'},
    )


def received_in(province: str, commune: str | None = None, **victim: Any) -> dict[str, Any]:
    body = intake_body(**victim)
    body["received_location"] = {"province_code": province, "commune_code": commune}
    return body


class TestCountries:
    async def test_codes_that_do_not_exist_are_422(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        assert fields_of(await post(world, worker, intake_body(nationality="XX"))) == {
            "victim.nationality"
        }
        body = intake_body()
        body["destination_country"] = "QQ"
        assert fields_of(await post(world, worker, body)) == {"destination_country"}

    async def test_a_real_code_in_lower_case_is_kept_upper(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        body = intake_body(nationality="la")
        body["destination_country"] = "kh"
        case = await open_case(world, worker, body)
        assert case["destination_country"] == "KH"
        assert case["victim"]["nationality"] == "LA"

    async def test_patch_refuses_codes_that_do_not_exist(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker)
        response = await patch(world, worker, case, {"victim": {"nationality": "XX"}})
        assert fields_of(response) == {"victim.nationality"}
        response = await patch(world, worker, case, {"destination_country": "QQ"})
        assert fields_of(response) == {"destination_country"}

    async def test_a_hotline_report_refuses_them_too(self, world: World) -> None:
        actor = await operator(world)
        victim = {"name": "Nguyễn Thị Test", "nationality": "XX"}
        response = await world.client.post(
            "/api/v1/hotline-reports",
            json=report_body(suspected_victims=[victim]),
            headers=actor.headers,
        )
        assert fields_of(response) == {"suspected_victims[0].nationality"}


class TestCommunes:
    async def test_a_commune_of_the_province_is_kept(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker, received_in(NGHE_AN, "16681"))
        assert case["received_commune_code"] == "16681"

    @pytest.mark.parametrize("commune", ["zzz", "99999", NINH_BINH_COMMUNE])
    async def test_other_communes_are_422(self, world: World, commune: str) -> None:
        worker = await world.user(Role.CASE_WORKER)
        response = await post(world, worker, received_in(NGHE_AN, commune))
        assert fields_of(response) == {"received_location.commune_code"}

    async def test_a_former_province_code_is_not_a_reception_province(self, world: World) -> None:
        """Hà Nam (35) merged into Ninh Bình: a case is received in a current province."""
        worker = await world.user(Role.CASE_WORKER)
        response = await post(world, worker, received_in("35"))
        assert fields_of(response) == {"received_location.province_code"}


class TestEthnicity:
    @pytest.mark.parametrize("given", ["Kinh (Việt)", "Kinh", "1", "55", "FOREIGN"])
    async def test_anything_but_a_code_is_422(self, world: World, given: str) -> None:
        worker = await world.user(Role.CASE_WORKER)
        response = await post(world, worker, intake_body(ethnicity=given))
        assert fields_of(response) == {"victim.ethnicity"}

    async def test_a_code_is_kept_and_patch_takes_codes_only(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker, intake_body(ethnicity="03"))
        revealed = await world.client.get(
            f"{CASES}/{case['id']}?reveal=identity", headers={**worker.headers, **REVEAL}
        )
        assert revealed.json()["victim"]["ethnicity"] == "03"
        response = await patch(world, worker, case, {"victim": {"ethnicity": "Kinh (Việt)"}})
        assert fields_of(response) == {"victim.ethnicity"}
        response = await patch(world, worker, case, {"victim": {"ethnicity": "unknown"}})
        assert response.status_code == 200, response.text

    async def test_the_list_is_served_to_any_signed_in_caller(self, world: World) -> None:
        actor = await operator(world)
        response = await world.client.get("/api/v1/reference/ethnicities", headers=actor.headers)
        assert response.status_code == 200, response.text
        items = response.json()
        assert [i["code"] for i in items][:2] == ["01", "02"]
        assert [i["code"] for i in items][-2:] == ["foreign", "unknown"]
        assert len(items) == 56
        assert items[0] == {
            "code": "01",
            "name_vi": "Kinh (Việt)",
            "name_en": "Kinh (Viet)",
            "group": "kinh",
        }
        assert_problem(await world.client.get("/api/v1/reference/ethnicities"), 401)


class TestHometown:
    async def test_a_former_code_is_mapped_and_kept(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker, intake_body(hometown_province_code="02"))
        victim = case["victim"]
        assert (victim["hometown_province_code"], victim["hometown_former_province_code"]) == (
            "08",
            "02",
        )
        response = await patch(world, worker, case, {"victim": {"hometown_province_code": "40"}})
        assert response.status_code == 200, response.text
        victim = response.json()["victim"]
        assert (victim["hometown_province_code"], victim["hometown_former_province_code"]) == (
            "40",
            None,
        )

    async def test_clearing_the_hometown_clears_the_former_code(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker, intake_body(hometown_province_code="36"))
        assert case["victim"]["hometown_province_code"] == "37"  # Nam Định, now Ninh Bình
        response = await patch(world, worker, case, {"victim": {"hometown_province_code": None}})
        assert response.status_code == 200, response.text
        victim = response.json()["victim"]
        assert victim["hometown_province_code"] is None
        assert victim["hometown_former_province_code"] is None

    async def test_a_code_that_never_was_a_province_is_422(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        response = await post(world, worker, intake_body(hometown_province_code="99"))
        assert fields_of(response) == {"victim.hometown_province_code"}


async def _border_guard(world: World, posts: list[str] | None) -> Actor:
    agency = await world.agency("border_guard", NGHE_AN)
    agency.post_province_codes = posts
    world.session.add(agency)
    await world.session.commit()
    return await world.user(Role.CASE_WORKER, agency)


class TestJurisdiction:
    async def test_a_worker_receives_only_in_the_agencys_province(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER, await world.agency("police", NGHE_AN))
        response = await post(world, worker, received_in(NINH_BINH))
        assert fields_of(response) == {"received_location.province_code"}
        case = await open_case(world, worker, received_in(NGHE_AN))
        assert case["case_number"].startswith(f"{NGHE_AN}-")

    async def test_a_border_guard_receives_at_its_posts(self, world: World) -> None:
        guard = await _border_guard(world, [NINH_BINH])
        case = await open_case(world, guard, received_in(NINH_BINH, NINH_BINH_COMMUNE))
        assert case["case_number"].startswith(f"{NINH_BINH}-")
        await open_case(world, guard, received_in(NGHE_AN))  # its own province too
        response = await post(world, guard, received_in("38"))
        assert fields_of(response) == {"received_location.province_code"}

    async def test_a_border_guard_without_a_post_there_is_refused(self, world: World) -> None:
        guard = await _border_guard(world, None)
        response = await post(world, guard, received_in(NINH_BINH))
        assert fields_of(response) == {"received_location.province_code"}

    async def test_a_mission_abroad_receives_in_any_province(self, world: World) -> None:
        mission = await world.agency("diplomatic_mission", None)
        worker = await world.user(Role.CASE_WORKER, mission)
        case = await open_case(world, worker, received_in(NINH_BINH))
        assert case["case_number"].startswith(f"{NINH_BINH}-")

    @pytest.mark.parametrize("province", [None, NGHE_AN])
    async def test_a_national_agency_receives_anywhere(
        self, world: World, province: str | None
    ) -> None:
        """Whether a national agency may receive at all is the agency-function check;
        where is not limited, even for one registered with a province."""
        agency = Agency(code=f"N-{uuid.uuid4().hex[:6]}", name="Bộ (test)", kind="national")
        agency.province_code = province
        session = world.session
        session.add(agency)
        await session.commit()
        principal = Principal(
            actor_id=uuid.uuid4(),
            role=Role.CASE_WORKER,
            agency_id=agency.id,
            agency_kind="national",
            province_code=province,
        )
        assert await jurisdiction.receives_in(session, principal, NINH_BINH)
        police = await world.agency("police", NGHE_AN)
        assert not await jurisdiction.receives_in(
            session,
            Principal(
                actor_id=uuid.uuid4(),
                role=Role.CASE_WORKER,
                agency_id=police.id,
                agency_kind="police",
                province_code=NGHE_AN,
            ),
            NINH_BINH,
        )

    async def test_a_hotline_report_of_another_province_is_not_opened_here(
        self, world: World
    ) -> None:
        actor = await operator(world)
        police = await world.agency("police", NGHE_AN)
        worker = await world.user(Role.CASE_WORKER, police)
        report_id, _ = await record_report(world, actor, province_code=NINH_BINH)
        await forward(world, actor, report_id, police.id)
        response = await world.client.post(
            f"/api/v1/hotline-reports/{report_id}/triage",
            json={"action": "open_case"},
            headers={**worker.headers, "If-Match": '"2"'},
        )
        assert fields_of(response) == {"received_location.province_code"}
