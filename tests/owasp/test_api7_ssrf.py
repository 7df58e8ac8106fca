"""OWASP API7:2023 server-side request forgery: the URLs the service would call
(webhook endpoints) are checked by app/security/ssrf.py before registration and
before each delivery. Here: a table of URLs that must be refused, bypass spellings
included, and the same refusal through the webhook registration route."""

from __future__ import annotations

import pytest

from app.security.permissions import Role
from tests.conftest import World, assert_problem

ssrf = pytest.importorskip("app.security.ssrf", reason="the SSRF guard is not built yet")

REFUSED = [
    "http://hooks.example.org/",  # plain http in production
    "ftp://hooks.example.org/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "https://user:secret@hooks.example.org/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fd00:ec2::254]/",
    "https://100.100.100.200/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://localhost/",
    "https://api.localhost/",
    "https://127.0.0.1/",
    "https://127.1.2.3:8443/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "https://10.0.0.1/",
    "https://172.16.5.4/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://[fc00::1]/",
    "https://[fe80::1]/",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://2130706433/",  # 127.0.0.1 spelled as one number
    "https://0x7f000001/",
    "https://0177.0.0.1/",
    "https://" + "a" * 2100 + ".example.org/",
    "https:///no-host",
]
# Hosts whose DNS answer points inside: every address must be public.
RESOLVES_INSIDE = {
    "internal.example.org": ["10.1.2.3"],
    "mixed.example.org": ["93.184.216.34", "127.0.0.1"],
    "metadata-alias.example.org": ["169.254.169.254"],
}


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        if host in RESOLVES_INSIDE:
            return RESOLVES_INSIDE[host]
        raise OSError("no network in tests")

    # Literal and numeric hosts never reach DNS; the rest answer from the table.
    real = ssrf.resolve_host

    async def numeric_or_fake(host: str, port: int) -> list[str]:
        if host.replace(".", "").replace("x", "").isalnum() and host[0].isdigit():
            return await real(host, port)
        return await resolve(host, port)

    monkeypatch.setattr(ssrf, "resolve_host", numeric_or_fake)


@pytest.mark.parametrize("url", REFUSED, ids=lambda u: u[:50])
async def test_refused(fake_dns: None, url: str) -> None:
    with pytest.raises(ssrf.UnsafeUrl):
        await ssrf.check_url(url, require_https=True, allow_private=False)


@pytest.mark.parametrize("host", sorted(RESOLVES_INSIDE))
async def test_dns_answer_inside_is_refused(fake_dns: None, host: str) -> None:
    with pytest.raises(ssrf.UnsafeUrl):
        await ssrf.check_url(f"https://{host}/hook", require_https=True, allow_private=False)


@pytest.mark.parametrize("url", ["https://169.254.169.254/", "https://0.0.0.0/",
                                 "https://[::ffff:169.254.169.254]/"])  # fmt: skip
async def test_metadata_refused_even_where_private_is_allowed(fake_dns: None, url: str) -> None:
    with pytest.raises(ssrf.UnsafeUrl):
        await ssrf.check_url(url, require_https=False, allow_private=True)


async def test_a_public_address_passes_pinned() -> None:
    target = await ssrf.check_url(
        "https://93.184.216.34/hooks/vcm?x=1", require_https=True, allow_private=False
    )
    assert str(target.address) == "93.184.216.34" and target.path == "/hooks/vcm?x=1"


@pytest.mark.parametrize("url", ["https://169.254.169.254/latest/", "file:///etc/passwd",
                                 "https://[::ffff:169.254.169.254]/"])  # fmt: skip
async def test_webhook_registration_refuses(world: World, url: str) -> None:
    admin = await world.user(Role.AGENCY_ADMIN)
    response = await world.client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": ["referral.created"]},
        headers=admin.headers,
    )
    if response.status_code in (404, 405) and "problems/not-found" in response.text:
        pytest.skip("POST /api/v1/webhooks is not served yet")
    assert_problem(response, 422)


# IPv6 forms that carry an IPv4 address: each is judged by the address it embeds, so a
# loopback, private or metadata address cannot be reached through a transition prefix.
TRANSITION_FORMS = [
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "https://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
    "https://[2002:0a00:0001::]/",  # 6to4 of 10.0.0.1
    "https://[::ffff:7f00:1]/",  # IPv4-mapped
    "https://[::7f00:1]/",  # IPv4-compatible (deprecated)
    "https://[::a9fe:a9fe]/",  # IPv4-compatible of the metadata address
    "https://[64:ff9b::7f00:1]/",  # NAT64 well-known prefix
    "https://[64:ff9b:1::a9fe:a9fe]/",  # NAT64 local-use prefix, /96 position
    "https://[64:ff9b:1:a9fe:a9:fe00::]/",  # NAT64 local-use prefix, /48 position
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
    "https://[2001:0:4136:e378:8000:63bf:5601:5601]/",  # Teredo, client 169.254.169.254
    "https://[2001:db8:1::5efe:7f00:1]/",  # ISATAP interface id of 127.0.0.1
    "https://[2606:4700::200:5efe:a9fe:a9fe]/",  # ISATAP (u bit) of 169.254.169.254
]


@pytest.mark.parametrize("url", TRANSITION_FORMS)
async def test_ipv6_transition_forms_are_unwrapped(url: str) -> None:
    with pytest.raises(ssrf.UnsafeUrl):
        await ssrf.check_url(url, require_https=False, allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://[2002:a9fe:a9fe::1]/",
        "https://[::a9fe:a9fe]/",
        "https://[64:ff9b:1::a9fe:a9fe]/",
        "https://[2001:0:4136:e378:8000:63bf:5601:5601]/",
        "https://[2606:4700::200:5efe:a9fe:a9fe]/",
    ],
)
async def test_embedded_metadata_refused_even_where_private_is_allowed(url: str) -> None:
    with pytest.raises(ssrf.UnsafeUrl) as refused:
        await ssrf.check_url(url, require_https=False, allow_private=True)
    assert refused.value.code == "metadata_address"


@pytest.mark.parametrize(
    "url",
    # DNS64 on an IPv6-only network answers public hosts in 64:ff9b::/96.
    ["https://[64:ff9b::5db8:d822]/", "https://[2606:4700:4700::1111]/"],
)
async def test_public_addresses_behind_a_transition_prefix_pass(url: str) -> None:
    target = await ssrf.check_url(url, require_https=True, allow_private=False)
    assert target.address.version == 6
