"""The periodic report (`GET /api/v1/reports/periodic?period=2026-S1`): the
six-monthly, quarterly or annual return a province sends up (DOMAIN.md, "Reports the
provinces must send").

Rules:
- Scope: the caller's province, or any province / the whole country for a national
  agency (app/services/reports/scope.py). The period is a named period of the scope
  province's calendar, or explicit days (app/services/reports/calendars.py); its
  bounds are Vietnam days (app/services/reports/window.py).
- Exact counts, no small-cell suppression: this is the province's own official
  return going up to the ministry, not a publication; the ministry adds the
  provinces' returns, which rounding or suppression would make impossible. So it
  needs `reports:exact` (the reporting officer), not just `reports:read`, and every
  read is audited. The summary report is the one with suppression.
- Sections: hotline reports received in the period and how they stand: resolved =
  triaged into a case or closed with a reason (closing always takes one); forwarded
  to another agency is counted apart, and so is still open; persons received (cases
  received in the period: one reception of one victim each, as the provinces count
  receptions), verified (cases whose initial verification record,
  `case_verifications`, was completed in the period: moving a case to `verifying` is
  not verifying it) and identified (cases whose status history moved to `identified`
  in the period); the persons received by sex, hotline age
  band, CTDC age band, ethnic group, province and commune of reception, destination
  and form of exploitation; supports delivered in the period by type (count and
  VND); referrals sent in the period by the kind of agency they went to (cancelled
  ones left out); reports of crime resolved and criminal cases brought to trial
  (app/services/reports/criminal.py).
- Targets (the plans' 100%): received persons verified (persons verified / persons
  received); persons in need supported (of the persons received with a first need
  recorded at intake, those with a support delivered by the period's last day);
  reports handled (hotline reports received that are no longer open / received).
  Each as numerator, denominator and percentage (one decimal; null when nothing is
  to be counted). The flows of one period are compared, so a percentage may pass
  100 when earlier receptions are verified in the period.
- Hotspots: the breakdown by commune of reception flags the communes of the scope's
  `hotspot_communes` (and lists them with 0 when nobody was received there); the
  persons received in hotspot communes are a headline figure.
- Which province counts what, when a transfer moved a case to another province
  (`cases.current_province_code`): the reception and its breakdowns stay with the
  province of reception; a verification counts for the province the case was in
  when it was completed, an identification for the one it was in when its status
  moved (the last `case_transferred` entry before it, else the reception province);
  a support for the province where it was
  delivered (`support_services.province_code`, which also priced it); a referral
  for the province of the agency that sent it.
- Every breakdown's parts add up to its total: each case is in exactly one part
  (unknown values have a part of their own; a case with several forms of
  exploitation is in `multiple`). The one multi-valued breakdown,
  `exploitation_forms`, counts each form a case names, and its total is the number
  of mentions; it says `multi_valued: true`.
- Only non-identifying columns are read (`cases`, `case_timeline` status codes,
  the outcome and date of `case_verifications`,
  `hotline_reports` status, `support_services` type and amount, `referrals` and the
  destination agency's kind); never `persons`, never a key, nothing is decrypted.
- Each section is one SQL aggregate (FILTER clauses, GROUP BY); no per-row Python.
  The persons received and all their breakdowns are one pass over `cases`.
- Labels follow the caller's language (app/services/reports/labels.py).
- Audited as `report.periodic` with the scope, period and format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app import audit
from app.models.hotline import HotlineStatus
from app.security.principal import Principal
from app.services.reports import bands, calendars, criminal, labels
from app.services.reports.hotspots import hotspot_communes
from app.services.reports.labels import Language
from app.services.reports.scope import resolve_scope
from app.services.reports.summary import AGE_SQL

ACTION = "report.periodic"

# (section, ((key, SQL condition over `c`), ...)); each section's conditions are
# mutually exclusive and cover every case. Constants only.
_DESTINATIONS = {"CN": "china", "LA": "laos", "KH": "cambodia", "MM": "myanmar", "VN": "domestic"}
_LISTED = ", ".join(f"'{code}'" for code in _DESTINATIONS)
# The official forms of exploitation; begging is forced labour, as in CTDC.
FORMS: dict[str, tuple[str, ...]] = {
    "sexual": ("sexual",),
    "labour": ("forced_labour", "forced_begging"),
    "marriage": ("forced_marriage",),
    "baby_selling_adoption": ("baby_selling",),
    "organ_removal": ("organ_removal",),
    "other": ("other",),
}


def _has_form(types: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{t}'" for t in types)
    return f"c.exploitation_types && ARRAY[{listed}]::varchar[]"


_FORM_COUNT = " + ".join(f"({_has_form(types)})::int" for types in FORMS.values())


def _band_parts(kind: str, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(key, f"{AGE_SQL[kind]} = '{key}'") for key in keys]


SECTIONS: tuple[tuple[str, list[tuple[str, str]]], ...] = (
    ("sex", [(v, f"c.victim_sex = '{v}'") for v in ("female", "male", "other", "unknown")]),
    ("age_hotline", _band_parts("hotline", bands.HOTLINE_KEYS)),
    ("age_ctdc", _band_parts("ctdc", bands.CTDC_KEYS)),
    (
        "ethnicity_group",
        [
            ("kinh", "c.victim_ethnicity_group = 'kinh'"),
            ("minority", "c.victim_ethnicity_group = 'minority'"),
            ("foreign", "c.victim_ethnicity_group = 'foreign'"),
            # Established as unknown, or never recorded.
            ("unknown", "coalesce(c.victim_ethnicity_group, 'unknown') = 'unknown'"),
        ],
    ),
    (
        "destination",
        [
            *((key, f"c.destination_country = '{code}'") for code, key in _DESTINATIONS.items()),
            ("other", f"c.destination_country NOT IN ({_LISTED})"),
            ("unknown", "c.destination_country IS NULL"),
        ],
    ),
    (
        "exploitation",
        [
            *(
                (key, f"({_has_form(types)}) AND ({_FORM_COUNT}) = 1")
                for key, types in FORMS.items()
            ),
            ("multiple", f"({_FORM_COUNT}) > 1"),
            ("not_recorded", f"({_FORM_COUNT}) = 0"),
        ],
    ),
)
# The persons in need: a first need recorded at intake (the `in_need_supported`
# target; those of them supported are counted by `_supported`).
_IN_NEED = "c.first_needs <> '{}'"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    count: int
    amount_vnd: int | None = None
    hotspot: bool = False


@dataclass(frozen=True)
class Breakdown:
    name: str
    title: str
    total: int
    parts: list[Part]
    amount_vnd: int | None = None
    multi_valued: bool = False


@dataclass(frozen=True)
class Target:
    """One of the plans' 100% targets: `numerator` of `denominator`."""

    key: str
    label: str
    numerator: int
    denominator: int
    target_percent: int = 100

    @property
    def percent(self) -> float | None:
        if not self.denominator:
            return None
        return round(100 * self.numerator / self.denominator, 1)


