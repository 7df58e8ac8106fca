"""Vietnamese first: problem bodies in Vietnamese by default, English on request,
every invalid field at once, field paths in full."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app import errors
from app.i18n import msg
from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import Actor, World, assert_problem
from tests.hotline.helpers import BASE as HOTLINE
from tests.hotline.helpers import operator, report_body
from tests.referrals.helpers import URL as REFERRALS
from tests.referrals.helpers import parties, referral_body

# Common English words: none may reach a Vietnamese caller.
ENGLISH = re.compile(
    r"\b(the|must|is|are|not|required|invalid|only|this|that|with|and|or|of|an|to|be|"
    r"needs|cannot|found|should|missing|field|value|error|already|unknown|allowed|"
    r"input|valid|expecting|decode|please|try)\b",
    re.IGNORECASE,
)
VIETNAMESE = [{}, {"Accept-Language": "vi"}, {"Accept-Language": "vi-VN,vi;q=0.9"}]


def english_in(body: dict[str, Any]) -> list[str]:
    texts = [str(body["title"]), str(body["detail"])]
    texts += [str(e["message"]) for e in body.get("errors", [])]
    # Codes in quotes ('other', 'unknown') are values, not English.
    return [t for t in texts if ENGLISH.search(re.sub(r"'[^']*'", "", t))]


def errors_of(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


@pytest.mark.parametrize("language", VIETNAMESE)
async def test_no_english_reaches_a_vietnamese_caller(
    world: World, language: dict[str, str]
) -> None:
    admin = await world.user(Role.AGENCY_ADMIN)
    worker = await world.user(Role.CASE_WORKER, admin.agency)
    client = world.client
    answers: dict[str, httpx.Response] = {}

    answers["401"] = await client.get("/api/v1/users", headers=language)
    bad_token = {**language, "Authorization": "Bearer not-a-token"}
    answers["401 token"] = await client.get("/api/v1/users", headers=bad_token)
    answers["403"] = await client.post(
        "/api/v1/users", json={}, headers={**worker.headers, **language}
    )
    answers["404 route"] = await client.get("/api/v1/nothing-here", headers=language)
    answers["404 case"] = await client.get(
        f"/api/v1/cases/{uuid.uuid4()}", headers={**worker.headers, **language}
    )
    other = await world.user(Role.CASE_WORKER, admin.agency, login=False)
    url = f"/api/v1/users/{other.id}"
    answers["428"] = await client.patch(url, json={}, headers={**admin.headers, **language})
    stale = {**admin.headers, **language, "If-Match": '"99"'}
    answers["412"] = await client.patch(url, json={}, headers=stale)
    duplicate = {
        "username": other.user.username,
        "password": "a-long-enough-password-2026",
        "full_name": "Trần Văn Thử",
        "role": "case_worker",
    }
    answers["409"] = await client.post(
        "/api/v1/users", json=duplicate, headers={**admin.headers, **language}
    )
    answers["422 pydantic"] = await client.post(
        "/api/v1/cases",
        json={**intake_body(sex="x"), "received_location": {"province_code": "99"}},
        headers={**worker.headers, **language},
    )
    answers["422 json"] = await client.post(
        "/api/v1/cases",
        content=b'{"victim": ',
        headers={**worker.headers, **language, "Content-Type": "application/json"},
    )
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    answers["422 service"] = await client.post(
        "/api/v1/cases",
        json={**intake_body(), "received_at": future, "hotline_report_id": str(uuid.uuid4())},
        headers={**worker.headers, **language},
    )
    throttled = await world.user(Role.CASE_WORKER, admin.agency, login=False)
    for _ in range(5):
        await world.token(throttled.user.username, "wrong-password")
    answers["429"] = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": throttled.user.username, "password": "x"},
        headers={**language, "X-Forwarded-For": "10.0.0.1"},
    )
    statuses = {
        "401": 401, "401 token": 401, "403": 403, "404 route": 404, "404 case": 404,
        "428": 428, "412": 412, "409": 409, "422 pydantic": 422, "422 json": 422,
        "422 service": 422, "429": 429,
    }  # fmt: skip
    leaks = {}
    for name, response in answers.items():
        body = assert_problem(response, statuses[name])
        assert response.headers["content-language"] == "vi"
        if found := english_in(body):
            leaks[name] = found
    assert leaks == {}


@pytest.mark.parametrize("language", VIETNAMESE)
async def test_415_is_vietnamese(language: dict[str, str]) -> None:
    app = FastAPI()
    errors.install(app)

    @app.post("/upload")
    async def upload() -> None:
        raise errors.UnsupportedMediaType(
            msg("Documents must be one of: {types}.", types="image/jpeg, application/pdf")
        )

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        body = assert_problem(await client.post("/upload", headers=language), 415)
    assert english_in(body) == []
    assert (
        body["detail"]
        == "Tài liệu phải thuộc một trong các định dạng: image/jpeg, application/pdf."
    )


async def test_english_on_request(world: World) -> None:
    worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    response = await world.client.post(
        "/api/v1/cases",
        json={**intake_body(sex="x"), "exploitation_types": ["forced_labour", "nope"]},
        headers={**worker.headers, "Accept-Language": "en"},
    )
    body = assert_problem(response, 422)
    assert response.headers["content-language"] == "en"
    assert body["title"] == "Invalid input"
    found = errors_of(body)
    assert found["victim.sex"].startswith("must be one of: ")
    assert found["exploitation_types[1]"].startswith("must be one of: ")


async def test_malformed_json_names_the_body(world: World) -> None:
    worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    for language, text in (("vi", "không phải là JSON hợp lệ"), ("en", "is not valid JSON")):
        response = await world.client.post(
            "/api/v1/cases",
            content=b'{"victim": {"full_name": "Nguy',
            headers={
                **worker.headers,
                "Content-Type": "application/json",
                "Accept-Language": language,
            },
        )
        body = assert_problem(response, 422)
        assert body["errors"] == [{"field": "body", "message": text}]


async def _intake(world: World, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    response = await world.client.post("/api/v1/cases", json=body, headers=actor.headers)
    return assert_problem(response, 422)


class TestEveryInvalidFieldAtOnce:
    async def test_intake_schema_errors(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
        body = intake_body(sex="x", hometown_province_code="99")
        body["exploitation_types"] = ["nope"]
        found = errors_of(await _intake(world, worker, body))
        assert set(found) == {
            "victim.sex",
            "victim.hometown_province_code",
            "exploitation_types[0]",
        }
        assert found["victim.sex"].startswith("phải là một trong các giá trị: ")

    async def test_intake_service_errors(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
        future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        body = {
            **intake_body(national_id="12", phone="12"),
            "received_at": future,
            "hotline_report_id": str(uuid.uuid4()),
        }
        found = errors_of(await _intake(world, worker, body))
        assert set(found) == {
            "received_at",
            "hotline_report_id",
            "victim.national_id",
            "victim.phone",
        }
        assert found["received_at"] == "không được ở tương lai"

    async def test_hotline_report(self, world: World) -> None:
        actor = await operator(world)
        future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        body = report_body(received_at=future)
        body["caller"]["phone"] = "12"
        body["suspected_victims"][0]["nationality"] = "XX"
        response = await world.client.post(HOTLINE, json=body, headers=actor.headers)
        found = errors_of(assert_problem(response, 422))
        # A schema error first: the nationality is a pydantic code check.
        assert set(found) == {"suspected_victims[0].nationality"}
        del body["suspected_victims"][0]["nationality"]
        body["suspected_victims"][0]["name"] = "\u200b"
        response = await world.client.post(HOTLINE, json=body, headers=actor.headers)
        found = errors_of(assert_problem(response, 422))
        assert set(found) == {"received_at", "caller.phone", "suspected_victims[0].name"}

    async def test_referral(self, world: World) -> None:
        p = await parties(world)
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        body = referral_body(
            p,
            to_agency_id=str(p.owner.agency.id),
            consent_id=str(uuid.uuid4()),
            due_at=past,
        )
        response = await world.client.post(REFERRALS, json=body, headers=p.owner.headers)
        found = errors_of(assert_problem(response, 422))
        assert set(found) == {"to_agency_id", "consent_id", "due_at"}
        assert found["due_at"] == "phải ở tương lai"
        assert found["to_agency_id"] == "phải là cơ quan khác với cơ quan gửi"

    async def test_an_added_person_reports_both_problems(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
        case = await open_case(world, worker)
        response = await world.client.post(
            f"/api/v1/cases/{case['id']}/persons",
            json={
                "kind": "relative",
                "full_name": "Lê Thị Thử",
                "date_of_birth": "1970-01-01",
                "age_estimate": 50,
            },
            headers=worker.headers,
        )
        found = errors_of(assert_problem(response, 422))
        assert set(found) == {"age_estimate", "relation"}
