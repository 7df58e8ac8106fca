"""TOTP second factor of staff sign-in: enrolment, `otp` on the password grant, `amr`,
replay, recovery codes, roles that require it, and the administrator's reset."""

from __future__ import annotations

import base64

import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.config import PRODUCTION_MFA_ROLES, Settings
from app.models import LoginFailure, MfaRecoveryCode, UserTotp
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.integration_clients.helpers import client_headers, register
from tests.security.helpers import bearer, claims, code, enrol, sign_in

pytestmark = pytest.mark.usefixtures("clean_db")


def _mfa_required(response: object) -> None:
    body = assert_problem(response, 401)  # type: ignore[arg-type]
    assert str(body["type"]).endswith("mfa-required")


class TestEnrolment:
    async def test_secret_is_shown_once_and_stored_wrapped(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        started = await world.client.post("/api/v1/auth/mfa/totp", headers=actor.headers)
        assert started.status_code == 200
        assert started.headers["cache-control"] == "no-store"
        body = started.json()
        assert body["otpauth_uri"].startswith("otpauth://totp/VCM:")
        assert f"secret={body['secret']}" in body["otpauth_uri"]
        raw = base64.b32decode(body["secret"])
        assert len(raw) == 20
        row = (await world.session.execute(select(UserTotp))).scalar_one()
        assert raw not in row.secret_wrapped and body["secret"].encode() not in row.secret_wrapped
        assert row.confirmed_at is None

    async def test_pending_enrolment_changes_nothing_at_sign_in(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        await world.client.post("/api/v1/auth/mfa/totp", headers=actor.headers)
        assert claims(await sign_in(world, actor))["amr"] == ["pwd"]

    async def test_wrong_confirmation_code_is_422(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        started = await world.client.post("/api/v1/auth/mfa/totp", headers=actor.headers)
        good = code(pyotp.TOTP(started.json()["secret"]))
        wrong = f"{(int(good) + 1) % 1_000_000:06d}"
        confirm = await world.client.post(
            "/api/v1/auth/mfa/totp/confirm", json={"code": wrong}, headers=actor.headers
        )
        assert_problem(confirm, 422)
        assert claims(await sign_in(world, actor))["amr"] == ["pwd"]

    async def test_confirm_without_start_and_twice_is_409(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        confirm = await world.client.post(
            "/api/v1/auth/mfa/totp/confirm", json={"code": "123456"}, headers=actor.headers
        )
        assert_problem(confirm, 409)
        totp, _ = await enrol(world, actor)
        headers = bearer(await sign_in(world, actor, otp=code(totp, 1)))
        assert_problem(await world.client.post("/api/v1/auth/mfa/totp", headers=headers), 409)

    async def test_confirmation_gives_recovery_codes_stored_hashed_and_ends_sessions(
        self, world: World
    ) -> None:
        actor = await world.user(Role.CASE_WORKER)
        _, codes = await enrol(world, actor)
        assert len(codes) == 10 and len(set(codes)) == 10
        stored = (await world.session.execute(select(MfaRecoveryCode.code_hash))).scalars().all()
        assert len(stored) == 10 and all(len(h) == 32 for h in stored)
        assert not any(c.encode() in stored for c in codes)
        assert_problem(await world.client.get("/api/v1/auth/me", headers=actor.headers), 401)

    async def test_integration_client_has_no_enrolment(self, world: World) -> None:
        headers = await client_headers(world, await register(world))
        assert_problem(await world.client.post("/api/v1/auth/mfa/totp", headers=headers), 403)
        assert_problem(
            await world.client.post(
                "/api/v1/auth/password",
                json={"current_password": "x", "new_password": "y"},
                headers=headers,
            ),
            403,
        )


class TestSignIn:
    async def test_enrolled_user_needs_otp_and_token_says_so(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        assert claims(await sign_in(world, actor))["amr"] == ["pwd"]
        totp, _ = await enrol(world, actor)
        _mfa_required(await sign_in(world, actor))
        signed = await sign_in(world, actor, otp=code(totp, 1))
        assert claims(signed)["amr"] == ["pwd", "otp"]
        me = await world.client.get("/api/v1/auth/me", headers=bearer(signed))
        assert me.json()["mfa_enrolled"] is True
        # A refreshed token says the same.
        refreshed = await world.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": signed.json()["refresh_token"]},
        )
        assert claims(refreshed)["amr"] == ["pwd", "otp"]

    async def test_wrong_password_with_good_code_is_still_invalid_credentials(
        self, world: World
    ) -> None:
        actor = await world.user(Role.CASE_WORKER)
        totp, _ = await enrol(world, actor)
        response = await sign_in(world, actor, otp=code(totp, 1), password="not-the-password")
        assert str(assert_problem(response, 401)["type"]).endswith("invalid-credentials")

    async def test_replayed_code_is_refused(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        totp, _ = await enrol(world, actor)
        # The step spent on confirmation cannot sign in.
        _mfa_required(await sign_in(world, actor, otp=code(totp)))
        good = code(totp, 1)
        assert (await sign_in(world, actor, otp=good)).status_code == 200
        _mfa_required(await sign_in(world, actor, otp=good))

    async def test_wrong_codes_count_as_failed_sign_ins(self, app: FastAPI, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        totp, _ = await enrol(world, actor)
        good = code(totp, 1)
        wrong = f"{(int(good) + 500_000) % 1_000_000:06d}"
        for _ in range(app.state.settings.login_max_failures):
            _mfa_required(await sign_in(world, actor, otp=wrong))
        failures = await world.session.execute(select(func.count()).select_from(LoginFailure))
        assert failures.scalar_one() == app.state.settings.login_max_failures
        # Locked out like after wrong passwords, even with the right code.
        locked = await sign_in(world, actor, otp=good)
        assert_problem(locked, 429)
        assert "retry-after" in locked.headers

    async def test_missing_code_is_not_a_failure(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        await enrol(world, actor)
        mark = await last_event_id(world.session.bind)  # type: ignore[arg-type]
        _mfa_required(await sign_in(world, actor))
        failures = await world.session.execute(select(func.count()).select_from(LoginFailure))
        assert failures.scalar_one() == 0
        events = await events_after(world.session.bind, mark)  # type: ignore[arg-type]
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("auth.login", "denied", "mfa_required")
        ]

    async def test_recovery_code_signs_in_once(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        _, codes = await enrol(world, actor)
        signed = await sign_in(world, actor, otp=codes[0].lower().replace("-", " "))
        assert claims(signed)["amr"] == ["pwd", "otp"]
        _mfa_required(await sign_in(world, actor, otp=codes[0]))
        assert (await sign_in(world, actor, otp=codes[1])).status_code == 200
        _mfa_required(await sign_in(world, actor, otp="AAAA-BBBB-CCCC-DDDD"))


class TestRequiredByRole:
    @pytest.fixture
    def required(self, app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(app.state.settings, "mfa_required_roles", "case_worker")

    def test_production_requires_it_of_the_roles_that_reveal_or_administer(self) -> None:
        production = Settings(VCM_ENV="production")  # type: ignore[call-arg]
        assert (
            production.mfa_roles
            == PRODUCTION_MFA_ROLES
            == {
                "case_worker",
                "supervisor",
                "hotline_operator",
                "agency_admin",
                "system_admin",
            }
        )
        assert Settings(VCM_ENV="dev").mfa_roles == frozenset()  # type: ignore[call-arg]
        opted_out = Settings(VCM_ENV="production", VCM_MFA_REQUIRED_ROLES="")  # type: ignore[call-arg]
        assert opted_out.mfa_roles == frozenset()
        with pytest.raises(ValueError, match="unknown roles"):
            Settings(VCM_MFA_REQUIRED_ROLES="case_worker,root")  # type: ignore[call-arg]

    @pytest.mark.usefixtures("required")
    async def test_unenrolled_user_gets_a_session_that_can_only_enrol(self, world: World) -> None:
        agency = await world.agency()
        actor = await world.user(Role.CASE_WORKER, agency)
        refused = await world.client.get("/api/v1/cases", headers=actor.headers)
        assert str(assert_problem(refused, 403)["type"]).endswith("mfa-enrolment-required")
        assert (await world.client.get("/api/v1/auth/me", headers=actor.headers)).status_code == 200
        totp, _ = await enrol(world, actor)
        _mfa_required(await sign_in(world, actor))
        full = bearer(await sign_in(world, actor, otp=code(totp, 1)))
        assert (await world.client.get("/api/v1/cases", headers=full)).status_code == 200
        # Other roles are not asked.
        analyst = await world.user(Role.ANALYST, agency)
        assert (
            await world.client.get("/api/v1/agencies", headers=analyst.headers)
        ).status_code == 200

    async def test_password_only_session_is_not_refreshed_once_required(
        self, app: FastAPI, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        actor = await world.user(Role.CASE_WORKER, login=False)
        pair = (await sign_in(world, actor)).json()
        monkeypatch.setattr(app.state.settings, "mfa_required_roles", "case_worker")
        refreshed = await world.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        )
        assert_problem(refreshed, 400)


class TestReset:
    async def test_agency_admin_resets_and_sessions_end(self, world: World) -> None:
        agency = await world.agency()
        admin = await world.user(Role.AGENCY_ADMIN, agency)
        actor = await world.user(Role.CASE_WORKER, agency)
        totp, _ = await enrol(world, actor)
        signed = bearer(await sign_in(world, actor, otp=code(totp, 1)))
        mark = await last_event_id(world.session.bind)  # type: ignore[arg-type]
        reset = await world.client.delete(f"/api/v1/users/{actor.id}/mfa", headers=admin.headers)
        assert reset.status_code == 204
        events = await events_after(world.session.bind, mark)  # type: ignore[arg-type]
        assert ("user.mfa_reset", "success", str(actor.id)) in [
            (e["action"], e["outcome"], e["resource_id"]) for e in events
        ]
        assert_problem(await world.client.get("/api/v1/auth/me", headers=signed), 401)
        assert claims(await sign_in(world, actor))["amr"] == ["pwd"]
        count = await world.session.execute(select(func.count()).select_from(MfaRecoveryCode))
        assert count.scalar_one() == 0

    async def test_other_agency_admin_gets_404_and_nothing_changes(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        stranger = await world.user(Role.AGENCY_ADMIN)
        await enrol(world, actor)
        reset = await world.client.delete(f"/api/v1/users/{actor.id}/mfa", headers=stranger.headers)
        assert_problem(reset, 404)
        _mfa_required(await sign_in(world, actor))

    async def test_staff_cannot_reset_and_nobody_resets_their_own(self, world: World) -> None:
        agency = await world.agency()
        admin = await world.user(Role.AGENCY_ADMIN, agency)
        colleague = await world.user(Role.CASE_WORKER, agency)
        actor = await world.user(Role.CASE_WORKER, agency)
        await enrol(world, actor)
        forbidden = await world.client.delete(
            f"/api/v1/users/{actor.id}/mfa", headers=colleague.headers
        )
        assert_problem(forbidden, 403)
        own = await world.client.delete(f"/api/v1/users/{admin.id}/mfa", headers=admin.headers)
        assert_problem(own, 409)
        _mfa_required(await sign_in(world, actor))