@dataclass(frozen=True)
class Periodic:
    period: str
    period_kind: str
    calendar: str | None
    first_day: date
    last_day: date
    scope: str
    province_code: str | None
    language: Language
    hotline_received: int
    hotline_resolved: int
    hotline_forwarded: int
    hotline_open: int
    persons_received: int
    persons_verified: int
    persons_identified: int
    persons_received_in_hotspots: int
    targets: list[Target]
    breakdowns: list[Breakdown] = field(default_factory=list)


def _where(
    scope_province: str | None,
    column: str,
    params: dict[str, Any],
    province: str = "c.province_code",
) -> str:
    conditions = [f"{column} >= :start", f"{column} < :end"]
    if scope_province is not None:
        conditions.append(f"{province} = :province")
        params["province"] = scope_province
    return " AND ".join(conditions)


def _province_at(case_id: str, at: str) -> str:
    """The province case `case_id` was in at time `at` (SQL expressions over `c`):
    the destination of the last transfer before it (detail `transfer:<from>:<to>`;
    entries written before 2026-12 say only `transfer` and count as the reception
    province), else the reception province."""
    return (
        "coalesce((SELECT nullif(split_part(x.detail, ':', 3), '') FROM case_timeline x "  # noqa: S608
        f"WHERE x.case_id = {case_id} AND x.kind = 'case_transferred' "
        f"AND x.occurred_at <= {at} ORDER BY x.occurred_at DESC LIMIT 1), c.province_code)"
    )


