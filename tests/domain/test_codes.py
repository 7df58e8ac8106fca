"""The code lists (app/domain/admin_units.py, app/domain/ethnicities.py) and the
`provinces` reference table."""

from __future__ import annotations

import pycountry
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from vietnam_provinces import Province as LibraryProvince

from app.domain import admin_units
from app.domain.ethnicities import ETHNICITIES, group_of
from app.models import Province
from app.models.person import EthnicityGroup


async def test_the_provinces_table_is_the_librarys_2025_provinces(session: AsyncSession) -> None:
    table = set((await session.execute(select(Province.code))).scalars())
    library = {f"{p.code:02d}" for p in LibraryProvince.iter_all()}
    assert len(library) == 34
    assert table == library == set(admin_units.provinces())


def test_every_former_code_names_one_current_province() -> None:
    current = set(admin_units.provinces())
    assert not current & admin_units.FORMER_PROVINCES.keys()
    assert {target for _, target in admin_units.FORMER_PROVINCES.values()} <= current
    # 63 provinces before 1 July 2025: the 34 codes kept and the 29 gone.
    assert len(current) + len(admin_units.FORMER_PROVINCES) == 63
    assert admin_units.current_province("02") == "08"  # Hà Giang, now Tuyên Quang
    assert admin_units.current_province("40") == "40"
    assert admin_units.current_province("99") is None


@pytest.mark.parametrize(
    ("commune", "province", "expected"),
    [
        ("16681", "40", True),  # a commune of Nghệ An
        ("16681", "37", False),  # not of Ninh Bình
        ("14464", "37", True),  # a commune of Ninh Bình
        ("zzz", "40", False),
        ("99999", "40", False),
    ],
)
def test_communes_belong_to_their_province(commune: str, province: str, expected: bool) -> None:
    assert admin_units.is_commune_of(commune, province) is expected


def test_the_ethnicity_list_is_the_54_groups_plus_foreign_and_unknown() -> None:
    codes = list(ETHNICITIES)
    assert codes == [f"{n:02d}" for n in range(1, 55)] + ["foreign", "unknown"]
    assert len({e.name_vi for e in ETHNICITIES.values()}) == 56
    assert len({e.name_en for e in ETHNICITIES.values()}) == 56
    assert {e.group for e in ETHNICITIES.values()} == {g.value for g in EthnicityGroup}
    assert [c for c in codes if group_of(c) == "kinh"] == ["01"]
    assert ETHNICITIES["01"].name_vi.startswith("Kinh")


def test_pycountry_knows_the_codes_the_api_checks() -> None:
    assert pycountry.countries.get(alpha_2="VN") is not None
    assert pycountry.countries.get(alpha_2="XX") is None
    assert pycountry.countries.get(alpha_2="QQ") is None
