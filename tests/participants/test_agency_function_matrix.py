"""Every agency kind against every step that needs an agency function, through the
HTTP API.

The functions a step needs are written out here, from the issue and the law (a step
needs any one of them), independently of `app.domain`; each kind's functions are read
from the database (`agency_kinds`, seeded by the migrations), so the expectation
follows the data. A step the kind may take answers its success status; otherwise the
caller's own agency gets 403 `agency-function-required` naming the function, and an
agency the request names (a forward target, the agency responsible for a measure, a
provider, a referral's receiver) is 422 on its field naming the function.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from app.models import AgencyKind, Case, SupportService
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import Actor, World, assert_problem
from tests.hotline.helpers import BASE as HOTLINE
from tests.hotline.helpers import operator, record_report
from tests.referrals.helpers import URL as REFERRALS
from tests.referrals.helpers import give_consent
from tests.support.factories import make_case
from tests.support.helpers import add_rate

# The assertions read the English messages (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english")

RECEIVE = {"receive"}
PROTECT = {"protect"}
# A support type -> the functions that give it (DOMAIN.md: health facilities medical
# care, legal-aid centres legal aid, the Bank for Social Policies loans, the commune
# first support, a mission the travel home, social affairs and NGOs the rest).
SUPPORT = {
    "essential_needs": {"support", "first_support"},
    "medical": {"medical_support", "support"},
    "interpretation": {"support"},
    "legal_support": {"support", "legal_aid"},
    "legal_aid": {"legal_aid"},
    "travel": {"support", "first_support", "repatriate"},
    "psychological": {"support", "counselling"},
    "schooling": {"support"},
    "vocational": {"support"},
    "initial_allowance": {"support"},
    "loan": {"loans"},
    "health_insurance": {"support", "medical_support"},
}
# A referral's purpose -> what its receiver needs (None: anyone may receive it).
REFERRAL = {
    "repatriation": {"repatriate", "hand_over"},
    "transfer": RECEIVE,
    "protection": PROTECT,
    "support": None,
}
# Closing a foreign victim's identified case as handed back: the move's own function
# (support), or handing over at the border, or repatriating.
HAND_BACK = {"support", "hand_over", "repatriate"}
SEED_KINDS = {"national", "social_affairs", "police", "border_guard", "commune", "hotline",
              "diplomatic_mission", "legal_aid", "health", "bank", "ngo"}  # fmt: skip


class Matrix:
    """The kinds' functions from the database, and the mismatches found."""

    def __init__(self, kinds: dict[str, frozenset[str]]) -> None:
        self.kinds = kinds
        self.wrong: list[str] = []

    def may(self, kind: str, needed: Iterable[str] | None) -> bool:
        return needed is None or bool(set(needed) & self.kinds[kind])

    def check(
        self,
        label: str,
        kind: str,
        response: httpx.Response,
        needed: set[str] | None,
        *,
        ok: int,
        refused: int,
    ) -> bool:
        """Record a mismatch unless `response` is what `kind`'s functions predict;
        True when the step was taken. A 403 is `agency-function-required` and, like a
        422, names the functions that would do."""
        allowed = self.may(kind, needed)
        if allowed and response.status_code == ok:
            return True
        if not allowed and response.status_code == refused:
            text = response.text
            named = refused == 409 or all(re.search(rf"\b{f}\b", text) for f in needed or ())
            typed = refused != 403 or "agency-function-required" in text
            if named and typed:
                return False
        expected = ok if allowed else refused
        self.wrong.append(f"{kind} {label}: {response.status_code}, want {expected}: "
                          f"{response.text[:300]}")  # fmt: skip
        return False

    def assert_none_wrong(self) -> None:
        assert not self.wrong, "\n".join(self.wrong)


async def matrix(world: World) -> Matrix:
    rows = (await world.session.execute(select(AgencyKind.code, AgencyKind.functions))).all()
    kinds = {code: frozenset(functions) for code, functions in rows}
    assert set(kinds) >= SEED_KINDS
    return Matrix(kinds)


