"""Helpers for the staff-authentication tests: sign-in with a code, enrolment, users."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pyotp

from tests.conftest import Actor, World

TOKEN = "/api/v1/auth/token"


async def sign_in(
    world: World, actor: Actor, *, otp: str | None = None, password: str | None = None
) -> httpx.Response:
    data = {
        "grant_type": "password",
        "username": actor.user.username,
        "password": password or actor.password,
    }
    if otp is not None:
        data["otp"] = otp
    return await world.client.post(TOKEN, data=data, headers={"X-Forwarded-For": "10.0.0.1"})


def bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def claims(response: httpx.Response) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(
        response.json()["access_token"], options={"verify_signature": False}
    )
    return decoded


def code(totp: pyotp.TOTP, steps_ahead: int = 0) -> str:
    """The code of the step `steps_ahead` from now (within the accepted drift of 1)."""
    return totp.at(time.time() + steps_ahead * totp.interval)


async def enrol(world: World, actor: Actor) -> tuple[pyotp.TOTP, list[str]]:
    """Enrol and confirm a TOTP authenticator for `actor` (their sessions end); the
    authenticator and the recovery codes. The confirming code spends the current step:
    sign in with `code(totp, 1)`."""
    started = await world.client.post("/api/v1/auth/mfa/totp", headers=actor.headers)
    assert started.status_code == 200, started.text
    totp = pyotp.TOTP(started.json()["secret"])
    confirmed = await world.client.post(
        "/api/v1/auth/mfa/totp/confirm", json={"code": code(totp)}, headers=actor.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return totp, confirmed.json()["recovery_codes"]
