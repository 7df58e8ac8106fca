"""Webhook URLs: https in production, and no loopback, private, link-local or metadata
address, at registration (after DNS resolution) and again at delivery."""

from __future__ import annotations

import ipaddress

import pytest
from fastapi import FastAPI

from app.config import Settings
from app.security import ssrf
from app.security.permissions import Role
from tests.conftest import World, assert_problem
from tests.webhooks.helpers import WEBHOOKS, app_settings


def resolving_to(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


REFUSED = [
    "https://localhost/hook",
    "https://api.localhost/hook",
    "https://127.0.0.1/hook",
    "https://127.8.9.10/hook",
    "https://10.1.2.3/hook",
    "https://172.16.0.9/hook",
    "https://192.168.1.20/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/hook",
    "https://100.100.100.200/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://240.0.0.1/hook",
    "https://[::1]/hook",
    "https://[fd00:ec2::254]/hook",
    "https://[fc00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[64:ff9b::a9fe:a9fe]/hook",
    "https://metadata.google.internal/computeMetadata/v1/",
]


class TestAddressRules:
    @pytest.mark.parametrize("url", REFUSED)
    async def test_refused(self, url: str) -> None:
        with pytest.raises(ssrf.UnsafeUrl):
            await ssrf.check_url(url, require_https=False, allow_private=False)

    async def test_public_literal_is_pinned(self) -> None:
        target = await ssrf.check_url(
            "https://1.1.1.1:8443/a?b=1", require_https=True, allow_private=False
        )
        assert target.pinned_url == "https://1.1.1.1:8443/a?b=1"
        assert target.host_header == "1.1.1.1:8443"

    async def test_allow_private_still_refuses_metadata_and_link_local(self) -> None:
        await ssrf.check_url("http://127.0.0.1:9/x", require_https=False, allow_private=True)
        for url in ("http://169.254.169.254/", "http://169.254.1.1/", "http://0.0.0.0/"):
            with pytest.raises(ssrf.UnsafeUrl):
                await ssrf.check_url(url, require_https=False, allow_private=True)

    async def test_every_resolved_address_must_be_public(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(ssrf, "resolve_host", resolving_to("93.184.215.14", "10.0.0.7"))
        with pytest.raises(ssrf.UnsafeUrl) as refused:
            await ssrf.check_url(
                "https://hooks.example.com/", require_https=True, allow_private=False
            )
        assert refused.value.code == "private_address"
        monkeypatch.setattr(ssrf, "resolve_host", resolving_to("93.184.215.14"))
        target = await ssrf.check_url(
            "https://hooks.example.com/x", require_https=True, allow_private=False
        )
        assert target.address == ipaddress.ip_address("93.184.215.14")
        assert target.host == "hooks.example.com"
        assert target.pinned_url == "https://93.184.215.14:443/x"

    async def test_https_required_in_production(self) -> None:
        with pytest.raises(ssrf.UnsafeUrl) as refused:
            await ssrf.check_url("http://1.1.1.1/x", require_https=True, allow_private=False)
        assert refused.value.code == "scheme_refused"


class TestRegistrationRefusals:
    @pytest.mark.parametrize(
        "url",
        [
            "https://localhost/hook",
            "https://127.0.0.1/hook",
            "https://10.0.0.5/hook",
            "https://192.168.1.1/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/hook",
        ],
    )
    async def test_private_urls_are_422(self, world: World, url: str) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        response = await world.client.post(
            WEBHOOKS, json={"url": url, "events": ["referral.created"]}, headers=admin.headers
        )
        body = assert_problem(response, 422)
        assert body["errors"][0]["field"] == "url"  # type: ignore[index]

    async def test_hostname_resolving_to_private_is_422(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        monkeypatch.setattr(ssrf, "resolve_host", resolving_to("192.168.10.10"))
        response = await world.client.post(
            WEBHOOKS,
            json={"url": "https://crm.example.vn/hook", "events": ["referral.created"]},
            headers=admin.headers,
        )
        assert_problem(response, 422)
        monkeypatch.setattr(ssrf, "resolve_host", resolving_to("203.113.131.1"))
        response = await world.client.post(
            WEBHOOKS,
            json={"url": "https://crm.example.vn/hook", "events": ["referral.created"]},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text

    async def test_http_refused_in_production(self, world: World, app: FastAPI) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        with app_settings(app, env="production"):
            response = await world.client.post(
                WEBHOOKS,
                json={"url": "http://1.1.1.1/hook", "events": ["referral.created"]},
                headers=admin.headers,
            )
            assert_problem(response, 422)
            response = await world.client.post(
                WEBHOOKS,
                json={"url": "https://1.1.1.1/hook", "events": ["referral.created"]},
                headers=admin.headers,
            )
            assert response.status_code == 201, response.text


def test_allow_private_is_refused_in_production() -> None:
    settings = Settings(  # type: ignore[call-arg]
        VCM_ENV="production",
        VCM_WEBHOOK_ALLOW_PRIVATE=True,
        DATABASE_URL="postgresql+asyncpg://vcm:Str0ng-unguessable@db/vcm",
        VCM_KEYRING="/etc/vcm/keyring.json",
    )
    assert any("VCM_WEBHOOK_ALLOW_PRIVATE" in p for p in settings.production_problems())
    assert not any(
        "VCM_WEBHOOK_ALLOW_PRIVATE" in p
        for p in settings.model_copy(update={"webhook_allow_private": False}).production_problems()
    )
