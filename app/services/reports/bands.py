"""Age bands of the reports, in years at reception (`cases.victim_age_at_intake`).

Two sets are used (issue 7):

- Hotline 111 bands. The published labels overlap (<10, 10–14, 15–16, 16–18, >18);
  they are read as the law's boundaries (Law on Children: under 16 is a child; under
  18 a minor): `<10` is 0–9, `10–14` is 10–14, `15–16` means 15 (below 16, still a
  child), `16–18` means 16–17 (a minor, no longer a child), `>18` means 18 and over.
  Keys name the years actually counted; `HOTLINE_LABELS` gives the published label.
- CTDC broad bands (0–8, 9–17, 18–20, 21–23, 24–26, 27–29, 30–38, 39–47, 48+), keyed
  with CTDC's own spelling (`0--8`) so the export and the reports agree.

An unknown age is its own band, `unknown`, in both sets: every case is in exactly one
band, so a breakdown by band always sums to its total.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case as when

UNKNOWN = "unknown"

# (inclusive upper bound, key); the last band is open-ended.
HOTLINE_BANDS: tuple[tuple[int, str], ...] = (
    (9, "0-9"),
    (14, "10-14"),
    (15, "15"),
    (17, "16-17"),
)
HOTLINE_OLDEST = "18+"
HOTLINE_KEYS: tuple[str, ...] = (*(k for _, k in HOTLINE_BANDS), HOTLINE_OLDEST, UNKNOWN)
# The labels of the hotline's published form, for the files the provinces send.
HOTLINE_LABELS: dict[str, str] = {
    "0-9": "<10",
    "10-14": "10–14",
    "15": "15–16",
    "16-17": "16–18",
    "18+": ">18",
    UNKNOWN: "unknown",
}

CTDC_BANDS: tuple[tuple[int, str], ...] = (
    (8, "0--8"),
    (17, "9--17"),
    (20, "18--20"),
    (23, "21--23"),
    (26, "24--26"),
    (29, "27--29"),
    (38, "30--38"),
    (47, "39--47"),
)
CTDC_OLDEST = "48+"
CTDC_KEYS: tuple[str, ...] = (*(k for _, k in CTDC_BANDS), CTDC_OLDEST, UNKNOWN)


def _band(age: int | None, bands: tuple[tuple[int, str], ...], oldest: str) -> str:
    if age is None or age < 0:
        return UNKNOWN
    for upper, key in bands:
        if age <= upper:
            return key
    return oldest


def hotline_band(age: int | None) -> str:
    """The hotline 111 band of an age in years (`unknown` when not recorded)."""
    return _band(age, HOTLINE_BANDS, HOTLINE_OLDEST)


def ctdc_band(age: int | None) -> str:
    """The CTDC broad band of an age in years (`unknown` when not recorded)."""
    return _band(age, CTDC_BANDS, CTDC_OLDEST)


def _band_sql(age: Any, bands: tuple[tuple[int, str], ...], oldest: str) -> Any:
    return when(
        (age.is_(None), UNKNOWN),
        (age < 0, UNKNOWN),
        *((age <= upper, key) for upper, key in bands),
        else_=oldest,
    )


def hotline_band_sql(age: Any) -> Any:
    """SQL CASE giving `hotline_band` of an age column (for GROUP BY)."""
    return _band_sql(age, HOTLINE_BANDS, HOTLINE_OLDEST)


def ctdc_band_sql(age: Any) -> Any:
    """SQL CASE giving `ctdc_band` of an age column (for GROUP BY)."""
    return _band_sql(age, CTDC_BANDS, CTDC_OLDEST)