async def staff(world: World, kind: str, role: Role = Role.SUPERVISOR) -> Actor:
    return await world.user(role, await world.agency(kind, "40"))


async def led_by(world: World, lead: Actor, *, nationality: str = "VN") -> uuid.UUID:
    """An identified case of a Vietnamese (or `nationality`) victim led by `lead`'s
    agency, made as rows: an agency that may not open a case may still lead one (a
    transfer of old, a reorganisation)."""
    made = await make_case(world, lead, nationality=nationality)
    await world.session.execute(
        update(Case).where(col(Case.id) == made.id).values(victim_nationality=nationality)
    )
    await world.session.commit()
    return made.id


# Essential needs are given by a unit the 120-day cap counts in days.
UNIT = {"essential_needs": "day"}
# Given once per person: other steps on the same person withdraw the open one first.
ONE_OFF = ("initial_allowance", "health_insurance")


def service(type_: str, **extra: Any) -> dict[str, Any]:
    unit = UNIT.get(type_, "session")
    return {"type": type_, "quantity": 1, "unit": unit, "service_date": "2026-03-02", **extra}


async def rates_for_every_type(world: World) -> None:
    for type_ in SUPPORT:
        unit = UNIT.get(type_, "session")
        await add_rate(world, type_, 100_000, unit=unit, province_code=None)


async def withdraw_one_offs(world: World, case_id: uuid.UUID | str) -> None:
    """Cancel the case's open one-off supports, so the next step may make another."""
    await world.session.execute(
        text(
            "UPDATE support_services SET status = 'cancelled' WHERE case_id = :case_id "
            "AND type = ANY(:types) AND status IN ('requested', 'approved')"
        ),
        {"case_id": uuid.UUID(str(case_id)), "types": list(ONE_OFF)},
    )
    await world.session.commit()


def support_url(case_id: uuid.UUID | str, tail: str = "") -> str:
    return f"/api/v1/cases/{case_id}/support-services{tail}"


async def test_open_a_case(world: World) -> None:
    m = await matrix(world)
    for kind in m.kinds:
        worker = await staff(world, kind, Role.CASE_WORKER)
        response = await world.client.post(
            "/api/v1/cases", json=intake_body(), headers=worker.headers
        )
        m.check("opens a case", kind, response, RECEIVE, ok=201, refused=403)
    m.assert_none_wrong()


async def test_open_a_case_from_a_hotline_report(world: World) -> None:
    # A report the kind's own operator recorded: its supervisor triages it into a case.
    m = await matrix(world)
    for kind in m.kinds:
        agency = await world.agency(kind, "40")
        recorder = await world.user(Role.HOTLINE_OPERATOR, agency)
        supervisor = await world.user(Role.SUPERVISOR, agency)
        report_id, _ = await record_report(world, recorder)
        response = await world.client.post(
            f"{HOTLINE}/{report_id}/triage",
            json={"action": "open_case"},
            headers={**supervisor.headers, "If-Match": '"1"'},
        )
        m.check("triages a report into a case", kind, response, RECEIVE, ok=200, refused=403)
    m.assert_none_wrong()


async def test_be_a_hotline_forward_target(world: World) -> None:
    m = await matrix(world)
    centre = await operator(world)
    for kind in m.kinds:
        target = await world.agency(kind, "40")
        report_id, _ = await record_report(world, centre)
        response = await world.client.post(
            f"{HOTLINE}/{report_id}/triage",
            json={"action": "forward", "to_agency_id": str(target.id)},
            headers={**centre.headers, "If-Match": '"1"'},
        )
        m.check("is a forward target", kind, response, RECEIVE, ok=200, refused=422)
    m.assert_none_wrong()


