"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A secret is `whsec_` followed by the base64 of random bytes; the HMAC key is those
bytes. The signed content is `{webhook-id}.{webhook-timestamp}.{body}` and the
`Webhook-Signature` header is `v1,<base64 HMAC-SHA256>`. The receiver recomputes it
with its copy of the secret and rejects old timestamps (replay).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

SECRET_PREFIX = "whsec_"  # noqa: S105 (the scheme's prefix, not a secret)
SECRET_BYTES = 32  # the key ring wraps 32-byte keys; also a full-strength HMAC key


def new_secret() -> bytes:
    return os.urandom(SECRET_BYTES)


def format_secret(raw: bytes) -> str:
    """The secret as shown to the agency (once, at registration)."""
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def sign(secret: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(secret: bytes, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Webhook-Id": msg_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": sign(secret, msg_id, timestamp, body),
    }
