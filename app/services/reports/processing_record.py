"""The record of processing activities, built from the code and the data, never
written by hand (Law 91/2025 asks a controller to keep one).

Rules:
- Data categories: the persons table's identity columns (`ENCRYPTED_COLUMNS`,
  encrypted) and its plain statistics columns (every other column of `persons` that
  is not bookkeeping: ids, versions, timestamps, the erasure's own record).
- Purposes of use: the codes a reader must give to see identity (`PURPOSES`).
- Recipients: the distinct kinds of agencies that have received referrals (from the
  referrals joined to the receiving agencies), with how many; legal bases: the
  distinct bases referrals disclosed data on, with how many.
- Retention: every setting whose name says `retention`, with its value (null: no
  time limit).
- Who: `processing_record:read` (auditors, system administrators). Audited as
  `report.processing_record`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app import audit
from app.audit import writer
from app.config import Settings
from app.models import Agency, Person, Referral
from app.models import person as person_model
from app.schemas.processing_record import (
    DataCategory,
    LegalBasisUse,
    ProcessingRecord,
    RecipientKind,
    RetentionSetting,
)
from app.security.principal import Principal

# Columns of `persons` about the row, not about the person.
_BOOKKEEPING = frozenset(
    {
        "id",
        "kind",
        "version",
        "created_at",
        "updated_at",
        "erased_at",
        "erasure_legal_basis",
        "erasure_reason_code",
        "erased_by",
        # When a restriction of processing was asked (a data subject's request).
        "restricted_at",
    }
)


def data_categories() -> list[DataCategory]:
    encrypted = list(person_model.ENCRYPTED_COLUMNS)
    table = SQLModel.metadata.tables[str(Person.__tablename__)]
    plain = [
        c.name for c in table.columns if c.name not in encrypted and c.name not in _BOOKKEEPING
    ]
    name = table.name
    return [
        DataCategory(category="identity", table=name, columns=encrypted, stored="encrypted"),
        DataCategory(category="statistics", table=name, columns=plain, stored="plain"),
    ]


def retention_settings(settings: Settings) -> list[RetentionSetting]:
    found: list[RetentionSetting] = []
    for name, info in sorted(type(settings).model_fields.items()):
        if "retention" in name:
            value = getattr(settings, name)
            found.append(RetentionSetting(setting=info.alias or name, value=value))
    return found


async def processing_record(
    session: AsyncSession, principal: Principal, settings: Settings
) -> ProcessingRecord:
    """The record (module rules)."""
    to_kind = (
        await session.execute(
            select(col(Agency.kind), func.count())
            .select_from(Referral)
            .join(Agency, col(Agency.id) == col(Referral.to_agency_id))
            .group_by(col(Agency.kind))
            .order_by(col(Agency.kind))
        )
    ).all()
    bases = (
        await session.execute(
            select(col(Referral.legal_basis), func.count())
            .group_by(col(Referral.legal_basis))
            .order_by(col(Referral.legal_basis))
        )
    ).all()
    record = ProcessingRecord(
        generated_at=datetime.now(UTC),
        data_categories=data_categories(),
        purposes=sorted(writer.PURPOSES),
        recipient_agency_kinds=[RecipientKind(agency_kind=k, referrals=n) for k, n in to_kind],
        legal_bases=[LegalBasisUse(legal_basis=b, referrals=n) for b, n in bases],
        retention=retention_settings(settings),
    )
    await audit.record(
        session,
        action="report.processing_record",
        resource_type="report",
        principal=principal,
    )
    return record
