"""The first days of a case: the age and its basis, a minor's case handed to child
protection, the commune rule, first needs and risk (issue 17, items 1 to 3 and 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body, open_case, years_ago
from tests.conftest import Actor, World, assert_problem
from tests.hotline.helpers import forward, operator, record_report

CASES = "/api/v1/cases"


def _consent(given_by: str) -> dict[str, str]:
    return {
        "scope": "data_sharing",
        "given_by": given_by,
        "given_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
    }


async def _patch(world: World, actor: Actor, case: dict[str, Any], **body: Any) -> Any:
    return await world.client.patch(
        f"{CASES}/{case['id']}",
        json=body,
        headers={**actor.headers, "If-Match": f'"{case["version"]}"'},
    )


async def _referrals(engine: AsyncEngine, case_id: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT r.to_agency_id, r.purpose, r.legal_basis, r.status, r.shared_fields"
                " FROM referrals r WHERE r.case_id = :id ORDER BY r.created_at"
            ),
            {"id": case_id},
        )
        return [dict(r._mapping) for r in rows]


async def _timeline(world: World, actor: Actor, case_id: str) -> list[dict[str, Any]]:
    response = await world.client.get(
        f"{CASES}/{case_id}/timeline?limit=100", headers=actor.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


class TestAge:
    async def test_estimate_gives_the_flags_without_a_date_of_birth(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker, intake_body(date_of_birth=None, age_estimate=15))
        assert (case["is_child"], case["is_minor"], case["age_basis"]) == (True, True, "estimate")
        assert case["age_estimate"] == 15
        adult = await open_case(world, worker, intake_body(date_of_birth=None, age_estimate=30))
        assert (adult["is_child"], adult["is_minor"], adult["age_basis"]) == (
            False,
            False,
            "estimate",
        )

    async def test_date_of_birth_wins_over_the_estimate(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(
            world, worker, intake_body(date_of_birth=years_ago(25), age_estimate=15)
        )
        assert (case["is_minor"], case["age_basis"]) == (False, "date_of_birth")

    async def test_unknown_age_is_presumed_a_minor(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker, intake_body(date_of_birth=None))
        assert (case["is_minor"], case["age_basis"], case["age_estimate"]) == (
            True,
            "presumed_minor",
            None,
        )

    async def test_estimate_out_of_range_is_422(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        response = await world.client.post(
            CASES, json=intake_body(age_estimate=121), headers=worker.headers
        )
        assert_problem(response, 422)

    async def test_a_minor_by_estimate_cannot_consent_alone(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker, intake_body(date_of_birth=None, age_estimate=16))
        url = f"{CASES}/{case['id']}/consents"
        alone = await world.client.post(url, json=_consent("self"), headers=worker.headers)
        body = assert_problem(alone, 422)
        assert "both" in str(body)
        both = await world.client.post(url, json=_consent("both"), headers=worker.headers)
        assert both.status_code == 201, both.text

    async def test_a_presumed_minor_needs_the_legal_representative(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker, intake_body(date_of_birth=None))
        url = f"{CASES}/{case['id']}/consents"
        alone = await world.client.post(url, json=_consent("self"), headers=worker.headers)
        assert_problem(alone, 422)
        represented = await world.client.post(
            url, json=_consent("legal_representative"), headers=worker.headers
        )
        assert represented.status_code == 201, represented.text

    async def test_an_adult_by_estimate_consents_alone(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker, intake_body(date_of_birth=None, age_estimate=30))
        response = await world.client.post(
            f"{CASES}/{case['id']}/consents", json=_consent("self"), headers=worker.headers
        )
        assert response.status_code == 201, response.text

    async def test_hotline_approximate_age_carries_over(self, world: World) -> None:
        actor = await operator(world)
        police = await world.agency("police")
        worker = await world.user(Role.CASE_WORKER, police)
        report_id, body = await record_report(world, actor)
        assert body["suspected_victims"][0]["approximate_age"] == 16
        await forward(world, actor, report_id, police.id)
        response = await world.client.post(
            f"/api/v1/hotline-reports/{report_id}/triage",
            json={"action": "open_case"},
            headers={**worker.headers, "If-Match": '"2"'},
        )
        assert response.status_code == 200, response.text
        case = (
            await world.client.get(f"{CASES}/{response.json()['case_id']}", headers=worker.headers)
        ).json()
        assert (case["age_estimate"], case["age_basis"]) == (16, "estimate")
        assert (case["is_child"], case["is_minor"]) == (False, True)

    async def test_estimate_patched_by_a_worker_moves_the_flags(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker, intake_body(date_of_birth=None, age_estimate=30))
        response = await _patch(world, worker, case, victim={"age_estimate": 14})
        assert response.status_code == 200, response.text
        assert (response.json()["is_child"], response.json()["is_minor"]) == (True, True)

    async def test_only_a_supervisor_corrects_the_basis(self, world: World) -> None:
        agency = await world.agency("social_affairs")
        worker = await world.user(Role.CASE_WORKER, agency)
        supervisor = await world.user(Role.SUPERVISOR, agency)
        case = await open_case(world, worker, intake_body(date_of_birth=None))
        age = {"basis": "estimate", "age_estimate": 24, "reason": "Giấy tờ tùy thân đã xác minh"}
        assert_problem(await _patch(world, worker, case, age=age), 403)
        no_reason = {"basis": "estimate", "age_estimate": 24}
        assert_problem(await _patch(world, supervisor, case, age=no_reason), 422)
        response = await _patch(world, supervisor, case, age=age)
        assert response.status_code == 200, response.text
        corrected = response.json()
        assert (corrected["is_minor"], corrected["age_basis"], corrected["age_estimate"]) == (
            False,
            "estimate",
            24,
        )
        entries = await _timeline(world, supervisor, case["id"])
        entry = next(e for e in entries if e["kind"] == "age_basis_corrected")
        assert entry["note"] == age["reason"]

    async def test_supervisor_keeps_the_presumption_over_an_estimate(self, world: World) -> None:
        agency = await world.agency("social_affairs")
        worker = await world.user(Role.CASE_WORKER, agency)
        supervisor = await world.user(Role.SUPERVISOR, agency)
        case = await open_case(world, worker, intake_body(date_of_birth=None, age_estimate=19))
        assert case["is_minor"] is False
        keep = {"basis": "presumed_minor", "reason": "Có thể dưới 18 tuổi"}
        response = await _patch(world, supervisor, case, age=keep)
        assert response.status_code == 200, response.text
        kept = response.json()
        assert (kept["is_minor"], kept["age_basis"]) == (True, "presumed_minor")
        # A worker's new estimate does not end a presumption a supervisor kept.
        again = await _patch(world, worker, kept, victim={"age_estimate": 20})
        assert (again.json()["is_minor"], again.json()["age_basis"]) == (True, "presumed_minor")
        # A date of birth establishes the age.
        born = await _patch(world, worker, again.json(), victim={"date_of_birth": years_ago(20)})
        assert (born.json()["is_minor"], born.json()["age_basis"]) == (False, "date_of_birth")

    async def test_estimate_basis_needs_an_estimate(self, world: World) -> None:
        supervisor = await world.user(Role.SUPERVISOR)
        case = await open_case(world, supervisor, intake_body(date_of_birth=None))
        response = await _patch(world, supervisor, case, age={"basis": "estimate", "reason": "x"})
        assert_problem(response, 422)


class TestChildProtection:
    async def test_a_minors_case_is_notified_to_child_protection(
        self, world: World, engine: AsyncEngine
    ) -> None:
        social = await world.agency("social_affairs", "40")
        elsewhere = await world.agency("social_affairs", "37")
        police = await world.user(Role.CASE_WORKER, await world.agency("police", "40"))
        case = await open_case(world, police, intake_body(date_of_birth=years_ago(15)))
        [referral] = await _referrals(engine, case["id"])
        assert referral["to_agency_id"] == social.id != elsewhere.id
        assert (referral["purpose"], referral["legal_basis"], referral["status"]) == (
            "notification",
            "legal_obligation",
            "pending",
        )
        assert not any(
            f.startswith("victim.") and f != "victim.sex" for f in referral["shared_fields"]
        )
        # Listed as action needed for the receiver until answered.
        receiver = await world.user(Role.CASE_WORKER, social)
        inbox = await world.client.get(
            "/api/v1/referrals?box=incoming&action_needed=true", headers=receiver.headers
        )
        assert [r["case_id"] for r in inbox.json()["items"]] == [case["id"]]
        entries = await _timeline(world, police, case["id"])
        created = next(e for e in entries if e["kind"] == "referral_created")
        assert (created["detail"], created["actor_agency_id"]) == (
            "notification:legal_obligation",
            str(police.agency.id),
        )

    async def test_an_adults_case_is_not(self, world: World, engine: AsyncEngine) -> None:
        await world.agency("social_affairs", "40")
        police = await world.user(Role.CASE_WORKER, await world.agency("police", "40"))
        case = await open_case(world, police, intake_body(date_of_birth=years_ago(30)))
        assert await _referrals(engine, case["id"]) == []

    async def test_a_lead_holding_the_function_records_it_within(
        self, world: World, engine: AsyncEngine
    ) -> None:
        social = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
        case = await open_case(world, social, intake_body(date_of_birth=years_ago(12)))
        assert await _referrals(engine, case["id"]) == []
        kinds = [e["kind"] for e in await _timeline(world, social, case["id"])]
        assert "notified_within_agency" in kinds

    async def test_no_holder_in_the_province_is_on_the_timeline(
        self, world: World, engine: AsyncEngine
    ) -> None:
        police = await world.user(Role.CASE_WORKER, await world.agency("police", "40"))
        case = await open_case(world, police, intake_body(date_of_birth=years_ago(12)))
        assert await _referrals(engine, case["id"]) == []
        entries = await _timeline(world, police, case["id"])
        assert ("notification_undeliverable", "child_protection") in [
            (e["kind"], e["detail"]) for e in entries
        ]

    async def test_a_case_that_becomes_a_minors_is_notified_once(
        self, world: World, engine: AsyncEngine
    ) -> None:
        await world.agency("social_affairs", "40")
        police = await world.user(Role.CASE_WORKER, await world.agency("police", "40"))
        case = await open_case(world, police, intake_body(date_of_birth=years_ago(30)))
        response = await _patch(world, police, case, victim={"date_of_birth": years_ago(15)})
        assert response.status_code == 200, response.text
        assert [r["purpose"] for r in await _referrals(engine, case["id"])] == ["notification"]
        # Adult again, then a minor again: still the one notification.
        adult = await _patch(
            world, police, response.json(), victim={"date_of_birth": years_ago(30)}
        )
        again = await _patch(world, police, adult.json(), victim={"date_of_birth": years_ago(14)})
        assert again.status_code == 200, again.text
        assert len(await _referrals(engine, case["id"])) == 1


class TestCommuneRule:
    async def test_a_commune_intake_notifies_the_social_affairs_lead(
        self, world: World, engine: AsyncEngine
    ) -> None:
        social = await world.agency("social_affairs", "40")
        await world.agency("police", "40")
        commune = await world.user(Role.CASE_WORKER, await world.agency("commune", "40"))
        case = await open_case(world, commune, intake_body())
        [referral] = await _referrals(engine, case["id"])
        assert (referral["to_agency_id"], referral["purpose"]) == (social.id, "notification")
        entries = await _timeline(world, commune, case["id"])
        created = next(e for e in entries if e["kind"] == "referral_created")
        assert created["actor_agency_id"] == str(commune.agency.id)
        assert created["occurred_at"]

    async def test_another_body_records_the_commune_it_brought_the_person_to(
        self, world: World, engine: AsyncEngine
    ) -> None:
        police = await world.user(Role.CASE_WORKER, await world.agency("police", "40"))
        body = intake_body()
        brought_at = datetime.now(UTC) - timedelta(minutes=20)
        body["brought_to_commune"] = {
            "commune_code": body["received_location"]["commune_code"],
            "brought_at": brought_at.isoformat(),
        }
        case = await open_case(world, police, body)
        assert case["brought_to_commune_code"] == body["received_location"]["commune_code"]
        assert datetime.fromisoformat(case["brought_to_commune_at"]) == brought_at
        entries = await _timeline(world, police, case["id"])
        entry = next(e for e in entries if e["kind"] == "brought_to_commune")
        assert datetime.fromisoformat(entry["occurred_at"]) == brought_at
        assert entry["actor_agency_id"] == str(police.agency.id)
        # A police intake notifies no social affairs of itself (the commune does).
        assert await _referrals(engine, case["id"]) == []

    async def test_arrival_recorded_later(self, world: World) -> None:
        police = await world.user(Role.CASE_WORKER, await world.agency("police", "40"))
        case = await open_case(world, police, intake_body())
        arrival = {
            "commune_code": "16681",
            "brought_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        }
        response = await _patch(world, police, case, brought_to_commune=arrival)
        assert response.status_code == 200, response.text
        assert response.json()["brought_to_commune_code"] == "16681"

    async def test_the_commune_itself_brings_no_one_to_itself(self, world: World) -> None:
        commune = await world.user(Role.CASE_WORKER, await world.agency("commune", "40"))
        body = intake_body()
        body["brought_to_commune"] = {
            "commune_code": "16681",
            "brought_at": datetime.now(UTC).isoformat(),
        }
        response = await world.client.post(CASES, json=body, headers=commune.headers)
        problem = assert_problem(response, 422)
        assert "brought_to_commune" in str(problem)

    async def test_brought_before_received_is_422(self, world: World) -> None:
        police = await world.user(Role.CASE_WORKER, await world.agency("police", "40"))
        body = intake_body()
        received = datetime.fromisoformat(body["received_at"])
        body["brought_to_commune"] = {
            "commune_code": "16681",
            "brought_at": (received - timedelta(hours=2)).isoformat(),
        }
        response = await world.client.post(CASES, json=body, headers=police.headers)
        problem = assert_problem(response, 422)
        assert "brought_to_commune.brought_at" in str(problem)


class TestFirstNeedsAndRisk:
    async def test_recorded_at_intake_and_changed_later(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        body = {**intake_body(), "first_needs": ["shelter", "medical_urgent"], "risk_level": "high"}
        case = await open_case(world, worker, body)
        assert (case["first_needs"], case["risk_level"]) == (["medical_urgent", "shelter"], "high")
        response = await _patch(world, worker, case, risk_level="medium", first_needs=["food"])
        assert (response.json()["risk_level"], response.json()["first_needs"]) == (
            "medium",
            ["food"],
        )

    async def test_unknown_codes_are_422(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        for change in ({"first_needs": ["money"]}, {"risk_level": "extreme"}):
            response = await world.client.post(
                CASES, json={**intake_body(), **change}, headers=worker.headers
            )
            assert_problem(response, 422)
