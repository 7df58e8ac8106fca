"""A referral's free text (note, reasons, outcome note), sealed and opened under the
victim's data key, and the audit codes of its disclosures. The shared values
themselves are `app.services.cases.shared`'s.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Referral
from app.models.referral import LegalBasis, ReferralPurpose
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import case_text

TABLE = "referrals"

# The audit trail's purpose of use for each referral purpose (app.audit.writer.PURPOSES).
_AUDIT_PURPOSE = {
    ReferralPurpose.SUPPORT.value: "support_delivery",
    ReferralPurpose.INVESTIGATION.value: "investigation",
    ReferralPurpose.PROTECTION.value: "protection",
    ReferralPurpose.REPATRIATION.value: "support_delivery",
    ReferralPurpose.TRANSFER.value: "case_management",
    ReferralPurpose.VERIFICATION.value: "case_management",
    ReferralPurpose.IDENTIFICATION.value: "investigation",
    ReferralPurpose.NOTIFICATION.value: "case_management",
}


def audit_purpose(referral: Referral) -> str:
    if referral.legal_basis == LegalBasis.EMERGENCY.value:
        return "emergency"
    return _AUDIT_PURPOSE[referral.purpose]


def basis_reason(referral: Referral) -> str:
    """The audit reason code that flags the legal basis of a disclosure."""
    return f"legal_basis:{referral.legal_basis}"


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