# The province a case was in at the time of timeline entry `t`.
_PROVINCE_AT_ENTRY = _province_at("t.case_id", "t.occurred_at")


@dataclass(frozen=True)
class _Received:
    total: int
    in_need: int
    in_need_supported: int
    in_hotspots: int
    breakdowns: list[Breakdown]


async def _cases(
    session: AsyncSession,
    where: str,
    params: dict[str, Any],
    hotspots: dict[str, str | None],
    language: Language,
) -> _Received:
    """Persons received and every breakdown of them, in one pass over `cases`: the
    counts per province and commune of reception, summed here for the other
    breakdowns (each case is in one commune, so the sums are exact)."""
    filters, slots = [], []
    for name, parts in SECTIONS:
        for key, condition in parts:
            filters.append(f"count(*) FILTER (WHERE {condition})")
            slots.append((name, key))
    forms = [f"count(*) FILTER (WHERE {_has_form(types)})" for types in FORMS.values()]
    needs = [f"count(*) FILTER (WHERE {_IN_NEED})"]
    sql = (
        "SELECT c.province_code, c.received_commune_code, count(*), "  # noqa: S608
        f"{', '.join([*filters, *forms, *needs])} FROM cases c WHERE {where} "
        "GROUP BY c.province_code, c.received_commune_code"
    )
    rows = (await session.execute(text(sql), params)).all()
    width = 3 + len(filters) + len(forms) + len(needs)
    sums = [sum(int(row[i]) for row in rows) for i in range(2, width)]
    received = sums[0]
    counts = dict(zip(slots, sums[1 : 1 + len(filters)], strict=True))
    mentions = sums[1 + len(filters) : 1 + len(filters) + len(forms)]
    in_need = sums[-1]
    by_province: dict[str, int] = {}
    by_commune: dict[str, int] = {}
    for row in rows:
        by_province[str(row[0])] = by_province.get(str(row[0]), 0) + int(row[2])
        commune = UNKNOWN if row[1] is None else str(row[1])
        by_commune[commune] = by_commune.get(commune, 0) + int(row[2])

    def part(section: str, key: str, count: int, fallback: str | None = None) -> Part:
        return Part(key, labels.part(section, key, language, fallback), count)

    breakdowns = [
        Breakdown(
            name,
            labels.title(name, language),
            received,
            [part(name, key, counts[(name, key)]) for key, _ in parts],
        )
        for name, parts in SECTIONS
    ]
    named = [part("exploitation_forms", key, n) for key, n in zip(FORMS, mentions, strict=True)]
    breakdowns.append(
        Breakdown(
            "exploitation_forms",
            labels.title("exploitation_forms", language),
            sum(mentions),
            named,
            multi_valued=True,
        )
    )
    provinces = [part("province", code, n, code) for code, n in sorted(by_province.items())]
    breakdowns.insert(
        4, Breakdown("province", labels.title("province", language), received, provinces)
    )
    communes = _communes(by_commune, hotspots, language)
    breakdowns.insert(
        5, Breakdown("commune", labels.title("commune", language), received, communes)
    )
    in_hotspots = sum(p.count for p in communes if p.hotspot)
    supported = await _supported(session, where, params)
    return _Received(received, in_need, supported, in_hotspots, breakdowns)


