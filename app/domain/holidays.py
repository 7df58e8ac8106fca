"""Vietnam's public holidays 2025–2027, the seed of the `public_holidays` table
(migration `20261203_data_requests` copies them; the table is what the service
reads, so a year is added by a data migration, not by code).

Source: the Labour Code 2019, article 112 (New Year, five days of Tết, Hùng Kings'
day on 10/3 of the lunar calendar, 30 April, 1 May, 2 September and one adjacent
day) and article 111(3) (a holiday on a weekend gives the next working day off);
the Tết and 2 September days are those the Ministry of Home Affairs announces each
year for civil servants. 2025 and 2026 follow the announced schedules; 2027 is
computed from the lunar calendar and the usual pattern and is marked unconfirmed
(`confirmed` false) until the Ministry's notice. Swapped working Saturdays are not
modelled.
"""

from __future__ import annotations

from datetime import date, timedelta


def _span(
    first: date, last: date, name: str, *, confirmed: bool = True
) -> list[tuple[date, str, bool]]:
    days = (last - first).days + 1
    return [(first + timedelta(days=i), name, confirmed) for i in range(days)]


NEW_YEAR = "Tết Dương lịch"
TET = "Tết Nguyên đán"
HUNG_KINGS = "Giỗ Tổ Hùng Vương"
REUNIFICATION = "Ngày Chiến thắng"
LABOUR = "Ngày Quốc tế Lao động"
NATIONAL = "Quốc khánh"
COMPENSATORY = "Nghỉ bù"

# (day, name, confirmed)
HOLIDAY_ROWS: list[tuple[date, str, bool]] = [
    (date(2025, 1, 1), NEW_YEAR, True),
    *_span(date(2025, 1, 25), date(2025, 2, 2), TET),
    (date(2025, 4, 7), HUNG_KINGS, True),
    (date(2025, 4, 30), REUNIFICATION, True),
    (date(2025, 5, 1), LABOUR, True),
    (date(2025, 9, 1), NATIONAL, True),
    (date(2025, 9, 2), NATIONAL, True),
    (date(2026, 1, 1), NEW_YEAR, True),
    *_span(date(2026, 2, 14), date(2026, 2, 22), TET),
    (date(2026, 4, 26), HUNG_KINGS, True),
    (date(2026, 4, 27), COMPENSATORY, True),
    (date(2026, 4, 30), REUNIFICATION, True),
    (date(2026, 5, 1), LABOUR, True),
    (date(2026, 9, 1), NATIONAL, False),
    (date(2026, 9, 2), NATIONAL, True),
    (date(2027, 1, 1), NEW_YEAR, True),
    *_span(date(2027, 2, 5), date(2027, 2, 13), TET, confirmed=False),
    (date(2027, 4, 16), HUNG_KINGS, False),
    (date(2027, 4, 30), REUNIFICATION, True),
    (date(2027, 5, 1), LABOUR, True),
    (date(2027, 5, 3), COMPENSATORY, True),
    (date(2027, 9, 2), NATIONAL, True),
    (date(2027, 9, 3), NATIONAL, False),
]

HOLIDAYS: list[tuple[date, str]] = [(day, name) for day, name, _ in HOLIDAY_ROWS]
