"""The values a referral discloses: exactly its shared fields, nothing else of the case.

Victim fields are decrypted through the persons service, and only when the referral
shares at least one of them; the rest come from the case skeleton. Free text of the
referral itself (note, reasons, outcome) is sealed and opened here too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Case, Referral
from app.models.referral import LegalBasis, ReferralPurpose
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services import persons
from app.services.cases import case_text

VICTIM_PREFIX = "victim."
TABLE = "referrals"

# The audit trail's purpose of use for each referral purpose (app.audit.writer.PURPOSES).
_AUDIT_PURPOSE = {
    ReferralPurpose.SUPPORT.value: "support_delivery",
    ReferralPurpose.INVESTIGATION.value: "investigation",
    ReferralPurpose.PROTECTION.value: "protection",
    ReferralPurpose.REPATRIATION.value: "support_delivery",
    ReferralPurpose.TRANSFER.value: "case_management",
}


def audit_purpose(referral: Referral) -> str:
    if referral.legal_basis == LegalBasis.EMERGENCY.value:
        return "emergency"
    return _AUDIT_PURPOSE[referral.purpose]


def basis_reason(referral: Referral) -> str:
    """The audit reason code that flags the legal basis of a disclosure."""
    return f"legal_basis:{referral.legal_basis}"


def _case_value(case: Case, name: str) -> Any:
    if name == "received_location":
        return {"province_code": case.province_code, "commune_code": case.received_commune_code}
    if name == "exploitation_types":
        return list(case.exploitation_types)
    return getattr(case, name)


async def shared_values(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    fields: Sequence[str],
) -> dict[str, Any]:
    """{dotted name: value} for exactly `fields`."""
    values: dict[str, Any] = {}
    victim_fields = [f.removeprefix(VICTIM_PREFIX) for f in fields if f.startswith(VICTIM_PREFIX)]
    if victim_fields:
        view = await persons.read_person(
            session, keys, case.victim_person_id, reveal=True, actor=principal
        )
        for name in victim_fields:
            values[VICTIM_PREFIX + name] = getattr(view, name)
    for name in fields:
        if name.startswith("case."):
            values[name] = _case_value(case, name.removeprefix("case."))
    return values


async def seal(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal | None,
    victim_person_id: uuid.UUID,
    referral_id: uuid.UUID,
    column: str,
    text: str | None,
) -> bytes | None:
    if text is None:
        return None
    return await case_text.seal_text(
        session,
        keys,
        victim_person_id=victim_person_id,
        table=TABLE,
        column=column,
        row_id=referral_id,
        text=text,
        actor=principal,
    )


async def open_(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    victim_person_id: uuid.UUID,
    referral: Referral,
    column: str,
) -> str | None:
    ciphertext: bytes | None = getattr(referral, column)
    if ciphertext is None:
        return None
    return await case_text.open_text(
        session,
        keys,
        victim_person_id=victim_person_id,
        table=TABLE,
        column=column,
        row_id=referral.id,
        ciphertext=ciphertext,
        actor=principal,
    )