async def _service_row(world: World, case_id: uuid.UUID, by: Actor, type_: str, status: str) -> str:
    """A service `by` requested (another person than the one who then acts on it)."""
    await withdraw_one_offs(world, case_id)
    case = await world.session.get(Case, case_id)
    assert case is not None
    row = SupportService(
        case_id=case_id,
        person_id=case.victim_person_id,
        type=type_,
        unit=UNIT.get(type_, "session"),
        quantity=1,
        service_date=date(2026, 3, 2),
        province_code="40",
        amount_vnd=100_000,
        requested_by=by.id,
        status=status,
    )
    world.session.add(row)
    await world.session.commit()
    return str(row.id)


async def test_lead_requests_approves_and_delivers_each_support(world: World) -> None:
    m = await matrix(world)
    await rates_for_every_type(world)
    for kind in m.kinds:
        lead = await staff(world, kind)
        requester = await world.user(Role.CASE_WORKER, lead.agency)
        case_id = await led_by(world, lead)
        for type_, needed in SUPPORT.items():
            asked = await world.client.post(
                support_url(case_id), json=service(type_), headers=lead.headers
            )
            m.check(f"requests {type_}", kind, asked, needed, ok=201, refused=403)
            requested = await _service_row(world, case_id, requester, type_, "requested")
            approved = await world.client.post(
                support_url(case_id, f"/{requested}/approve"), headers=lead.headers
            )
            m.check(f"approves {type_}", kind, approved, needed, ok=200, refused=403)
            ready = await _service_row(world, case_id, requester, type_, "approved")
            delivered = await world.client.post(
                support_url(case_id, f"/{ready}/deliver"), headers=lead.headers
            )
            m.check(f"delivers {type_}", kind, delivered, needed, ok=200, refused=403)
    m.assert_none_wrong()


async def test_be_the_provider_the_lead_names(world: World) -> None:
    m = await matrix(world)
    await rates_for_every_type(world)
    # A lead that gives each type itself: the bank its loans, a legal-aid centre legal
    # aid, social affairs the rest.
    leads = {kind: await staff(world, kind) for kind in ("social_affairs", "bank", "legal_aid")}
    cases = {kind: await led_by(world, lead) for kind, lead in leads.items()}
    lead_of = {"loan": "bank", "legal_aid": "legal_aid"}
    for kind in m.kinds:
        provider = await world.agency(kind, "40")
        for type_, needed in SUPPORT.items():
            by = lead_of.get(type_, "social_affairs")
            response = await world.client.post(
                support_url(cases[by]),
                json=service(type_, provider_agency_id=str(provider.id)),
                headers=leads[by].headers,
            )
            m.check(f"provides {type_}", kind, response, needed, ok=201, refused=422)
            await withdraw_one_offs(world, cases[by])
    m.assert_none_wrong()


async def test_a_support_participant_records_what_its_kind_gives(world: World) -> None:
    m = await matrix(world)
    await rates_for_every_type(world)
    lead = await staff(world, "social_affairs")
    case = await open_case(world, lead)
    await world.session.execute(
        update(Case).where(col(Case.id) == case["id"]).values(status="identified")
    )
    await world.session.commit()
    consent_id = await give_consent(world, lead, case["id"])
    for kind in m.kinds:
        participant = await staff(world, kind, Role.CASE_WORKER)
        referral = await world.client.post(
            REFERRALS,
            json={
                "case_id": case["id"],
                "to_agency_id": str(participant.agency.id),
                "purpose": "support",
                "services": list(SUPPORT),
                "shared_fields": ["victim.sex"],
                "consent_id": consent_id,
            },
            headers=lead.headers,
        )
        assert referral.status_code == 201, referral.text
        accepted = await world.client.post(
            f"{REFERRALS}/{referral.json()['id']}/accept",
            json={"note": "nhận"},
            headers=participant.headers,
        )
        assert accepted.status_code == 200, accepted.text
        for type_, needed in SUPPORT.items():
            response = await world.client.post(
                support_url(case["id"]), json=service(type_), headers=participant.headers
            )
            m.check(f"records {type_} as participant", kind, response, needed, ok=201, refused=403)
            await withdraw_one_offs(world, case["id"])
    m.assert_none_wrong()


