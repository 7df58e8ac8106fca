"""Fixtures for the identity vault: the app's key ring and indexer, made-up persons."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from faker import Faker
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import Agency, User
from app.models.audit import AuditEvent
from app.security.blind_index import BlindIndexer
from app.security.keyring import KeyProvider
from app.security.passwords import hash_password
from app.security.permissions import Role
from app.security.principal import Principal
from app.services.persons import PersonFields

fake = Faker("vi_VN")


@pytest.fixture
def keys(app: FastAPI) -> KeyProvider:
    provider: KeyProvider = app.state.keys
    return provider


@pytest.fixture
def indexer(app: FastAPI) -> BlindIndexer:
    blind: BlindIndexer = app.state.indexer
    return blind


def national_id() -> str:
    """A made-up 12-digit CCCD number: province code, century-sex digit, then random."""
    return f"0{random.randint(1, 96):02d}{random.choice('0123')}{random.randint(0, 10**8 - 1):08d}"


def mobile() -> str:
    return f"09{random.randint(0, 10**8 - 1):08d}"


def made_up(**overrides: Any) -> PersonFields:
    """A made-up person (Faker vi_VN), never a real one."""
    values: dict[str, Any] = {
        "full_name": fake.name(),
        "other_names": fake.first_name(),
        "date_of_birth": fake.date_of_birth(minimum_age=6, maximum_age=60),
        "national_id": national_id(),
        "phone": mobile(),
        "address": fake.address(),
        "ethnicity": "Kinh",
        "sex": random.choice(["female", "male"]),
        "nationality": "VN",
        "ethnicity_group": "kinh",
        "hometown_province_code": "40",
    }
    values.update(overrides)
    return PersonFields(**values)


async def system_admin(session: AsyncSession) -> Principal:
    """A system administrator in the database (erasures name a real user)."""
    agency = Agency(code=f"NAT-{uuid.uuid4().hex[:6]}", name="Cục test", kind="national")
    session.add(agency)
    await session.flush()
    user = User(
        username=f"root{uuid.uuid4().hex[:8]}",
        password_hash=hash_password(uuid.uuid4().hex),
        full_name=fake.name(),
        role=Role.SYSTEM_ADMIN.value,
        agency_id=agency.id,
    )
    session.add(user)
    await session.commit()
    return Principal(
        actor_id=user.id,
        role=Role.SYSTEM_ADMIN,
        agency_id=agency.id,
        agency_kind="national",
        province_code=None,
    )


async def audit_events(session: AsyncSession, action: str) -> list[AuditEvent]:
    return list(
        (await session.execute(select(AuditEvent).where(col(AuditEvent.action) == action)))
        .scalars()
        .all()
    )