async def _supported(session: AsyncSession, where: str, params: dict[str, Any]) -> int:
    """Of the persons received in need, those with a support delivered by the
    period's end (a semi-join, not a probe per case)."""
    sql = (
        f"SELECT count(*) FROM cases c WHERE {where} AND {_IN_NEED} "  # noqa: S608 (constants)
        "AND EXISTS (SELECT 1 FROM support_services s WHERE s.case_id = c.id "
        "AND s.status = 'delivered' AND s.delivered_at < :end)"
    )
    return int((await session.execute(text(sql), params)).scalar_one())


def _communes(
    counts: dict[str, int], hotspots: dict[str, str | None], language: Language
) -> list[Part]:
    """A part per commune of reception, and per hotspot commune even with nobody
    received there (flagged `hotspot`); the unknown commune last."""
    codes = sorted((set(counts) | set(hotspots)) - {UNKNOWN})
    parts = [
        Part(code, hotspots.get(code) or code, counts.get(code, 0), hotspot=code in hotspots)
        for code in codes
    ]
    if UNKNOWN in counts:
        parts.append(Part(UNKNOWN, labels.part("commune", UNKNOWN, language), counts[UNKNOWN]))
    return parts


async def periodic_report(
    session: AsyncSession,
    principal: Principal,
    *,
    period: str,
    province_code: str | None,
    file_format: str = "json",
    language: Language = "vi",
) -> Periodic:
    """The return of the caller's scope for `period` (422 if malformed; 403 and a
    denied event outside the scope), exact counts, audited as `report.periodic`."""
    asked = calendars.parse(period)
    scope = await resolve_scope(session, principal, province_code, action=ACTION)
    span = await calendars.resolve(session, asked, scope.province_code)
    window = span.window
    params: dict[str, Any] = {"start": window.start, "end": window.end}
    hotspots = await hotspot_communes(session, scope.province_code)
    received = await _cases(
        session, _where(scope.province_code, "c.received_at", params), params, hotspots, language
    )
    outcome = await _hotline(session, scope.province_code, params, language)
    by_status = {p.key: p.count for p in outcome.parts}
    resolved = by_status[HotlineStatus.CASE_OPENED] + by_status[HotlineStatus.CLOSED]
    still_open = by_status[HotlineStatus.OPEN]
    verified = await _verified(session, scope.province_code, params)
    identified = await _identified(session, scope.province_code, params)
    breakdowns = [
        outcome,
        *received.breakdowns,
        await _supports(session, scope.province_code, params, language),
        await _referrals(session, scope.province_code, params, language),
    ]
    targets = [
        ("received_verified", verified, received.total),
        ("in_need_supported", received.in_need_supported, received.in_need),
        ("reports_handled", outcome.total - still_open, outcome.total),
    ]
    for name, _, total, parts in await criminal.sections(session, scope.province_code, params):
        breakdowns.append(
            Breakdown(
                name,
                labels.title(name, language),
                total,
                [
                    Part(k, labels.part(name, k, language, fallback=label), n)
                    for k, label, n in parts
                ],
            )
        )
    await audit.record(
        session,
        action=ACTION,
        resource_type="report",
        resource_id=f"periodic:{scope.label}:{period}",
        principal=principal,
        reason=f"format:{file_format}",
    )
    return Periodic(
        period=period,
        period_kind=span.kind,
        calendar=span.calendar,
        first_day=span.first,
        last_day=span.last,
        scope=scope.label,
        province_code=scope.province_code,
        language=language,
        hotline_received=outcome.total,
        hotline_resolved=resolved,
        hotline_forwarded=by_status[HotlineStatus.FORWARDED],
        hotline_open=still_open,
        persons_received=received.total,
        persons_verified=verified,
        persons_identified=identified,
        persons_received_in_hotspots=received.in_hotspots,
        targets=[
            Target(key, labels.pick(labels.TARGETS[key], language), numerator, denominator)
            for key, numerator, denominator in targets
        ],
        breakdowns=breakdowns,
    )