def measure(agency_id: uuid.UUID, kind: str = "guard") -> dict[str, Any]:
    return {
        "measure": kind,
        "protected_person": "victim",
        "start": "2026-11-20",
        "status": "active",
        "responsible_agency_id": str(agency_id),
    }


async def test_record_a_protection_measure_as_lead(world: World) -> None:
    m = await matrix(world)
    for kind in m.kinds:
        lead = await staff(world, kind, Role.CASE_WORKER)
        case_id = await led_by(world, lead)
        response = await world.client.post(
            f"/api/v1/cases/{case_id}/protection-measures",
            json=measure(lead.agency.id),
            headers=lead.headers,
        )
        m.check("records a guard measure", kind, response, PROTECT, ok=201, refused=403)
    m.assert_none_wrong()


async def test_be_responsible_for_a_protection_measure(world: World) -> None:
    m = await matrix(world)
    lead = await staff(world, "social_affairs", Role.CASE_WORKER)
    case_id = await led_by(world, lead)
    url = f"/api/v1/cases/{case_id}/protection-measures"
    made = await world.client.post(url, json=measure(lead.agency.id), headers=lead.headers)
    assert made.status_code == 201, made.text
    measure_id, version = made.json()["id"], made.json()["version"]
    for kind in m.kinds:
        responsible = await world.agency(kind, "40")
        response = await world.client.post(url, json=measure(responsible.id), headers=lead.headers)
        m.check("is made responsible", kind, response, PROTECT, ok=201, refused=422)
        changed = await world.client.patch(
            f"{url}/{measure_id}",
            json={"responsible_agency_id": str(responsible.id)},
            headers={**lead.headers, "If-Match": f'"{version}"'},
        )
        if m.check("is made responsible later", kind, changed, PROTECT, ok=200, refused=422):
            version = changed.json()["version"]
    m.assert_none_wrong()


async def test_receive_a_referral_by_purpose(world: World) -> None:
    m = await matrix(world)
    lead = await staff(world, "social_affairs", Role.CASE_WORKER)
    case = await open_case(world, lead)
    consent_id = await give_consent(world, lead, case["id"])
    for kind in m.kinds:
        receiver = await world.agency(kind, "40")
        for purpose, needed in REFERRAL.items():
            response = await world.client.post(
                REFERRALS,
                json={
                    "case_id": case["id"],
                    "to_agency_id": str(receiver.id),
                    "purpose": purpose,
                    "services": ["travel"] if purpose != "protection" else [],
                    "shared_fields": ["victim.sex"],
                    "consent_id": consent_id,
                },
                headers=lead.headers,
            )
            m.check(f"receives a {purpose} referral", kind, response, needed, ok=201, refused=422)
    m.assert_none_wrong()


async def test_close_a_foreign_victims_case_as_handed_back(world: World) -> None:
    m = await matrix(world)
    for kind in m.kinds:
        lead = await staff(world, kind)
        case_id = await led_by(world, lead, nationality="LA")
        response = await world.client.post(
            f"/api/v1/cases/{case_id}/transitions",
            json={"to": "closed", "reason": "Trao trả tại cửa khẩu", "closure_code": "handed_back"},
            headers={**lead.headers, "If-Match": '"1"'},
        )
        # A move the kind may not make is the state machine's 409 (allowed moves listed).
        m.check("closes as handed back", kind, response, HAND_BACK, ok=200, refused=409)
    m.assert_none_wrong()


# Pinned cases: the findings, spelled out.


