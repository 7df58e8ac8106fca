"""The CTDC export (`GET /api/v1/exports/ctdc.csv`): one row per identified victim in
the vocabulary of the Counter Trafficking Data Collaborative's global dataset (the
HTCDS columns), k-anonymised with k = 11 as CTDC publishes its own data.

Rules:
- An identified victim is a case with a `victim` identification decision. That
  decision is final (only a `not_victim` case is reopened), so the rule is exact; the
  case status is not (a case may be closed without any decision).
- Only non-identifying columns of `cases` are read (year, intake source, the
  reporting columns of app/services/cases/stats.py, destination country, exploitation
  types) plus the existence of the decision: never `persons`, never a key, nothing is
  decrypted. No row carries a case id, number or date.
- Scope: the caller's province, or any province / the whole country for a national
  agency (app/services/reports/scope.py); `from` / `to` (ISO dates, or bare years)
  bound the year of registration, widened to whole years: rows carry the year only,
  and ranges finer than a year could be differenced (two exports a day apart would
  single out that day's victims).
- Every released column is treated as a quasi-identifier: all of them (year, data
  source, gender, age, citizenship, country of exploitation, exploitation type) can
  be known to a neighbour, an employer or a relative, and the rarer values (an organ
  removal, a forced marriage in a small year) single a person out on their own. So
  every distinct output row occurs at least 11 times.
- Generalisation ladders (app/services/reports/kanon.py chooses one level per column):
  year → 3-year range → blank; age band → majority status (Minor/Adult) → blank;
  citizenship and country of exploitation → UN M49 sub-region ("Other" beyond the
  table) → blank; gender → blank; data source → blank; exploitation types → broad
  (sexual, labour, other) → blank. Rows still in classes under 11 are dropped and
  counted (`suppressed`), so the caller can say how much is missing.
- Blank is CTDC's missing value. This system records no means of control and no
  recruiter relation, so those columns are always blank; so are isForcedMilitary and
  isSlaveryAndPractices, which have no category here.
- Every cell is a value of the program's own vocabulary (codes, labels, flags), none
  typed by a person and none starting with a formula character, so the file needs no
  CSV-injection escaping. Age bands are CTDC's (app/services/reports/bands.py).
- The aggregation runs in SQL (GROUP BY the base values), so a million cases cost one
  scan and the anonymisation works on the distinct combinations only.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app import audit
from app.errors import ValidationFailed
from app.models import Case, IdentificationDecision
from app.security.principal import Principal
from app.services.reports.bands import CTDC_BANDS, UNKNOWN, ctdc_band_sql
from app.services.reports.kanon import Ladder, Release, anonymise
from app.services.reports.scope import resolve_scope

K = 11
MAX_SUPPRESSED = 0.05
ACTION = "export.ctdc"
WORK_MEM = "64MB"

# CTDC counts under 18 as a minor, as the Law on Children does.
_MINOR_BANDS = {key for upper, key in CTDC_BANDS if upper < 18}

MEANS_OF_CONTROL = tuple(
    f"meansOfControl{name}"
    for name in (
        "DebtBondage",
        "TakesEarnings",
        "RestrictsFinancialAccess",
        "Threats",
        "PsychologicalAbuse",
        "PhysicalAbuse",
        "SexualAbuse",
        "FalsePromises",
        "PsychoactiveSubstances",
        "RestrictsMovement",
        "RestrictsMedicalCare",
        "ExcessiveWorkingHours",
        "UsesChildren",
        "ThreatOfLawEnforcement",
        "WithholdsNecessities",
        "WithholdsDocuments",
        "Other",
        "NotSpecified",
        "Concatenated",
    )
)
EXPLOIT_COLUMNS = (
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "isSexAndLabour",
    "isForcedMarriage",
    "isForcedMilitary",
    "isOrganRemoval",
    "isSlaveryAndPractices",
    "typeOfExploitConcatenated",
)
RECRUITER_RELATION = tuple(
    f"recruiterRelation{name}"
    for name in ("IntimatePartner", "Friend", "Family", "Other", "Unknown")
)
COLUMNS: tuple[str, ...] = (
    "yearOfRegistration",
    "Datasource",
    "gender",
    "ageBroad",
    "majorityStatus",
    "citizenship",
    "CountryOfExploitation",
    *MEANS_OF_CONTROL,
    *EXPLOIT_COLUMNS,
    *RECRUITER_RELATION,
)
# The columns of `cases` the export reads (named in the audit event).
SOURCE_FIELDS = (
    "year",
    "intake_source",
    "victim_sex",
    "victim_age_at_intake",
    "victim_nationality",
    "destination_country",
    "exploitation_types",
)

_GENDER = {"female": "Female", "male": "Male", "other": "Transgender/NonConforming"}
# Our exploitation types in CTDC's categories: begging is a kind of forced labour in
# CTDC; baby selling has no category of its own there.
_CATEGORY_TYPES: dict[str, tuple[str, ...]] = {
    "sexual": ("sexual",),
    "labour": ("forced_labour", "forced_begging"),
    "marriage": ("forced_marriage",),
    "organ": ("organ_removal",),
    "other": ("baby_selling", "other"),
}
_CATEGORY_LABEL = {
    "labour": "Forced labour",
    "sexual": "Sexual exploitation",
    "marriage": "Forced marriage",
    "organ": "Organ removal",
    "other": "Other",
}
_BROAD = {"sexual": "sexual", "labour": "labour", "marriage": "other", "organ": "other"}

# UN M49 sub-regions of the countries Vietnamese victims come from or are taken to;
# any other country generalises to "Other".
_SUBREGIONS = {
    "South-eastern Asia": "VN LA KH TH MM MY SG ID PH BN TL",
    "Eastern Asia": "CN TW HK MO KR KP JP MN",
    "Southern Asia": "IN BD PK NP LK AF IR",
    "Western Asia": "AE SA QA KW BH OM TR IL JO LB",
    "Europe": "GB IE FR DE NL BE PL CZ RU UA IT ES PT SE NO FI DK AT CH HU RO BG",
    "Northern America": "US CA",
    "Australia and New Zealand": "AU NZ",
    "Africa": "AO ZA EG NG KE DZ MA LY",
}
REGION_OF = {code: region for region, codes in _SUBREGIONS.items() for code in codes.split()}


def _three_years(year: Hashable) -> Hashable:
    start = int(year) - int(year) % 3  # type: ignore[call-overload]
    return f"{start}-{start + 2}"


def _majority(band: Hashable) -> Hashable:
    return None if band is None else ("Minor" if band in _MINOR_BANDS else "Adult")


def _region(code: Hashable) -> Hashable:
    return None if code is None else REGION_OF.get(str(code), "Other")


def _broad(categories: Hashable) -> Hashable:
    return tuple(sorted({_BROAD.get(c, c) for c in categories}))  # type: ignore[attr-defined]


def _blank(_: Hashable) -> Hashable:
    return None


LADDERS = (
    Ladder("yearOfRegistration", (_three_years, _blank)),
    Ladder("Datasource", (_blank,)),
    Ladder("gender", (_blank,)),
    Ladder("ageBroad", (_majority, _blank)),
    Ladder("citizenship", (_region, _blank)),
    Ladder("CountryOfExploitation", (_region, _blank)),
    Ladder("typeOfExploitConcatenated", (_broad, _blank)),
)


@dataclass(frozen=True)
class CtdcExport:
    """A k-anonymous release: CSV lines with how often each occurs, and the counts."""

    scope: str
    lines: list[tuple[str, int]]
    released: int
    suppressed: int
    levels: dict[str, int]

    def csv_chunks(self, rows_per_chunk: int = 2048) -> Iterator[str]:
        """The CSV text, header first, in chunks (each class's line repeated)."""
        yield _csv_line(COLUMNS)
        for line, count in self.lines:
            while count > 0:
                take = min(count, rows_per_chunk)
                yield line * take
                count -= take

    @property
    def generalisation(self) -> str:
        return ";".join(f"{name}={level}" for name, level in self.levels.items())


def _csv_line(values: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _exploitation(categories: tuple[str, ...] | None, level: int) -> tuple[str, ...]:
    if not categories:
        return ("",) * len(EXPLOIT_COLUMNS)
    have = set(categories)
    detailed = level == 0  # marriage and organ removal are folded into "other" above
    return (
        _flag("labour" in have),
        _flag("sexual" in have),
        _flag("other" in have),
        _flag({"sexual", "labour"} <= have),
        _flag("marriage" in have) if detailed else "",
        "",
        _flag("organ" in have) if detailed else "",
        "",
        ";".join(_CATEGORY_LABEL[c] for c in _CATEGORY_LABEL if c in have),
    )


def render(key: tuple[Hashable, ...], levels: tuple[int, ...]) -> tuple[str, ...]:
    """One CSV row of a generalised class `key` at `levels` (LADDERS order)."""
    year, source, gender, age, citizenship, country, categories = key
    if levels[3] == 0:
        broad_age, majority = age or "", _majority(age) or ""
    else:
        broad_age, majority = "", age or ""
    return (
        "" if year is None else str(year),
        str(source or ""),
        _GENDER.get(str(gender), "") if gender else "",
        str(broad_age),
        str(majority),
        str(citizenship or ""),
        str(country or ""),
        *("" for _ in MEANS_OF_CONTROL),
        *_exploitation(categories, levels[6]),  # type: ignore[arg-type]
        *("" for _ in RECRUITER_RELATION),
    )


def _base_query(
    province_code: str | None, year_from: int | None, year_to: int | None
) -> Select[Any]:
    cases = Case.__table__.c  # type: ignore[attr-defined]
    band = ctdc_band_sql(cases.victim_age_at_intake)
    decided = exists().where(
        IdentificationDecision.__table__.c.case_id == cases.id,  # type: ignore[attr-defined]
        IdentificationDecision.__table__.c.decision == "victim",  # type: ignore[attr-defined]
    )
    conditions = [decided]
    if province_code is not None:
        conditions.append(cases.province_code == province_code)
    if year_from is not None:
        conditions.append(cases.year >= year_from)
    if year_to is not None:
        conditions.append(cases.year <= year_to)
    base = [
        cases.year,
        cases.intake_source == "hotline",
        cases.victim_sex,
        band,
        cases.victim_nationality,
        cases.destination_country,
        # The case's set of types, one key with few values: cheaper to group by than
        # a flag per category; mapped to the categories per group (_categories).
        cases.exploitation_types,
    ]
    return select(*base, func.count()).where(and_(*conditions)).group_by(*base)


async def identified_victim_groups(
    session: AsyncSession,
    province_code: str | None,
    year_from: int | None = None,
    year_to: int | None = None,
) -> dict[tuple[Hashable, ...], int]:
    """Identified victims grouped by their base (ungeneralised) CTDC values."""
    # The semi-join's hash and the grouping of half a million rows stay in memory
    # (the default 4 MB splits the one into batches and sorts the other on disk).
    await session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    result = await session.execute(_base_query(province_code, year_from, year_to))
    groups: dict[tuple[Hashable, ...], int] = {}
    categories = tuple(_CATEGORY_TYPES)
    for year, via_hotline, sex, band, nationality, country, types, count in result.all():
        named = set(types or ())
        flags = [any(t in named for t in _CATEGORY_TYPES[c]) for c in categories]
        key = (
            int(year),
            "Hotline" if via_hotline else "Case Management",
            None if sex == "unknown" else sex,
            None if band == UNKNOWN else band,
            nationality,
            country,
            tuple(c for c, on in zip(categories, flags, strict=True) if on),
        )
        groups[key] = groups.get(key, 0) + int(count)
    return groups


def release(groups: dict[tuple[Hashable, ...], int], scope: str) -> CtdcExport:
    """Anonymise the groups with k = 11 and render the released classes as CSV lines."""
    anonymised: Release = anonymise(groups, LADDERS, k=K, max_suppressed=MAX_SUPPRESSED)
    merged: dict[str, int] = {}
    for key, size in anonymised.classes.items():
        line = _csv_line(render(key, anonymised.levels))
        merged[line] = merged.get(line, 0) + size
    return CtdcExport(
        scope=scope,
        lines=sorted(merged.items()),
        released=anonymised.released,
        suppressed=anonymised.suppressed,
        levels={
            ladder.name: level for ladder, level in zip(LADDERS, anonymised.levels, strict=True)
        },
    )


_YEAR = re.compile(r"^[0-9]{4}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_YEARS = (1990, 2100)


def year_range(first: str | None, last: str | None) -> tuple[int | None, int | None]:
    """The registration years `from` and `to` name: each an ISO date (its year) or a
    bare year, from 1990 to 2100; 422 naming every bad one."""
    errors: list[dict[str, str]] = []
    years: list[int | None] = []
    for field, value in (("from", first), ("to", last)):
        year = None
        if value is not None:
            try:
                if _YEAR.match(value):
                    year = int(value)
                elif _DATE.match(value):
                    year = date.fromisoformat(value).year
                else:
                    raise ValueError(value)
            except ValueError:
                errors.append({"field": field, "message": "must be a date (YYYY-MM-DD)"})
            else:
                if not _YEARS[0] <= year <= _YEARS[1]:
                    errors.append({"field": field, "message": "must be from 1990 to 2100"})
        years.append(year)
    if errors:
        raise ValidationFailed(errors)
    return years[0], years[1]


async def export_ctdc(
    session: AsyncSession,
    principal: Principal,
    *,
    province_code: str | None,
    year_from: int | None,
    year_to: int | None,
) -> CtdcExport:
    """The CTDC release of the caller's scope (403 and a denied event outside it),
    recorded as `export.ctdc` with the scope and the row counts, never a value."""
    if year_from is not None and year_to is not None and year_from > year_to:
        raise ValidationFailed(
            [{"field": "from", "message": "must not be after 'to'"}],
            "The first year comes after the last.",
        )
    scope = await resolve_scope(session, principal, province_code, action=ACTION)
    groups = await identified_victim_groups(session, scope.province_code, year_from, year_to)
    export = release(groups, scope.label)
    await audit.record(
        session,
        action=ACTION,
        resource_type="export",
        resource_id=f"ctdc:{scope.label}",
        principal=principal,
        fields=SOURCE_FIELDS,
        reason=f"rows:{export.released}:suppressed:{export.suppressed}",
    )
    return export