async def _hotline(
    session: AsyncSession, province: str | None, params: dict[str, Any], language: Language
) -> Breakdown:
    where = _where(province, "c.received_at", dict(params))
    rows = await session.execute(
        text(
            "SELECT c.status, count(*) FROM hotline_reports c "  # noqa: S608 (constants)
            f"WHERE {where} GROUP BY c.status"
        ),
        params,
    )
    by_status = {str(status): int(n) for status, n in rows.all()}
    parts = [
        Part(s.value, labels.part("hotline_outcome", s.value, language), by_status.get(s.value, 0))
        for s in HotlineStatus
    ]
    return Breakdown(
        "hotline_outcome",
        labels.title("hotline_outcome", language),
        sum(p.count for p in parts),
        parts,
    )


async def _verified(session: AsyncSession, province: str | None, params: dict[str, Any]) -> int:
    """Cases whose initial verification (its record; one per case) was completed
    within the period."""
    where = _where(
        province, "v.completed_at", dict(params), _province_at("v.case_id", "v.completed_at")
    )
    # The join to cases is only needed to place a case in a province.
    join = "JOIN cases c ON c.id = v.case_id" if province is not None else ""
    sql = f"SELECT count(*) FROM case_verifications v {join} WHERE {where}"  # noqa: S608
    return int((await session.execute(text(sql), params)).scalar_one())


async def _identified(session: AsyncSession, province: str | None, params: dict[str, Any]) -> int:
    """Cases whose status moved to `identified` within the period."""
    where = _where(province, "t.occurred_at", dict(params), _PROVINCE_AT_ENTRY)
    # The join to cases is only needed to place a case in a province.
    join = "JOIN cases c ON c.id = t.case_id" if province is not None else ""
    sql = (
        f"SELECT count(DISTINCT t.case_id) FROM case_timeline t {join} "  # noqa: S608
        f"WHERE t.kind = 'status_changed' AND t.to_status = 'identified' AND {where}"
    )
    return int((await session.execute(text(sql), params)).scalar_one())


async def _supports(
    session: AsyncSession, province: str | None, params: dict[str, Any], language: Language
) -> Breakdown:
    where = _where(
        province, "s.delivered_at", dict(params), "coalesce(s.province_code, c.province_code)"
    )
    # The join to cases is only needed to place a service in a province.
    join = "JOIN cases c ON c.id = s.case_id" if province is not None else ""
    sql = (
        "SELECT s.type, count(*), coalesce(sum(s.amount_vnd), 0) "  # noqa: S608 (constants)
        f"FROM support_services s {join} WHERE s.status = 'delivered' AND {where} "
        "GROUP BY s.type ORDER BY s.type"
    )
    rows = (await session.execute(text(sql), params)).all()
    parts = [
        Part(str(t), labels.part("supports", str(t), language), int(n), int(a)) for t, n, a in rows
    ]
    return Breakdown(
        "supports",
        labels.title("supports", language),
        sum(p.count for p in parts),
        parts,
        amount_vnd=sum(p.amount_vnd or 0 for p in parts),
    )


async def _referrals(
    session: AsyncSession, province: str | None, params: dict[str, Any], language: Language
) -> Breakdown:
    where = _where(
        province, "r.created_at", dict(params), "coalesce(f.province_code, c.province_code)"
    )
    # The kinds' names are data (agency_kinds), in both languages.
    name = "k.name_en" if language == "en" else "k.name_vi"
    sql = (
        f"SELECT a.kind, min({name}), count(*) FROM referrals r "  # noqa: S608 (constants)
        "JOIN cases c ON c.id = r.case_id JOIN agencies a ON a.id = r.to_agency_id "
        "JOIN agencies f ON f.id = r.from_agency_id "
        "LEFT JOIN agency_kinds k ON k.code = a.kind "
        f"WHERE r.status <> 'cancelled' AND {where} GROUP BY a.kind ORDER BY a.kind"
    )
    rows = (await session.execute(text(sql), params)).all()
    parts = [Part(str(kind), str(label or kind), int(n)) for kind, label, n in rows]
    return Breakdown(
        "referrals",
        labels.title("referrals", language),
        sum(p.count for p in parts),
        parts,
    )
