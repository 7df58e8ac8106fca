"""The record of processing is built from the code and the data: it follows the
identity columns, the purposes of use, the referrals made and the settings."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncEngine

from app.audit import writer
from app.config import Settings
from app.models import person as person_model
from app.security.permissions import Role
from app.services.reports.processing_record import retention_settings
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import Actor, World, assert_problem
from tests.referrals.helpers import parties, refer

URL = "/api/v1/reports/processing-record"


async def _auditor(world: World) -> Actor:
    return await world.user(Role.AUDITOR, await world.agency("national"))


async def _record(world: World, actor: Actor | None = None) -> dict[str, Any]:
    actor = actor or await _auditor(world)
    response = await world.client.get(URL, headers=actor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _kinds(record: dict[str, Any]) -> dict[str, int]:
    return {r["agency_kind"]: r["referrals"] for r in record["recipient_agency_kinds"]}


async def test_data_categories_follow_the_persons_table(world: World) -> None:
    record = await _record(world)
    by = {c["category"]: c for c in record["data_categories"]}
    assert by["identity"]["columns"] == list(person_model.ENCRYPTED_COLUMNS)
    assert by["identity"]["stored"] == "encrypted"
    assert set(by["statistics"]["columns"]) == {
        "sex",
        "nationality",
        "birth_year",
        "ethnicity_group",
        "hometown_province_code",
        "hometown_former_province_code",
    }
    assert not set(by["statistics"]["columns"]) & set(person_model.ENCRYPTED_COLUMNS)


async def test_a_new_identity_column_shows(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(person_model, "ENCRYPTED_COLUMNS", (*person_model.ENCRYPTED_COLUMNS, "sex"))
    by = {c["category"]: c for c in (await _record(world))["data_categories"]}
    assert by["identity"]["columns"][-1] == "sex"
    assert "sex" not in by["statistics"]["columns"]


async def test_purposes_follow_the_code(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (await _record(world))["purposes"] == sorted(writer.PURPOSES)
    monkeypatch.setattr(writer, "PURPOSES", writer.PURPOSES | {"research"})
    assert "research" in (await _record(world))["purposes"]


async def test_recipients_and_bases_follow_the_referrals(world: World) -> None:
    before = await _record(world)
    assert _kinds(before) == {} and before["legal_bases"] == []
    p = await parties(world)
    await refer(world, p)  # to social affairs, on consent
    record = await _record(world)
    assert _kinds(record) == {"social_affairs": 1}
    assert record["legal_bases"] == [{"legal_basis": "consent", "referrals": 1}]
    bank = await world.agency("bank", "40")
    await refer(world, p, to_agency_id=str(bank.id), services=["loan"])
    assert _kinds(await _record(world)) == {"bank": 1, "social_affairs": 1}


def test_retention_settings_are_read_from_settings() -> None:
    class WithRetention(Settings):
        idempotency_retention_hours: int = Field(
            default=24, alias="VCM_IDEMPOTENCY_RETENTION_HOURS"
        )
        identity_retention_days: int | None = Field(
            default=None, alias="VCM_IDENTITY_RETENTION_DAYS"
        )

    found = retention_settings(WithRetention(VCM_ENV="dev"))  # type: ignore[call-arg]
    named = {r.setting: r.value for r in found}
    assert named["VCM_IDEMPOTENCY_RETENTION_HOURS"] == 24
    assert named["VCM_IDENTITY_RETENTION_DAYS"] is None
    plain = retention_settings(Settings(VCM_ENV="dev"))  # type: ignore[call-arg]
    assert {r.setting for r in plain} == {
        f.alias or n for n, f in Settings.model_fields.items() if "retention" in n
    }


async def test_who_may_read(world: World, engine: AsyncEngine) -> None:
    admin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
    mark = await last_event_id(engine)
    await _record(world, admin)
    (event,) = await events_after(engine, mark)
    assert (event["action"], event["outcome"]) == ("report.processing_record", "success")
    agency = await world.agency("social_affairs", "40")
    for role in (Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.CASE_WORKER, Role.ANALYST):
        actor = await world.user(role, agency)
        assert_problem(await world.client.get(URL, headers=actor.headers), 403)
