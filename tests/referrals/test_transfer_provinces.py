"""A transfer to another province moves the case's current province: the new lead's
supports are priced by its province's rates and counted in its return from the
transfer on, while the province of reception keeps the reception."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update

from app.models import Case
from app.security.permissions import Role
from tests.conftest import Actor, World
from tests.referrals.helpers import act, parties, refer
from tests.support.helpers import add_rate

NGHE_AN, NINH_BINH = "40", "37"


async def _periodic(world: World, actor: Actor) -> dict[str, Any]:
    # Explicit days around today (the named year ends on 15 December).
    today = datetime.now(UTC).date()
    period = f"{today - timedelta(days=1)}..{today + timedelta(days=1)}"
    response = await world.client.get(
        "/api/v1/reports/periodic", params={"period": period}, headers=actor.headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _supports(report: dict[str, Any]) -> tuple[int, int]:
    (supports,) = [b for b in report["breakdowns"] if b["name"] == "supports"]
    return supports["total"], supports["amount_vnd"]


async def test_transfer_moves_the_province_its_rates_and_its_returns(world: World) -> None:
    await add_rate(world, "medical", 100_000, unit="session", province_code=NGHE_AN)
    await add_rate(world, "medical", 170_000, unit="session", province_code=NINH_BINH)
    p = await parties(world, receiver_province=NINH_BINH)
    referral = await refer(world, p, purpose="transfer", services=[])
    assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
    case_url = f"/api/v1/cases/{p.case['id']}"
    case = (await world.client.get(case_url, headers=p.receiver.headers)).json()
    assert (case["province_code"], case["current_province_code"]) == (NGHE_AN, NINH_BINH)
    assert case["case_number"].startswith(f"{NGHE_AN}-")
    verifying = await world.client.post(
        f"{case_url}/transitions", json={"to": "verifying"},
        headers={**p.receiver.headers, "If-Match": f'"{case["version"]}"'},
    )  # fmt: skip
    assert verifying.status_code == 200, verifying.text
    verified = await world.client.post(
        f"{case_url}/verification",
        json={"outcome": "grounds_found", "completed_at": datetime.now(UTC).isoformat(),
              "agency_ids": [str(p.receiver.agency.id)]},
        headers=p.receiver.headers,
    )  # fmt: skip
    assert verified.status_code == 201, verified.text
    await world.session.execute(
        update(Case).where(Case.id == p.case["id"]).values(status="identified")  # type: ignore[arg-type]
    )
    await world.session.commit()
    body = {"type": "medical", "quantity": 1, "unit": "session",
            "service_date": date.today().isoformat()}  # fmt: skip
    made = await world.client.post(
        f"{case_url}/support-services", json=body, headers=p.receiver.headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["amount_vnd"] == 170_000
    supervisor = await world.user(Role.SUPERVISOR, p.receiver.agency)
    service = f"{case_url}/support-services/{made.json()['id']}"
    assert (
        await world.client.post(f"{service}/approve", headers=supervisor.headers)
    ).status_code == 200
    assert (
        await world.client.post(f"{service}/deliver", headers=supervisor.headers)
    ).status_code == 200

    # The returns are the reporting officers' (exact figures).
    nghe_an = await _periodic(world, await world.user(Role.REPORTING_OFFICER, p.owner.agency))
    ninh_binh = await _periodic(world, await world.user(Role.REPORTING_OFFICER, p.receiver.agency))
    assert (nghe_an["persons_received"], ninh_binh["persons_received"]) == (1, 0)
    assert (nghe_an["persons_verified"], ninh_binh["persons_verified"]) == (0, 1)
    assert _supports(nghe_an) == (0, 0)
    assert _supports(ninh_binh) == (1, 170_000)
