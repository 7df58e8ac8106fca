"""Case numbers `<province>-<year>-<serial>`: no gaps, no duplicates, under concurrency.

The counter row of (province, year) is incremented with `INSERT ... ON CONFLICT DO
UPDATE ... RETURNING`, which takes the row's lock until the intake transaction ends:
concurrent intakes in one province queue on that row only (other provinces are not
held up), and a rolled-back intake gives its number back with its transaction.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CaseNumberCounter


def format_case_number(province_code: str, year: int, serial: int) -> str:
    return f"{province_code}-{year}-{serial:06d}"


async def next_case_number(session: AsyncSession, province_code: str, year: int) -> tuple[int, str]:
    statement = (
        insert(CaseNumberCounter)
        .values(province_code=province_code, year=year, last_serial=1)
        .on_conflict_do_update(
            index_elements=["province_code", "year"],
            set_={"last_serial": CaseNumberCounter.__table__.c.last_serial + 1},  # type: ignore[attr-defined]
        )
        .returning(CaseNumberCounter.__table__.c.last_serial)  # type: ignore[attr-defined]
    )
    serial = int((await session.execute(statement)).scalar_one())
    return serial, format_case_number(province_code, year, serial)
