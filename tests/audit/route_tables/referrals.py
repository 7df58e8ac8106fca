"""Audit scenarios of referrals: create, list, read, accept, reject, complete, cancel,
and a case's accounting of disclosures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case
from tests.conftest import World
from tests.referrals.helpers import URL, Parties, act, parties, refer, referral_body

Arrange = Callable[[World], Awaitable[Call]]
BODIES: dict[str, Any] = {
    "accept": None,
    "waitlist": {"expected_at": "2099-01-01T00:00:00+00:00"},
    "reject": {"reason_code": "no_capacity", "reason": "Không tiếp nhận (thử)"},
    "complete": {"outcome": "delivered", "note": "Đã hỗ trợ (thử)"},
    "cancel": None,
}


async def _headers(world: World, p: Parties, who: str) -> dict[str, str]:
    if who == "sysadmin":
        return (await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))).headers
    if who == "anonymous":
        return {}
    return {"owner": p.owner, "receiver": p.receiver, "third": p.third}[who].headers


def create_as(who: str, *, replay: bool = False) -> Arrange:
    async def arrange(world: World) -> Call:
        p = await parties(world, receiver_kind="police")
        body = referral_body(p, purpose="investigation")
        headers = await _headers(world, p, who)
        if replay:
            headers = {**headers, "Idempotency-Key": "audit-replay"}
            first = await world.client.post(URL, json=body, headers=headers)
            assert first.status_code == 201, first.text
        return Call("POST", URL, headers, json=body)

    return arrange


def list_as(who: str) -> Arrange:
    async def arrange(world: World) -> Call:
        p = await parties(world)
        await refer(world, p)
        return Call("GET", URL, await _headers(world, p, who))

    return arrange


def on_referral(method: str, action: str | None, who: str, *, purpose: str = "support") -> Arrange:
    """A referral (accepted first when the action needs it) and the call on it."""

    async def arrange(world: World) -> Call:
        p = await parties(world, receiver_province="37")
        referral = await refer(world, p, purpose=purpose)
        if action == "complete":
            accepted = await act(world, p.receiver, referral["id"], "accept")
            assert accepted.status_code == 200, accepted.text
        url = f"{URL}/{referral['id']}" + (f"/{action}" if action else "")
        body = BODIES[action] if action else None
        return Call(method, url, await _headers(world, p, who), json=body)

    return arrange


def disclosures_as(who: str, role: Role = Role.SUPERVISOR) -> Arrange:
    async def arrange(world: World) -> Call:
        p = await parties(world)
        await refer(world, p)
        agency = {"owner": p.owner.agency, "third": p.third.agency}.get(who)
        headers = (
            (await world.user(role, agency)).headers if agency else await _headers(world, p, who)
        )
        return Call("GET", f"/api/v1/cases/{p.case['id']}/disclosures", headers)

    return arrange


def participants_as(who: str) -> Arrange:
    async def arrange(world: World) -> Call:
        p = await parties(world)
        referral = await refer(world, p)
        assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
        headers = await _headers(world, p, who)
        return Call("GET", f"/api/v1/cases/{p.case['id']}/participants", headers)

    return arrange


def _action_cases(action: str) -> list[Case]:
    code = f"referral.{action}"
    party, wrong = ("owner", "receiver") if action == "cancel" else ("receiver", "owner")
    cases = [
        Case("right party", on_referral("POST", action, party), 200, ((code, "success"),)),
        Case(
            "other party",
            on_referral("POST", action, wrong),
            403,
            ((code, "denied", "not_sender" if action == "cancel" else "not_receiver"),),
        ),
        Case(
            "third agency",
            on_referral("POST", action, "third"),
            404,
            ((code, "denied", "out_of_reach"),),
        ),
        Case("system admin, hidden", on_referral("POST", action, "sysadmin"), 404, (DENIED,)),
        Case("anonymous", on_referral("POST", action, "anonymous"), 401, ()),
    ]
    if action == "accept":
        cases.append(
            Case(
                "transfer",
                on_referral("POST", action, "receiver", purpose="transfer"),
                200,
                ((code, "success"), ("case.transfer", "success")),
            )
        )
    return cases


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", URL): [
        Case(
            "owner agency",
            create_as("owner"),
            201,
            (("referral.create", "success", "legal_basis:investigation"),),
        ),
        Case(
            "idempotent replay",
            create_as("owner", replay=True),
            201,
            (("referral.create", "success", "idempotent_replay"), ("referral.read", "success")),
        ),
        Case(
            "other agency",
            create_as("third"),
            404,
            (("referral.create", "denied", "out_of_reach"),),
        ),
        Case("system admin, hidden", create_as("sysadmin"), 404, (DENIED,)),
        Case("anonymous", create_as("anonymous"), 401, ()),
    ],
    ("GET", URL): [
        Case("receiver", list_as("receiver"), 200, (("referral.list", "success"),)),
        Case("system admin, hidden", list_as("sysadmin"), 404, (DENIED,)),
        Case("anonymous", list_as("anonymous"), 401, ()),
    ],
    ("GET", URL + "/{referral_id}"): [
        Case(
            "receiver",
            on_referral("GET", None, "receiver"),
            200,
            (("referral.read", "success", "legal_basis:consent"),),
        ),
        Case("sender", on_referral("GET", None, "owner"), 200, (("referral.read", "success"),)),
        Case(
            "third agency",
            on_referral("GET", None, "third"),
            404,
            (("referral.read", "denied", "out_of_reach"),),
        ),
        Case("system admin, hidden", on_referral("GET", None, "sysadmin"), 404, (DENIED,)),
        Case("anonymous", on_referral("GET", None, "anonymous"), 401, ()),
    ],
    **{
        ("POST", URL + "/{referral_id}/" + action): _action_cases(action)
        for action in ("accept", "waitlist", "reject", "complete", "cancel")
    },
    ("GET", "/api/v1/cases/{case_id}/participants"): [
        Case("lead", participants_as("owner"), 200, (("participant.list", "success"),)),
        Case(
            "participant",
            participants_as("receiver"),
            403,
            (("participant.list", "denied", "lead_only"),),
        ),
        Case(
            "other agency",
            participants_as("third"),
            404,
            (("participant.list", "denied", "out_of_reach"),),
        ),
        Case("system admin, hidden", participants_as("sysadmin"), 404, (DENIED,)),
        Case("anonymous", participants_as("anonymous"), 401, ()),
    ],
    ("GET", "/api/v1/cases/{case_id}/disclosures"): [
        Case("owner supervisor", disclosures_as("owner"), 200, (("disclosure.list", "success"),)),
        Case(
            "owner case worker",
            disclosures_as("owner", Role.CASE_WORKER),
            404,
            (("access.denied", "denied", "missing_permission:cases:access_log"),),
        ),
        Case(
            "other agency",
            disclosures_as("third"),
            404,
            (("disclosure.list", "denied", "out_of_reach"),),
        ),
        Case("system admin, hidden", disclosures_as("sysadmin"), 404, (DENIED,)),
        Case("anonymous", disclosures_as("anonymous"), 401, ()),
    ],
}
