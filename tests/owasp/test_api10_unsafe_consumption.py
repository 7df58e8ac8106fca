"""OWASP API10:2023 unsafe consumption of APIs: the webhook receivers' answers are
not trusted. A delivery counts a 2xx status and nothing else: redirects are not
followed (a receiver cannot bounce the signed request inside the network), the body is
never read (a receiver cannot make the service parse or store anything), and any
other status is a failure to retry."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from app.config import Settings

delivery = pytest.importorskip(
    "app.services.webhooks.delivery", reason="webhook delivery is not built yet"
)


class _Unreadable(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        raise AssertionError("the receiver's body was read")
        yield b""  # pragma: no cover - makes this an async generator

    async def aclose(self) -> None:
        return None


@pytest.fixture
def send(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(delivery, "open_secret", lambda keys, endpoint: b"k" * 32)
    claimed = delivery.Claimed(
        delivery_id=uuid.uuid4(), event_id=uuid.uuid4(), payload={"type": "referral.created"},
        url="https://93.184.216.34/hooks/vcm", endpoint=None, attempt=1,
    )  # fmt: skip
    seen: list[httpx.Request] = []

    async def run(answer: httpx.Response):  # type: ignore[no-untyped-def]
        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return answer

        outcome = await delivery.send(
            claimed, None, Settings(VCM_ENV="dev"),  # type: ignore[call-arg]
            now=delivery.datetime.now(delivery.UTC), transport=httpx.MockTransport(handler),
        )  # fmt: skip
        return outcome, seen

    return run


async def test_a_redirect_is_not_followed(send) -> None:  # type: ignore[no-untyped-def]
    answer = httpx.Response(307, headers={"Location": "https://169.254.169.254/latest/"})
    outcome, seen = await send(answer)
    assert len(seen) == 1 and not outcome.delivered and outcome.status_code == 307


async def test_the_body_is_never_read(send) -> None:  # type: ignore[no-untyped-def]
    outcome, seen = await send(httpx.Response(200, stream=_Unreadable()))
    assert outcome.delivered and len(seen) == 1


@pytest.mark.parametrize("status", [100, 302, 400, 410, 500, 503])
async def test_only_2xx_delivers(send, status: int) -> None:  # type: ignore[no-untyped-def]
    outcome, _ = await send(httpx.Response(status, json={"ok": True, "delivered": True}))
    assert not outcome.delivered


async def test_the_request_goes_to_the_checked_address(send) -> None:  # type: ignore[no-untyped-def]
    _, seen = await send(httpx.Response(204))
    assert seen[0].url.host == "93.184.216.34" and seen[0].url.scheme == "https"
    assert "webhook-signature" in seen[0].headers
