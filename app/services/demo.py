"""Demo data for dev mode: agencies of several kinds in two provinces, one user per role.

Made-up people only (Faker's vi_VN locale); passwords are random and returned once,
for the first start to print. Production never loads this (`vcm seed-demo` refuses).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Agency
from app.schemas.agency import AgencyCreate
from app.schemas.user import UserCreate
from app.security.permissions import Role
from app.services import agencies as agency_service
from app.services import support_rates
from app.services import users as user_service

# (code, name, kind, province): Nghệ An (40) and Ninh Bình (37), two of the provinces
# whose plans this project started from, plus the national level and hotline 111.
DEMO_AGENCIES = [
    ("BCA", "Bộ Công an (demo)", "national", None),
    ("TD111", "Tổng đài 111 (demo)", "hotline", None),
    ("CA-40", "Công an tỉnh Nghệ An (demo)", "police", "40"),
    ("SYT-40", "Sở Y tế tỉnh Nghệ An (demo)", "social_affairs", "40"),
    ("BDBP-40", "Bộ đội Biên phòng tỉnh Nghệ An (demo)", "border_guard", "40"),
    ("UBND-40-KS", "UBND xã Kỳ Sơn (demo)", "commune", "40"),
    ("TGPL-40", "Trung tâm Trợ giúp pháp lý Nghệ An (demo)", "legal_aid", "40"),
    ("CA-37", "Công an tỉnh Ninh Bình (demo)", "police", "37"),
    ("SYT-37", "Sở Y tế tỉnh Ninh Bình (demo)", "social_affairs", "37"),
    ("NHCSXH-37", "Ngân hàng CSXH Ninh Bình (demo)", "bank", "37"),
]

# One user per role, in the agency where that role works.
DEMO_USERS = [
    ("admin", Role.SYSTEM_ADMIN, "BCA"),
    ("auditor", Role.AUDITOR, "BCA"),
    ("analyst", Role.ANALYST, "SYT-40"),
    ("syt40.reporting", Role.REPORTING_OFFICER, "SYT-40"),
    ("syt40.admin", Role.AGENCY_ADMIN, "SYT-40"),
    ("syt40.supervisor", Role.SUPERVISOR, "SYT-40"),
    ("syt40.worker", Role.CASE_WORKER, "SYT-40"),
    ("ca40.worker", Role.CASE_WORKER, "CA-40"),
    ("ca37.worker", Role.CASE_WORKER, "CA-37"),
    ("hotline.operator", Role.HOTLINE_OPERATOR, "TD111"),
]


@dataclass(frozen=True)
class DemoCredential:
    username: str
    role: str
    agency_code: str
    password: str


def _name_maker() -> Callable[[], str]:
    """Faker's vi_VN names where Faker is installed (dev), numbered names otherwise."""
    try:
        from faker import Faker
    except ImportError:
        counter = iter(range(1, 10_000))
        return lambda: f"Cán bộ demo {next(counter)}"
    fake = Faker("vi_VN")
    return lambda: str(fake.name())


async def seed_demo(session: AsyncSession) -> list[DemoCredential]:
    """Create what is missing; return credentials of users created now (else empty)."""
    full_name = _name_maker()
    by_code: dict[str, Agency] = {}
    for code, name, kind, province in DEMO_AGENCIES:
        agency = await agency_service.get_agency_by_code(session, code)
        if agency is None:
            agency = await agency_service.create_agency(
                session, AgencyCreate(code=code, name=name, kind=kind, province_code=province)
            )
        by_code[code] = agency
    created = []
    for username, role, agency_code in DEMO_USERS:
        if await user_service.username_exists(session, username):
            continue
        password = secrets.token_urlsafe(12)
        await user_service.create_user(
            session,
            None,
            UserCreate(
                username=username,
                password=password,
                full_name=full_name(),
                role=role,
                agency_id=by_code[agency_code].id,
            ),
        )
        created.append(DemoCredential(username, role.value, agency_code, password))
    await support_rates.seed_demo_rates(session)
    return created
