"""Case numbers `<province>-<year>-<serial>`: no gaps, no duplicates, under concurrency.

The counter row of (province, year) is incremented with `INSERT ... ON CONFLICT DO
UPDATE ... RETURNING`, which takes the row's lock until the intake transaction ends:
concurrent intakes in one province queue on that row only (other provinces are not
held up), and a rolled-back intake gives its number back with its transaction. So
intake allocates last, with only the case's INSERT and the commit after it.
"""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CaseNumberCounter


def format_case_number(province_code: str, year: int, serial: int) -> str:
    return f"{province_code}-{year}-{serial:06d}"


_COUNTERS = CaseNumberCounter.metadata.tables[CaseNumberCounter.__tablename__]
# Built once; run with the province and year.
_NEXT_SERIAL = (
    insert(_COUNTERS)
    .values(province_code=bindparam("province_code"), year=bindparam("year"), last_serial=1)
    .on_conflict_do_update(
        index_elements=["province_code", "year"],
        set_={"last_serial": _COUNTERS.c.last_serial + 1},
    )
    .returning(_COUNTERS.c.last_serial)
)


async def next_case_number(session: AsyncSession, province_code: str, year: int) -> tuple[int, str]:
    params = {"province_code": province_code, "year": year}
    serial = int((await session.execute(_NEXT_SERIAL, params)).scalar_one())
    return serial, format_case_number(province_code, year, serial)
