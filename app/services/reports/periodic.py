"""The periodic report (`GET /api/v1/reports/periodic?period=2026-H1|2026`): the
six-monthly or annual return a province sends up (DOMAIN.md, "Reports the provinces
must send").

Rules:
- Scope: the caller's province, or any province / the whole country for a national
  agency (app/services/reports/scope.py). Period bounds are Vietnam days
  (app/services/reports/window.py).
- Exact counts, no small-cell suppression: this is the province's own official
  return going up to the ministry, not a publication; it is restricted to
  `reports:read` within the caller's scope, and the ministry adds the provinces'
  returns, which rounding or suppression would make impossible. The summary report
  is the one with suppression.
- Sections: hotline reports received in the period and how they stand (resolved =
  no longer open); persons received (cases received in the period: one reception of
  one victim each, as the provinces count receptions), verified and identified
  (cases whose status history moved to `verifying` / `identified` in the period);
  the persons received by sex, hotline age band, CTDC age band, ethnic group,
  province of reception, destination and form of exploitation; supports delivered
  in the period by type (count and VND); referrals sent in the period by the kind
  of agency they went to (cancelled ones left out); reports of crime resolved and
  criminal cases brought to trial (app/services/reports/criminal.py).
- Which province counts what, when a transfer moved a case to another province
  (`cases.current_province_code`): the reception and its breakdowns stay with the
  province of reception; a verification or identification counts for the province
  the case was in when its status moved (the last `case_transferred` entry before
  it, else the reception province); a support for the province where it was
  delivered (`support_services.province_code`, which also priced it); a referral
  for the province of the agency that sent it.
- Every breakdown's parts add up to its total: each case is in exactly one part
  (unknown values have a part of their own; a case with several forms of
  exploitation is in `multiple`). The one multi-valued breakdown,
  `exploitation_forms`, counts each form a case names, and its total is the number
  of mentions; it says `multi_valued: true`.
- Only non-identifying columns are read (`cases`, `case_timeline` status codes,
  `hotline_reports` status, `support_services` type and amount, `referrals` and the
  destination agency's kind); never `persons`, never a key, nothing is decrypted.
- Each section is one SQL aggregate (FILTER clauses, GROUP BY); no per-row Python.
  The persons received and all their breakdowns are one pass over `cases`.
- Audited as `report.periodic` with the scope, period and format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app import audit
from app.models.hotline import HotlineStatus
from app.security.principal import Principal
from app.services.reports import bands, criminal, window
from app.services.reports.scope import resolve_scope
from app.services.reports.summary import AGE_SQL

ACTION = "report.periodic"

# (section, title, ((key, label, SQL condition over `c`), ...)); each section's
# conditions are mutually exclusive and cover every case. Constants only.
_DESTINATIONS = {"CN": "china", "LA": "laos", "KH": "cambodia", "MM": "myanmar", "VN": "domestic"}
_LISTED = ", ".join(f"'{code}'" for code in _DESTINATIONS)
# The official forms of exploitation; begging is forced labour, as in CTDC.
FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sexual": ("Sexual exploitation", ("sexual",)),
    "labour": ("Forced labour", ("forced_labour", "forced_begging")),
    "marriage": ("Forced marriage", ("forced_marriage",)),
    "baby_selling_adoption": ("Baby selling / adoption", ("baby_selling",)),
    "organ_removal": ("Organ removal", ("organ_removal",)),
    "other": ("Other", ("other",)),
}


def _has_form(types: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{t}'" for t in types)
    return f"c.exploitation_types && ARRAY[{listed}]::varchar[]"


_FORM_COUNT = " + ".join(f"({_has_form(types)})::int" for _, types in FORMS.values())


def _band_parts(kind: str, keys: tuple[str, ...], labels: dict[str, str]) -> list[Any]:
    return [(key, labels.get(key, key), f"{AGE_SQL[kind]} = '{key}'") for key in keys]


SECTIONS: tuple[tuple[str, str, list[tuple[str, str, str]]], ...] = (
    (
        "sex",
        "By sex",
        [
            (v, v.capitalize(), f"c.victim_sex = '{v}'")
            for v in ("female", "male", "other", "unknown")
        ],
    ),
    (
        "age_hotline",
        "By age band (hotline 111)",
        _band_parts("hotline", bands.HOTLINE_KEYS, bands.HOTLINE_LABELS),
    ),
    ("age_ctdc", "By age band (CTDC)", _band_parts("ctdc", bands.CTDC_KEYS, {})),
    (
        "ethnicity_group",
        "By ethnic group",
        [
            ("kinh", "Kinh", "c.victim_ethnicity_group = 'kinh'"),
            ("minority", "Ethnic minority", "c.victim_ethnicity_group = 'minority'"),
            ("unknown", "Not recorded", "c.victim_ethnicity_group IS NULL"),
        ],
    ),
    (
        "destination",
        "By destination",
        [
            *(
                (key, key.capitalize(), f"c.destination_country = '{code}'")
                for code, key in _DESTINATIONS.items()
            ),
            ("other", "Other countries", f"c.destination_country NOT IN ({_LISTED})"),
            ("unknown", "Not recorded", "c.destination_country IS NULL"),
        ],
    ),
    (
        "exploitation",
        "By form of exploitation",
        [
            *(
                (key, label, f"({_has_form(types)}) AND ({_FORM_COUNT}) = 1")
                for key, (label, types) in FORMS.items()
            ),
            ("multiple", "Several forms", f"({_FORM_COUNT}) > 1"),
            ("not_recorded", "Not recorded", f"({_FORM_COUNT}) = 0"),
        ],
    ),
)


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    count: int
    amount_vnd: int | None = None


@dataclass(frozen=True)
class Breakdown:
    name: str
    title: str
    total: int
    parts: list[Part]
    amount_vnd: int | None = None
    multi_valued: bool = False


@dataclass(frozen=True)
class Periodic:
    period: str
    first_day: date
    last_day: date
    scope: str
    province_code: str | None
    hotline_received: int
    hotline_resolved: int
    persons_received: int
    persons_verified: int
    persons_identified: int
    breakdowns: list[Breakdown]


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


# The province a case was in at the time of timeline entry `t`: the destination of the
# last transfer before it (detail `transfer:<from>:<to>`; entries written before
# 2026-12 say only `transfer` and count as the reception province), else the
# reception province.
_PROVINCE_AT_ENTRY = (
    "coalesce((SELECT nullif(split_part(x.detail, ':', 3), '') FROM case_timeline x "
    "WHERE x.case_id = t.case_id AND x.kind = 'case_transferred' "
    "AND x.occurred_at <= t.occurred_at ORDER BY x.occurred_at DESC LIMIT 1), c.province_code)"
)


async def _cases(
    session: AsyncSession, where: str, params: dict[str, Any]
) -> tuple[int, list[Breakdown]]:
    """Persons received and every breakdown of them, in one pass over `cases`: the
    counts per province of reception, summed here for the other breakdowns (each
    case is in one province, so the sums are exact)."""
    filters, slots = [], []
    for name, _title, parts in SECTIONS:
        for key, _label, condition in parts:
            filters.append(f"count(*) FILTER (WHERE {condition})")
            slots.append((name, key))
    forms = [f"count(*) FILTER (WHERE {_has_form(types)})" for _label, types in FORMS.values()]
    sql = (
        f"SELECT c.province_code, count(*), {', '.join([*filters, *forms])} "  # noqa: S608
        f"FROM cases c WHERE {where} GROUP BY c.province_code ORDER BY c.province_code"
    )
    rows = (await session.execute(text(sql), params)).all()
    provinces = [Part(str(row[0]), str(row[0]), int(row[1])) for row in rows]
    sums = [sum(int(row[i]) for row in rows) for i in range(1, 2 + len(filters) + len(forms))]
    received = sums[0]
    counts = dict(zip(slots, sums[1 : 1 + len(filters)], strict=True))
    mentions = sums[1 + len(filters) :]
    breakdowns = [
        Breakdown(
            name,
            title,
            received,
            [Part(key, label, counts[(name, key)]) for key, label, _ in parts],
        )
        for name, title, parts in SECTIONS
    ]
    named = [
        Part(key, label, n) for (key, (label, _)), n in zip(FORMS.items(), mentions, strict=True)
    ]
    breakdowns.append(
        Breakdown(
            "exploitation_forms",
            "Forms of exploitation named (a case may name several)",
            sum(mentions),
            named,
            multi_valued=True,
        )
    )
    breakdowns.insert(4, Breakdown("province", "By province of reception", received, provinces))
    return received, breakdowns


async def periodic_report(
    session: AsyncSession,
    principal: Principal,
    *,
    period: str,
    province_code: str | None,
    file_format: str = "json",
) -> Periodic:
    """The return of the caller's scope for `period` (422 if malformed; 403 and a
    denied event outside the scope), exact counts, audited as `report.periodic`."""
    span = window.period(period)
    scope = await resolve_scope(session, principal, province_code, action=ACTION)
    params: dict[str, Any] = {"start": span.start, "end": span.end}
    received, breakdowns = await _cases(
        session, _where(scope.province_code, "c.received_at", params), params
    )
    hotline_where = _where(scope.province_code, "c.received_at", dict(params))
    hotline_rows = await session.execute(
        text(
            "SELECT c.status, count(*) FROM hotline_reports c "  # noqa: S608 (constants)
            f"WHERE {hotline_where} GROUP BY c.status"
        ),
        params,
    )
    by_status = {str(status): int(n) for status, n in hotline_rows.all()}
    hotline_total = sum(by_status.values())
    outcome = Breakdown(
        "hotline_outcome",
        "Hotline reports received, by how they stand",
        hotline_total,
        [
            Part(s.value, s.value.replace("_", " "), by_status.get(s.value, 0))
            for s in HotlineStatus
        ],
    )
    verified, identified = await _status_history(session, scope.province_code, params)
    breakdowns = [outcome, *breakdowns, await _supports(session, scope.province_code, params)]
    breakdowns.append(await _referrals(session, scope.province_code, params))
    for name, title, total, parts in await criminal.sections(session, scope.province_code, params):
        breakdowns.append(Breakdown(name, title, total, [Part(*part) for part in parts]))
    await audit.record(
        session,
        action=ACTION,
        resource_type="report",
        resource_id=f"periodic:{scope.label}:{period}",
        principal=principal,
        reason=f"format:{file_format}",
    )
    assert span.first is not None and span.last is not None
    return Periodic(
        period=period,
        first_day=span.first,
        last_day=span.last,
        scope=scope.label,
        province_code=scope.province_code,
        hotline_received=hotline_total,
        hotline_resolved=hotline_total - by_status.get(HotlineStatus.OPEN.value, 0),
        persons_received=received,
        persons_verified=verified,
        persons_identified=identified,
        breakdowns=breakdowns,
    )


async def _status_history(
    session: AsyncSession, province: str | None, params: dict[str, Any]
) -> tuple[int, int]:
    """Cases whose status moved to `verifying` / `identified` within the period."""
    where = _where(province, "t.occurred_at", dict(params), _PROVINCE_AT_ENTRY)
    # The join to cases is only needed to place a case in a province.
    join = "JOIN cases c ON c.id = t.case_id" if province is not None else ""
    sql = (
        "SELECT count(DISTINCT t.case_id) FILTER (WHERE t.to_status = 'verifying'), "  # noqa: S608
        "count(DISTINCT t.case_id) FILTER (WHERE t.to_status = 'identified') "
        f"FROM case_timeline t {join} "
        "WHERE t.kind = 'status_changed' AND t.to_status IN ('verifying', 'identified') "
        f"AND {where}"
    )
    verified, identified = (await session.execute(text(sql), params)).one()
    return int(verified), int(identified)


async def _supports(
    session: AsyncSession, province: str | None, params: dict[str, Any]
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
    parts = [Part(str(t), str(t).replace("_", " "), int(n), int(a)) for t, n, a in rows]
    return Breakdown(
        "supports",
        "Supports delivered, by type (count and VND)",
        sum(p.count for p in parts),
        parts,
        amount_vnd=sum(p.amount_vnd or 0 for p in parts),
    )


async def _referrals(
    session: AsyncSession, province: str | None, params: dict[str, Any]
) -> Breakdown:
    where = _where(
        province, "r.created_at", dict(params), "coalesce(f.province_code, c.province_code)"
    )
    sql = (
        "SELECT a.kind, count(*) FROM referrals r "  # noqa: S608 (constants)
        "JOIN cases c ON c.id = r.case_id JOIN agencies a ON a.id = r.to_agency_id "
        "JOIN agencies f ON f.id = r.from_agency_id "
        f"WHERE r.status <> 'cancelled' AND {where} GROUP BY a.kind ORDER BY a.kind"
    )
    rows = (await session.execute(text(sql), params)).all()
    parts = [Part(str(kind), str(kind).replace("_", " "), int(n)) for kind, n in rows]
    return Breakdown(
        "referrals",
        "Referrals sent, by kind of receiving agency",
        sum(p.count for p in parts),
        parts,
    )


def rows(report: Periodic) -> list[Sequence[str | int | None]]:
    """The report as a table (section, key, label, count, amount_vnd) for CSV/XLSX:
    the headline figures, then each breakdown's parts and its total."""
    table: list[Sequence[str | int | None]] = [
        ("section", "key", "label", "count", "amount_vnd"),
        ("report", "period", report.period, None, None),
        ("report", "from", report.first_day.isoformat(), None, None),
        ("report", "to", report.last_day.isoformat(), None, None),
        ("report", "scope", report.scope, None, None),
        ("headline", "hotline_received", "Hotline reports received", report.hotline_received, None),
        ("headline", "hotline_resolved", "Hotline reports resolved", report.hotline_resolved, None),
        ("headline", "persons_received", "Persons received", report.persons_received, None),
        ("headline", "persons_verified", "Persons verified", report.persons_verified, None),
        ("headline", "persons_identified", "Persons identified", report.persons_identified, None),
    ]
    for breakdown in report.breakdowns:
        for part in breakdown.parts:
            table.append((breakdown.name, part.key, part.label, part.count, part.amount_vnd))
        table.append((breakdown.name, "total", "Total", breakdown.total, breakdown.amount_vnd))
    return table
