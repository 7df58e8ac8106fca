"""The audit trail: one writer, a hash chain sealed after commit, a verifier.

`record()` is what services call; see `app.audit.writer` for its rules and
`app.audit.chain` for the chain's design and guarantees.
"""

from app.audit.writer import (
    PURPOSES,
    SYSTEM_CONTEXT,
    AuditContext,
    context_from_request,
    purpose_from_request,
    record,
)

__all__ = [
    "PURPOSES",
    "SYSTEM_CONTEXT",
    "AuditContext",
    "context_from_request",
    "purpose_from_request",
    "record",
]
