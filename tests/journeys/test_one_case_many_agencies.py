"""The law's path across agencies, over HTTP only, as the agencies would walk it.

1. A hotline 111 call names two suspected victims and is forwarded to the province's
   Sở Y tế, which opens a case per victim, refers one to the provincial police for
   identification (investigation basis), and, once the police have identified the
   victim on its case, refers it with a consent to a hospital, the legal-aid centre
   and the Bank for Social Policies, each of which delivers its service and
   completes; Sở Y tế takes the case to closure.
2. A border guard receives a person at the border, leads the case, and transfers it
   to the Sở Y tế of the person's home province, which continues.

At each step the test asserts what every agency can and cannot see, and at the end
the audit chain verifies.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import World, fake
from tests.journeys.staff import Agency, Member, Staff

NGHE_AN, NINH_BINH = "40", "37"
PURPOSE = "X-Purpose-Of-Use"


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


class Journey:
    """Small verbs over the client, each asserting the status it expects."""

    def __init__(self, world: World) -> None:
        self.client = world.client

    async def call(
        self,
        who: Member | dict[str, str],
        method: str,
        url: str,
        expect: int,
        body: Any = None,
        **headers: str,
    ) -> httpx.Response:
        base = who.headers if isinstance(who, Member) else who
        response = await self.client.request(
            method,
            url if url.startswith("/") else f"/api/v1/{url}",
            json=body,
            headers={**base, **{k.replace("_", "-"): v for k, v in headers.items()}},
        )
        assert response.status_code == expect, (method, url, response.text)
        return response

    async def post(self, who: Any, url: str, body: Any = None, expect: int = 201, **h: str) -> Any:
        return (await self.call(who, "POST", url, expect, body, **h)).json()

    async def get(self, who: Any, url: str, expect: int = 200, **h: str) -> Any:
        return (await self.call(who, "GET", url, expect, **h)).json()

    async def version(self, who: Member, case_id: str) -> str:
        response = await self.call(who, "GET", f"cases/{case_id}", 200)
        return response.headers["ETag"]

    async def move(self, who: Member, case_id: str, to: str, reason: str | None = None) -> Any:
        body = {"to": to, "reason": reason} if reason else {"to": to}
        version = await self.version(who, case_id)
        return await self.post(who, f"cases/{case_id}/transitions", body, 200, If_Match=version)

    async def refer(self, who: Member, case_id: str, to: Agency, **body: Any) -> Any:
        return await self.post(
            who, "referrals", {"case_id": case_id, "to_agency_id": to.id, **body}
        )

    async def answer(self, who: Member, referral: Any, action: str, body: Any = None) -> Any:
        return await self.post(who, f"referrals/{referral['id']}/{action}", body, 200)

    async def reveal(self, who: Member, case_id: str, purpose: str, expect: int = 200) -> Any:
        return await self.get(
            who, f"cases/{case_id}?reveal=identity", expect, X_Purpose_Of_Use=purpose
        )

    async def cannot_see(self, who: Member, case_id: str) -> None:
        await self.get(who, f"cases/{case_id}", 404)

    async def evidence(self, who: Member, case_id: str, source: str) -> str:
        body = {"source": source, "description": f"Biên bản lời khai ({fake.name()}, thử)",
                "obtained_at": _ago(hours=1)}  # fmt: skip
        return str((await self.post(who, f"cases/{case_id}/evidence", body))["id"])

    async def identify(self, who: Member, case_id: str, evidence_ids: list[str]) -> Any:
        body = {"decision": "victim", "decided_at": _ago(minutes=5), "evidence_ids": evidence_ids,
                "legal_basis": "Điều 24 Luật Phòng, chống mua bán người 53/2024/QH15",
                "certificate_number": "XN-0117/2026 (thử)"}  # fmt: skip
        return await self.post(who, f"cases/{case_id}/identification", body)

    async def consent(self, who: Member, case_id: str) -> str:
        body = {"scope": "data_sharing", "given_by": "self", "given_at": _ago(minutes=10)}
        return str((await self.post(who, f"cases/{case_id}/consents", body))["id"])

    async def verify_audit(self, auditor: dict[str, str]) -> None:
        result = await self.get(auditor, "audit-events/verify")
        assert result["ok"] is True, result
        assert result["checked"] > 50


async def _rates(j: Journey, staff: Staff) -> dict[str, int]:
    rates = {"medical": ("session", 150_000), "legal_aid": ("session", 300_000),
             "loan": ("lump_sum", 20_000_000)}  # fmt: skip
    for type_, (unit, amount) in rates.items():
        await j.post(
            staff.root,
            "support-rates",
            {"province_code": NGHE_AN, "type": type_, "unit": unit, "amount_vnd": amount,
             "effective_from": "2025-01-01", "legal_basis": "Nghị quyết HĐND tỉnh (thử)"},
        )  # fmt: skip
    return {type_: amount for type_, (_, amount) in rates.items()}


async def test_hotline_call_to_closure_across_agencies(world: World) -> None:
    j = Journey(world)
    staff = await Staff.start(world)
    hotline = await staff.agency("hotline", None, "Tổng đài 111 (thử)")
    so_y_te = await staff.agency("social_affairs", NGHE_AN, "Sở Y tế Nghệ An (thử)")
    police = await staff.agency("police", NGHE_AN, "Công an tỉnh Nghệ An (thử)")
    hospital = await staff.agency("health", NGHE_AN, "Bệnh viện đa khoa tỉnh (thử)")
    legal_aid = await staff.agency("legal_aid", NGHE_AN, "Trung tâm trợ giúp pháp lý (thử)")
    bank = await staff.agency("bank", NGHE_AN, "Ngân hàng CSXH chi nhánh (thử)")
    auditor = await staff.auditor()
    amounts = await _rates(j, staff)

    # A call naming two suspected victims, forwarded to Sở Y tế.
    names = [fake.name_female(), fake.name_female()]
    report = await j.post(
        hotline.worker,
        "hotline-reports",
        {"received_at": _ago(hours=3), "channel": "phone", "province_code": NGHE_AN,
         "caller": {"name": fake.name(), "phone": f"09{fake.numerify('########')}",
                    "relation": "mẹ"},
         "summary": "Hai con gái bị đưa qua biên giới làm việc (thử)", "urgency": "urgent",
         "suspected_victims": [{"name": n, "sex": "female", "approximate_age": 19}
                               for n in names]},
    )  # fmt: skip
    triage = f"hotline-reports/{report['id']}/triage"
    await j.post(
        hotline.worker, triage, {"action": "forward", "to_agency_id": so_y_te.id}, 200,
        If_Match='"1"',
    )  # fmt: skip
    await j.get(police.worker, f"hotline-reports/{report['id']}", 404)

    # Sở Y tế opens a case per victim.
    seen = await j.call(so_y_te.worker, "GET", f"hotline-reports/{report['id']}", 200)
    opened = await j.post(
        so_y_te.worker, triage, {"action": "open_case"}, 200, If_Match=seen.headers["ETag"]
    )
    first = opened["case_id"]
    second = (
        await j.post(
            so_y_te.worker,
            "cases",
            {
                "intake_source": "hotline",
                "received_at": _ago(hours=3),
                "received_location": {"province_code": NGHE_AN},
                "victim": {"full_name": names[1], "sex": "female", "nationality": "VN"},
                "hotline_report_id": report["id"],
                "exploitation_types": ["forced_labour"],
            },
        )
    )["id"]
    assert first != second
    # At the interview her papers are found: date of birth and national ID.
    papers = {"date_of_birth": "2006-05-14", "national_id": f"040{fake.numerify('#########')}",
              "phone": f"09{fake.numerify('########')}"}  # fmt: skip
    version = await j.version(so_y_te.worker, first)
    await j.call(
        so_y_te.worker, "PATCH", f"cases/{first}", 200, {"victim": papers}, If_Match=version
    )
    await j.move(so_y_te.worker, first, "verifying")
    for outsider in (police.worker, hospital.worker, bank.worker, hotline.worker):
        await j.cannot_see(outsider, first)

    # Referred to the police for identification, without consent (investigation).
    shared = ["victim.full_name", "victim.date_of_birth", "victim.national_id"]
    to_police = await j.refer(
        so_y_te.worker, first, police, purpose="identification", shared_fields=shared
    )
    assert to_police["legal_basis"] == "investigation"
    await j.cannot_see(police.worker, first)  # pending: no case access yet
    await j.answer(police.worker, to_police, "accept", {"note": "Đã tiếp nhận (thử)"})
    view = await j.reveal(police.worker, first, "investigation")
    assert (view["view"], sorted(view["shared"])) == ("participant", sorted(shared))
    assert view["shared"]["victim.national_id"] == papers["national_id"]
    assert papers["phone"] not in str(view)
    await j.cannot_see(police.worker, second)
    await j.get(police.worker, f"cases/{first}/timeline", 403)
    evidence = [
        await j.evidence(police.worker, first, "statement_of_person_or_relatives"),
        await j.evidence(police.worker, first, "investigating_bodies_records"),
    ]
    decision = await j.identify(police.worker, first, evidence)
    assert decision["case_status"] == "identified"
    await j.post(police.worker, f"cases/{first}/transitions", {"to": "supporting"}, 403,
                 If_Match='"1"')  # fmt: skip
    await j.answer(police.worker, to_police, "complete", {"outcome": "delivered"})
    await j.cannot_see(police.worker, first)
    lead_view = await j.get(so_y_te.worker, f"cases/{first}")
    assert (lead_view["status"], lead_view["view"]) == ("identified", "whole")

    # With her consent: a hospital, the legal-aid centre and the bank.
    consent = await j.consent(so_y_te.worker, first)
    services = ((hospital, "medical", "session"), (legal_aid, "legal_aid", "session"),
                (bank, "loan", "lump_sum"))  # fmt: skip
    for agency, service, unit in services:
        referral = await j.refer(
            so_y_te.worker, first, agency, purpose="support", services=[service],
            shared_fields=["victim.full_name", "victim.sex"], consent_id=consent,
        )  # fmt: skip
        assert referral["legal_basis"] == "consent"
        assert set(referral["shared"]) == {"victim.full_name", "victim.sex"}
        await j.cannot_see(agency.worker, first)
        await j.answer(agency.worker, referral, "accept")
        masked = await j.get(agency.worker, f"cases/{first}")
        assert masked["shared"]["victim.full_name"] != names[0]
        assert papers["national_id"] not in str(masked)
        await j.get(agency.worker, f"cases/{first}/evidence", 403)
        await j.get(agency.worker, f"cases/{first}/identification", 403)
        made = await j.post(
            agency.worker, f"cases/{first}/support-services",
            {"type": service, "quantity": 1, "unit": unit,
             "service_date": date.today().isoformat()},
        )  # fmt: skip
        assert (made["status"], made["amount_vnd"]) == ("approved", amounts[service])
        # Delivered by another of its staff than the one who recorded it (four eyes).
        delivered = await j.post(
            agency.supervisor, f"cases/{first}/support-services/{made['id']}/deliver", None, 200
        )
        assert delivered["status"] == "delivered"
        done = await j.answer(
            agency.worker, referral, "complete",
            {"outcome": "delivered", "services_delivered": [service]},
        )  # fmt: skip
        assert (done["status"], done["outcome"]) == ("completed", "delivered")
        await j.cannot_see(agency.worker, first)
    given = await j.get(so_y_te.supervisor, f"cases/{first}/support-services")
    assert sorted((s["type"], s["status"], s["amount_vnd"]) for s in given["items"]) == sorted(
        (service, "delivered", amounts[service]) for _, service, _ in services
    )
    agencies = await j.get(so_y_te.worker, f"cases/{first}/participants")
    assert [(i["role"], i["active"]) for i in agencies["items"]] == [
        ("lead", True), ("identification", False), ("support", False), ("support", False),
        ("support", False),
    ]  # fmt: skip

    # Sở Y tế takes the case on to closure.
    await j.move(so_y_te.worker, first, "supporting")
    await j.move(so_y_te.worker, first, "reintegrating")
    closed = await j.move(so_y_te.worker, first, "closed", "Đã tái hòa nhập cộng đồng (thử)")
    assert closed["status"] == "closed"
    timeline = await j.get(so_y_te.worker, f"cases/{first}/timeline?limit=100")
    acting = {e["actor_agency_id"] for e in timeline["items"]}
    assert {so_y_te.id, police.id, hospital.id, legal_aid.id, bank.id} <= acting
    for outsider in (police.worker, hospital.worker, legal_aid.worker, bank.worker):
        await j.cannot_see(outsider, first)
    await j.verify_audit(auditor)


async def test_border_handover_transferred_to_the_home_province(world: World) -> None:
    j = Journey(world)
    staff = await Staff.start(world)
    border = await staff.agency("border_guard", NGHE_AN, "Đồn Biên phòng cửa khẩu (thử)")
    home = await staff.agency("social_affairs", NINH_BINH, "Sở Y tế Ninh Bình (thử)")
    home_police = await staff.agency("police", NINH_BINH, "Công an tỉnh Ninh Bình (thử)")
    auditor = await staff.auditor()

    victim = {"full_name": fake.name_female(), "sex": "female", "nationality": "VN",
              "date_of_birth": "1999-02-03", "hometown_province_code": NINH_BINH,
              "phone": f"09{fake.numerify('########')}"}  # fmt: skip
    case = await j.post(
        border.worker,
        "cases",
        {"intake_source": "border_handover", "received_at": _ago(hours=5),
         "received_location": {"province_code": NGHE_AN}, "victim": victim,
         "exploitation_types": ["forced_marriage"], "destination_country": "CN"},
    )  # fmt: skip
    case_id = case["id"]
    assert case["case_number"].startswith(f"{NGHE_AN}-")
    await j.move(border.worker, case_id, "verifying")
    await j.evidence(border.worker, case_id, "rescuing_agency")
    # A border guard does not identify: that is for the police.
    await j.post(border.worker, f"cases/{case_id}/identification",
                 {"decision": "victim", "decided_at": _ago(minutes=1), "evidence_ids": [case_id],
                  "legal_basis": "x"}, 403)  # fmt: skip
    await j.cannot_see(home.worker, case_id)

    consent = await j.consent(border.worker, case_id)
    transfer = await j.refer(
        border.worker, case_id, home, purpose="transfer", consent_id=consent,
        shared_fields=["victim.full_name", "victim.hometown_province_code"],
    )  # fmt: skip
    pending = await j.get(home.worker, f"referrals/{transfer['id']}")
    assert pending["shared"]["victim.full_name"] != victim["full_name"]  # masked
    await j.cannot_see(home.worker, case_id)
    await j.answer(home.worker, transfer, "accept")

    taken = await j.reveal(home.worker, case_id, "case_management")
    assert (taken["view"], taken["owner_agency_id"]) == ("whole", home.id)
    assert (taken["province_code"], taken["current_province_code"]) == (NGHE_AN, NINH_BINH)
    assert taken["victim"]["phone"] == "+84" + victim["phone"][1:]
    former = await j.get(border.worker, f"cases/{case_id}")
    assert former["view"] == "whole"
    await j.post(border.worker, f"cases/{case_id}/evidence",
                 {"source": "rescuing_agency", "description": "thêm", "obtained_at": _ago(hours=1)},
                 403)  # fmt: skip
    await j.cannot_see(home_police.worker, case_id)

    # The home province continues: its police identify, it supports.
    to_police = await j.refer(
        home.worker, case_id, home_police, purpose="identification",
        shared_fields=["victim.full_name", "victim.date_of_birth"],
    )  # fmt: skip
    await j.answer(home_police.worker, to_police, "accept")
    evidence = [await j.evidence(home_police.worker, case_id, "statement_of_person_or_relatives")]
    assert (await j.identify(home_police.worker, case_id, evidence))["case_status"] == "identified"
    await j.answer(home_police.worker, to_police, "complete", {"outcome": "delivered"})
    await j.move(home.worker, case_id, "supporting")
    agencies = await j.get(home.supervisor, f"cases/{case_id}/participants")
    assert [(i["role"], i["agency_id"]) for i in agencies["items"]] == [
        ("lead", home.id), ("former_lead", border.id), ("identification", home_police.id),
    ]  # fmt: skip
    assert (await j.get(border.worker, f"cases/{case_id}"))["status"] == "supporting"
    await j.verify_audit(auditor)
