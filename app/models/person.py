"""Persons and their identity vault: encrypted fields, data keys, blind indexes.

A person is anyone whose identity the service holds: a victim, an accompanying
minor, a relative, a person who helps, a witness, a hotline caller, a person named
in a hotline report. Identity columns hold AES-256-GCM ciphertext made by
`app.services.persons` with the person's own data key (DEK); the DEK lives in
`person_keys`, wrapped by the key ring's KEK. Deleting the `person_keys` row is the
erasure (crypto-shredding). Photos and scans are in `app.models.document`.

Plain columns are the statistics the reports need (sex, nationality, birth year,
ethnic group derived from the ethnicity code, home province). Each is low-entropy
and, alone, shared by many people; reports publish them only through k-anonymised
cells (k = 11). The birth year is also what the masked view shows every reader of a
case (API.md), so keeping it plain discloses nothing a masked reader does not already
see. They stay after an erasure, with the case skeleton.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    func,
)
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column, timestamp_column, utcnow, uuid_pk


class PersonKind(StrEnum):
    VICTIM = "victim"
    MINOR = "minor"  # an accompanying minor (trẻ em đi cùng)
    RELATIVE = "relative"
    HELPER = "helper"  # a person who helps the victim (người giúp đỡ)
    WITNESS = "witness"
    HOTLINE_CALLER = "hotline_caller"
    REPORTED_PERSON = "reported_person"  # a suspected victim named in a hotline report


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class EthnicityGroup(StrEnum):
    """The reports' group of an ethnicity code (app/domain/ethnicities.py); the
    ethnicity itself is encrypted."""

    KINH = "kinh"
    MINORITY = "minority"
    FOREIGN = "foreign"
    UNKNOWN = "unknown"


class ErasureReason(StrEnum):
    DATA_SUBJECT_REQUEST = "data_subject_request"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    RETENTION_EXPIRED = "retention_expired"
    COURT_ORDER = "court_order"
    RECORDED_IN_ERROR = "recorded_in_error"


# The identity columns of `persons`, in a fixed order: each is bytea ciphertext bound
# to ("persons", column, person id, person id). Adding one means a migration and an
# entry here; `app.services.persons` encrypts, decrypts and masks by this tuple.
ENCRYPTED_COLUMNS: tuple[str, ...] = (
    "full_name",
    "other_names",
    "date_of_birth",
    "national_id",
    "phone",
    "address",
    "ethnicity",
)


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


def _ciphertext() -> Column[bytes]:
    return Column(LargeBinary, nullable=True)


class Person(SQLModel, table=True):
    """One person's record; identity fields only as ciphertext (never in a response)."""

    __tablename__ = "persons"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(PersonKind)})", name="kind"),
        CheckConstraint(f"sex IN ({_values(Sex)})", name="sex"),
        CheckConstraint(f"ethnicity_group IN ({_values(EthnicityGroup)})", name="ethnicity_group"),
        CheckConstraint(
            f"erasure_reason_code IN ({_values(ErasureReason)})", name="erasure_reason"
        ),
        CheckConstraint("birth_year BETWEEN 1900 AND 2100", name="birth_year"),
        CheckConstraint("nationality ~ '^[A-Z]{2}$'", name="nationality"),
        # An erased person keeps no ciphertext and records why it was erased.
        CheckConstraint(
            "erased_at IS NULL OR (erasure_legal_basis IS NOT NULL AND "
            + " AND ".join(f"{c} IS NULL" for c in ENCRYPTED_COLUMNS)
            + ")",
            name="erased_has_no_identity",
        ),
    )

    id: uuid.UUID = uuid_pk()
    kind: str = Field(max_length=32, index=True)
    sex: str | None = Field(default=None, max_length=16)
    nationality: str | None = Field(default=None, max_length=2)
    birth_year: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    ethnicity_group: str | None = Field(default=None, max_length=16)
    hometown_province_code: str | None = Field(
        default=None, max_length=2, foreign_key="provinces.code"
    )
    # The province code as given when it was a former one (before the 2025
    # reorganisation, as older papers name it); `hometown_province_code` then holds
    # the province it merged into (app/domain/admin_units.py).
    hometown_former_province_code: str | None = Field(default=None, max_length=2)

    full_name: bytes | None = Field(default=None, sa_column=_ciphertext(), repr=False)
    other_names: bytes | None = Field(default=None, sa_column=_ciphertext(), repr=False)
    date_of_birth: bytes | None = Field(default=None, sa_column=_ciphertext(), repr=False)
    national_id: bytes | None = Field(default=None, sa_column=_ciphertext(), repr=False)
    phone: bytes | None = Field(default=None, sa_column=_ciphertext(), repr=False)
    address: bytes | None = Field(default=None, sa_column=_ciphertext(), repr=False)
    ethnicity: bytes | None = Field(default=None, sa_column=_ciphertext(), repr=False)

    # Optimistic concurrency for updates through the cases API.
    version: int = Field(default=1)
    created_at: datetime = created_at_column()
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    erased_at: datetime | None = timestamp_column()
    # Processing restricted on the person's request (`app.services.restriction`):
    # their identity is revealed to supervisors only.
    restricted_at: datetime | None = timestamp_column()
    # A citation of the law or decision, written by a system administrator; the
    # erasure endpoint refuses long digit runs so no identity number lands here.
    erasure_legal_basis: str | None = Field(default=None, max_length=500)
    erasure_reason_code: str | None = Field(default=None, max_length=32)
    erased_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")

    def __repr__(self) -> str:
        # SQLModel's repr would list every column; ciphertext length alone hints at
        # the plaintext's length, so show ids and state only.
        state = "erased" if self.erased_at else "active"
        return f"Person(id={self.id}, kind={self.kind!r}, {state})"

    __str__ = __repr__


class PersonKey(SQLModel, table=True):
    """A person's data key, wrapped by KEK `kek_version`; deleting the row erases them.

    `kek_version` is its own indexed column so a rotation finds the keys still under
    an older version (`WHERE kek_version < current`) without unwrapping anything.
    """

    __tablename__ = "person_keys"
    __table_args__ = (CheckConstraint("kek_version >= 1", name="kek_version"),)

    key_id: uuid.UUID = Field(primary_key=True)
    person_id: uuid.UUID = Field(foreign_key="persons.id", ondelete="CASCADE", unique=True)
    kek_version: int = Field(index=True)
    wrapped: bytes = Field(sa_column=Column(LargeBinary, nullable=False), repr=False)
    created_at: datetime = created_at_column()
    rewrapped_at: datetime | None = timestamp_column()

    def __repr__(self) -> str:
        return (
            f"PersonKey(key_id={self.key_id}, person_id={self.person_id}, "
            f"kek_version={self.kek_version}, wrapped=<redacted>)"
        )

    __str__ = __repr__


class PersonBlindIndex(SQLModel, table=True):
    """One blind-index value of one person (truncated HMAC, `app.security.blind_index`).

    The primary key (index_name, value, person_id) is also the search index: a lookup
    by (index_name, value) reads its prefix. Many persons share each value by design.
    """

    __tablename__ = "person_blind_indexes"
    __table_args__ = (
        PrimaryKeyConstraint("index_name", "value", "person_id", name="pk_person_blind_indexes"),
        CheckConstraint("octet_length(value) BETWEEN 1 AND 32", name="value_length"),
        Index("ix_person_blind_indexes_person_id", "person_id"),
    )

    index_name: str = Field(max_length=63)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False), repr=False)
    person_id: uuid.UUID = Field(foreign_key="persons.id", ondelete="CASCADE")
