"""Vietnam's administrative units: the 34 provinces and the communes (xã, phường,
đặc khu) of the 2025 reorganisation, two tiers with no district, read at run time from
the `vietnam-provinces` library (its data, never a copy kept here); and the province
codes of before 1 July 2025 that no longer name a province.

Codes are the General Statistics Office's: a province has two digits ("40"), a
commune five ("16681"). The `provinces` table holds the same 34 rows as the library
(a test compares them).

Former codes: the reorganisation (Nghị quyết 202/2025/QH15) merged whole provinces,
and each new province kept the code of one of them, so every former code names
exactly one current province. The 29 codes that no longer exist are listed below
with the province they merged into; the library's 2025 data has no former units, and
this table is the law's, not the library's. A code that still exists (e.g. "15",
formerly Yên Bái, now Lào Cai into which Yên Bái merged) reads as the current one.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Final

from vietnam_provinces import Province, Ward

# The day the new provinces and communes took effect.
REORGANISED_ON: Final = date(2025, 7, 1)

# Former code -> (former province, code of the province it merged into).
FORMER_PROVINCES: Final[dict[str, tuple[str, str]]] = {
    "02": ("Hà Giang", "08"),
    "06": ("Bắc Kạn", "19"),
    "10": ("Lào Cai (before 2025)", "15"),
    "17": ("Hòa Bình", "25"),
    "26": ("Vĩnh Phúc", "25"),
    "27": ("Bắc Ninh (before 2025)", "24"),
    "30": ("Hải Dương", "31"),
    "34": ("Thái Bình", "33"),
    "35": ("Hà Nam", "37"),
    "36": ("Nam Định", "37"),
    "45": ("Quảng Trị (before 2025)", "44"),
    "49": ("Quảng Nam", "48"),
    "54": ("Phú Yên", "66"),
    "58": ("Ninh Thuận", "56"),
    "60": ("Bình Thuận", "68"),
    "62": ("Kon Tum", "51"),
    "64": ("Gia Lai (before 2025)", "52"),
    "67": ("Đắk Nông", "68"),
    "70": ("Bình Phước", "75"),
    "72": ("Tây Ninh (before 2025)", "80"),
    "74": ("Bình Dương", "79"),
    "77": ("Bà Rịa - Vũng Tàu", "79"),
    "83": ("Bến Tre", "86"),
    "84": ("Trà Vinh", "86"),
    "87": ("Đồng Tháp (before 2025)", "82"),
    "89": ("An Giang (before 2025)", "91"),
    "93": ("Hậu Giang", "92"),
    "94": ("Sóc Trăng", "92"),
    "95": ("Bạc Liêu", "96"),
}


@cache
def provinces() -> dict[str, str]:
    """The 34 current provinces: code -> name."""
    return {f"{p.code:02d}": p.name for p in Province.iter_all()}


@cache
def _commune_provinces() -> dict[str, str]:
    return {f"{w.code:05d}": f"{w.province_code:02d}" for w in Ward.iter_all()}


def is_province(code: str) -> bool:
    return code in provinces()


def is_commune_of(commune_code: str, province_code: str) -> bool:
    """Whether `commune_code` is a current commune of the current `province_code`."""
    return _commune_provinces().get(commune_code) == province_code


def current_province(code: str) -> str | None:
    """The current province a code names: itself, the province a former code merged
    into, or None for no province at all."""
    if is_province(code):
        return code
    former = FORMER_PROVINCES.get(code)
    return former[1] if former else None