async def test_a_bank_cannot_open_a_case(world: World, engine: AsyncEngine) -> None:
    bank = await staff(world, "bank", Role.CASE_WORKER)
    persons_before = await _persons(world)
    mark = await last_event_id(engine)
    response = await world.client.post("/api/v1/cases", json=intake_body(), headers=bank.headers)
    problem = assert_problem(response, 403)
    assert str(problem["type"]).endswith("agency-function-required")
    assert "'receive'" in str(problem["detail"])
    events = await events_after(engine, mark)
    assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
        ("case.create", "denied", "missing_function:receive")
    ]
    # The refusal commits its audit row and nothing else: no person was written.
    assert await _persons(world) == persons_before


async def test_police_cannot_request_or_approve_a_loan(world: World, engine: AsyncEngine) -> None:
    await add_rate(world, "loan", 10_000_000, unit="lump_sum")
    police = await staff(world, "police")
    case_id = await led_by(world, police)
    asked = await world.client.post(
        support_url(case_id),
        json=service("loan", unit="lump_sum"),
        headers=police.headers,
    )
    assert "'loans'" in str(assert_problem(asked, 403)["detail"])
    requested = await _service_row(world, case_id, police, "loan", "requested")
    mark = await last_event_id(engine)
    approved = await world.client.post(
        support_url(case_id, f"/{requested}/approve"), headers=police.headers
    )
    assert str(assert_problem(approved, 403)["type"]).endswith("agency-function-required")
    events = await events_after(engine, mark)
    assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
        ("support_service.approve", "denied", "missing_function:loans")
    ]
    row = await world.session.get(SupportService, uuid.UUID(requested))
    assert row is not None
    await world.session.refresh(row)
    assert row.status == "requested"
    # Refusing or withdrawing a request needs no function.
    cancelled = await world.client.post(
        support_url(case_id, f"/{requested}/cancel"), headers=police.headers
    )
    assert cancelled.status_code == 200, cancelled.text


async def test_the_bank_gives_loans_and_social_affairs_refers_them(world: World) -> None:
    await add_rate(world, "loan", 10_000_000, unit="lump_sum")
    lead = await staff(world, "social_affairs")
    case_id = await led_by(world, lead)
    asked = await world.client.post(
        support_url(case_id), json=service("loan", unit="lump_sum"), headers=lead.headers
    )
    assert_problem(asked, 403)
    bank = await staff(world, "bank")
    own = await led_by(world, bank)
    asked = await world.client.post(
        support_url(own), json=service("loan", unit="lump_sum"), headers=bank.headers
    )
    assert asked.status_code == 201, asked.text


async def test_a_commune_gives_first_support_only(world: World) -> None:
    await rates_for_every_type(world)
    commune = await staff(world, "commune")
    case_id = await led_by(world, commune)
    for type_, status in (("essential_needs", 201), ("travel", 201), ("psychological", 403)):
        response = await world.client.post(
            support_url(case_id), json=service(type_), headers=commune.headers
        )
        assert response.status_code == status, (type_, response.text)


async def test_a_bank_cannot_guard(world: World) -> None:
    bank = await staff(world, "bank", Role.CASE_WORKER)
    case_id = await led_by(world, bank)
    recorded = await world.client.post(
        f"/api/v1/cases/{case_id}/protection-measures",
        json=measure(bank.agency.id),
        headers=bank.headers,
    )
    assert "'protect'" in str(assert_problem(recorded, 403)["detail"])
    lead = await staff(world, "social_affairs", Role.CASE_WORKER)
    other = await led_by(world, lead)
    named = await world.client.post(
        f"/api/v1/cases/{other}/protection-measures",
        json=measure(bank.agency.id),
        headers=lead.headers,
    )
    problem = assert_problem(named, 422)
    assert problem["errors"] == [
        {
            "field": "responsible_agency_id",
            "message": "must be an agency with the 'protect' function",
        }
    ]


async def _persons(world: World) -> int:
    return int((await world.session.execute(text("SELECT count(*) FROM persons"))).scalar_one())
