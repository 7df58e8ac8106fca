"""`GET /api/v1/exports/ctdc.csv`: identified victims in the CTDC vocabulary, k = 11,
of the caller's scope only, audited, and nothing that identifies anyone."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from app.services.reports.bands import CTDC_BANDS, CTDC_OLDEST
from app.services.reports.ctdc import COLUMNS, REGION_OF, SOURCE_FIELDS, K
from tests.audit.helpers import events_after, last_event_id
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import World, assert_problem
from tests.reports import report_seed
from tests.reports.ctdc_seed import seed_cases

URL = "/api/v1/exports/ctdc.csv"
QUASI_IDENTIFIERS = (
    "yearOfRegistration",
    "Datasource",
    "gender",
    "ageBroad",
    "majorityStatus",
    "citizenship",
    "CountryOfExploitation",
    "typeOfExploitConcatenated",
)
_REGIONS = set(REGION_OF.values()) | {"Other"}
_COUNTRY = re.compile(r"^([A-Z]{2})?$")
_FLAG = re.compile(r"^[01]?$")
# Every value a cell may hold: the CTDC vocabulary and nothing typed by a person.
ALLOWED: dict[str, re.Pattern[str] | set[str]] = {
    "yearOfRegistration": re.compile(r"^(\d{4}|\d{4}-\d{4})?$"),
    "Datasource": {"", "Case Management", "Hotline"},
    "gender": {"", "Female", "Male", "Transgender/NonConforming"},
    "ageBroad": {"", CTDC_OLDEST} | {label for _, label in CTDC_BANDS},
    "majorityStatus": {"", "Minor", "Adult"},
    "typeOfExploitConcatenated": re.compile(
        r"^((Forced labour|Sexual exploitation|Forced marriage|Organ removal|Other);?)*$"
    ),
}


def _parse(response: httpx.Response) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(response.text))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def _allowed(column: str, value: str) -> bool:
    rule = ALLOWED.get(column)
    if column in ("citizenship", "CountryOfExploitation"):
        return bool(_COUNTRY.match(value)) or value in _REGIONS
    if rule is None:  # the flags, and the always blank means of control / recruiter
        return bool(_FLAG.match(value)) if column.startswith("is") else value == ""
    if isinstance(rule, set):
        return value in rule
    return bool(rule.match(value))


class TestCtdcExport:
    async def test_anonymous_is_401(self, world: World) -> None:
        assert_problem(await world.client.get(URL), 401)

    @pytest.mark.parametrize("role", [Role.CASE_WORKER, Role.SYSTEM_ADMIN, Role.AUDITOR])
    async def test_roles_without_reports_read_see_nothing(
        self, world: World, engine: AsyncEngine, role: Role
    ) -> None:
        kind = "national" if role in (Role.SYSTEM_ADMIN, Role.AUDITOR) else "social_affairs"
        caller = await world.user(role, await world.agency(kind))
        mark = await last_event_id(engine)
        assert_problem(await world.client.get(URL, headers=caller.headers), 404)
        [event] = await events_after(engine, mark)
        assert (event["action"], event["outcome"]) == ("access.denied", "denied")
        assert event["reason"] == "missing_permission:reports:read"

    @pytest.mark.parametrize(
        "query",
        [
            {"province_code": "4"},
            {"province_code": "ab"},
            {"from": "1800"},
            {"to": "soon"},
            {"from": "2026", "to": "2020"},
            {"from": "2026-12-31", "to": "2020-01-01"},
            {"from": "2026-02-30"},
            {"from": "2026/01/01"},
            {"to": "20260101"},
            {"from": "1800-01-01"},
        ],
    )
    async def test_invalid_queries_are_422(self, world: World, query: dict[str, str]) -> None:
        analyst = await report_seed.analyst(world, None)
        assert_problem(await world.client.get(URL, params=query, headers=analyst.headers), 422)

    async def test_analyst_of_one_province_cannot_export_another(
        self, world: World, engine: AsyncEngine
    ) -> None:
        await seed_cases(world, await report_seed.owner(world, "37"), count=60, seed=7)
        analyst = await report_seed.analyst(world, "40")
        mark = await last_event_id(engine)
        response = await world.client.get(
            URL, params={"province_code": "37"}, headers=analyst.headers
        )
        assert_problem(response, 403)
        [event] = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "export.ctdc",
            "denied",
            "out_of_scope",
        )

    async def test_provincial_analyst_gets_own_province_only(self, world: World) -> None:
        ours = await seed_cases(world, await report_seed.owner(world, "40"), count=200, seed=1)
        await seed_cases(world, await report_seed.owner(world, "37"), count=300, seed=2)
        analyst = await report_seed.analyst(world, "40")
        for params in ({}, {"province_code": "40"}):
            response = await world.client.get(URL, params=params, headers=analyst.headers)
            assert response.status_code == 200, response.text
            released = int(response.headers["X-Released-Rows"])
            suppressed = int(response.headers["X-Suppressed-Rows"])
            assert released + suppressed == ours.identified
            assert 'filename="ctdc-40.csv"' in response.headers["content-disposition"]

    async def test_national_analyst_gets_any_province_or_the_country(self, world: World) -> None:
        nghe_an = await seed_cases(world, await report_seed.owner(world, "40"), count=200, seed=3)
        ninh_binh = await seed_cases(world, await report_seed.owner(world, "37"), count=150, seed=4)
        analyst = await report_seed.analyst(world, None)
        expected = {
            None: nghe_an.identified + ninh_binh.identified,
            "40": nghe_an.identified,
            "37": ninh_binh.identified,
        }
        for province, identified in expected.items():
            params = {"province_code": province} if province else {}
            response = await world.client.get(URL, params=params, headers=analyst.headers)
            assert response.status_code == 200, response.text
            total = int(response.headers["X-Released-Rows"]) + int(
                response.headers["X-Suppressed-Rows"]
            )
            assert total == identified

    @pytest.mark.parametrize(("seed", "count"), [(11, 40), (12, 300), (13, 1500), (14, 4000)])
    async def test_every_combination_of_quasi_identifiers_occurs_at_least_k_times(
        self, world: World, seed: int, count: int
    ) -> None:
        seeded = await seed_cases(
            world, await report_seed.owner(world, "40"), count=count, seed=seed
        )
        analyst = await report_seed.analyst(world, "40")
        response = await world.client.get(URL, headers=analyst.headers)
        assert response.status_code == 200, response.text
        header, rows = _parse(response)
        assert tuple(header) == COLUMNS
        released = int(response.headers["X-Released-Rows"])
        suppressed = int(response.headers["X-Suppressed-Rows"])
        assert len(rows) == released
        assert released + suppressed == seeded.identified
        if seeded.identified >= K:
            assert suppressed <= 0.05 * seeded.identified
        combinations = Counter(tuple(row[c] for c in QUASI_IDENTIFIERS) for row in rows)
        assert all(n >= K for n in combinations.values()), combinations.most_common()[-3:]
        # Stronger: whole rows (every column) are k-anonymous too.
        assert all(n >= K for n in Counter(tuple(r.values()) for r in rows).values())

    async def test_cells_hold_only_the_ctdc_vocabulary(self, world: World) -> None:
        await seed_cases(world, await report_seed.owner(world, "40"), count=3000, seed=21)
        analyst = await report_seed.analyst(world, "40")
        response = await world.client.get(URL, headers=analyst.headers)
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["X-K-Anonymity"] == "11"
        _, rows = _parse(response)
        assert rows
        bad = {(c, v) for row in rows for c, v in row.items() if not _allowed(c, v)}
        assert not bad
        # Each column is generalised alike (full-domain), as the header says.
        levels = dict(p.split("=") for p in response.headers["X-Generalisation"].split(";"))
        exact_year = {bool(re.fullmatch(r"\d{4}", row["yearOfRegistration"])) for row in rows}
        assert exact_year == {levels["yearOfRegistration"] == "0"}

    async def test_common_values_are_released_exactly(self, world: World) -> None:
        seeded = await seed_cases(
            world, await report_seed.owner(world, "40"), count=40, seed=22, alike=True
        )
        analyst = await report_seed.analyst(world, "40")
        response = await world.client.get(URL, headers=analyst.headers)
        assert response.headers["X-Generalisation"] == ";".join(
            f"{name}=0" for name in QUASI_IDENTIFIERS if name != "majorityStatus"
        )
        _, rows = _parse(response)
        assert len(rows) == seeded.identified >= K
        expected = {
            "yearOfRegistration": "2026",
            "Datasource": "Case Management",
            "gender": "Female",
            "ageBroad": "24--26",
            "majorityStatus": "Adult",
            "citizenship": "VN",
            "CountryOfExploitation": "CN",
            "isForcedLabour": "0",
            "isSexualExploit": "1",
            "isOtherExploit": "0",
            "isSexAndLabour": "0",
            "isForcedMarriage": "0",
            "isForcedMilitary": "",
            "isOrganRemoval": "0",
            "isSlaveryAndPractices": "",
            "typeOfExploitConcatenated": "Sexual exploitation",
        }
        assert {c: rows[0][c] for c in expected} == expected
        assert all(row == rows[0] for row in rows)
        assert not any(v for c, v in rows[0].items() if c.startswith(("meansOf", "recruiter")))

    async def test_only_identified_victims_of_the_years_asked_are_exported(
        self, world: World
    ) -> None:
        owner = await report_seed.owner(world, "40")
        await seed_cases(world, owner, count=200, seed=31, years=(2019, 2020))
        recent = await seed_cases(world, owner, count=250, seed=32, years=(2025, 2026))
        analyst = await report_seed.analyst(world, "40")
        response = await world.client.get(URL, params={"from": 2025}, headers=analyst.headers)
        assert response.status_code == 200, response.text
        total = int(response.headers["X-Released-Rows"]) + int(
            response.headers["X-Suppressed-Rows"]
        )
        assert total == recent.identified
        # ISO dates like the summary report's, widened to whole years of registration.
        dated = await world.client.get(
            URL, params={"from": "2025-06-30", "to": "2026-01-15"}, headers=analyst.headers
        )
        assert dated.status_code == 200, dated.text
        assert dated.content == response.content
        response = await world.client.get(
            URL, params={"from": 2030, "to": 2031}, headers=analyst.headers
        )
        header, rows = _parse(response)
        assert (tuple(header), rows) == (COLUMNS, [])
        assert response.headers["X-Suppressed-Rows"] == "0"

    async def test_no_name_id_number_phone_or_encrypted_column_appears(
        self, world: World, engine: AsyncEngine
    ) -> None:
        worker = await world.user(Role.CASE_WORKER)
        bodies = [intake_body(sex="female", nationality="VN") for _ in range(12)]
        opened = [await open_case(world, worker, body) for body in bodies]
        from tests.reports.ctdc_seed import identify

        for case in opened:
            await identify(world, case["id"], worker)
        await seed_cases(world, await report_seed.owner(world, "40"), count=100, seed=41)
        analyst = await report_seed.analyst(world, None)
        response = await world.client.get(URL, headers=analyst.headers)
        assert response.status_code == 200, response.text
        text = response.text.casefold()
        secrets = [
            value
            for body in bodies
            for value in (
                body["victim"]["full_name"],
                body["victim"]["national_id"],
                body["victim"]["phone"],
                body["victim"]["date_of_birth"],
            )
        ]
        secrets += [v for case in opened for v in (case["id"], case["case_number"])]
        assert not [s for s in secrets if str(s).casefold() in text]
        header, rows = _parse(response)
        assert set(header) == set(COLUMNS)
        assert not {h for h in header if re.search(r"name|id$|phone|address|birth", h, re.I)}
        assert all(_allowed(c, v) for row in rows for c, v in row.items())

    async def test_the_export_is_audited_with_scope_and_counts(
        self, world: World, engine: AsyncEngine
    ) -> None:
        await seed_cases(world, await report_seed.owner(world, "40"), count=120, seed=51)
        analyst = await report_seed.analyst(world, "40")
        mark = await last_event_id(engine)
        response = await world.client.get(URL, headers=analyst.headers)
        assert response.status_code == 200, response.text
        [event] = await events_after(engine, mark)
        released, suppressed = (
            response.headers["X-Released-Rows"],
            response.headers["X-Suppressed-Rows"],
        )
        assert event["action"] == "export.ctdc"
        assert (event["outcome"], event["resource_type"]) == ("success", "export")
        assert event["resource_id"] == "ctdc:40"
        assert event["reason"] == f"rows:{released}:suppressed:{suppressed}"
        assert event["fields"] == sorted(SOURCE_FIELDS)
        assert event["actor_id"] == analyst.id
        assert event["person_id"] is None


async def test_every_bad_date_is_named_at_once(world: World) -> None:
    analyst = await report_seed.analyst(world, None)
    response = await world.client.get(
        URL, params={"from": "2026-13-01", "to": "soon"}, headers=analyst.headers
    )
    problem = assert_problem(response, 422)
    assert sorted(e["field"] for e in problem["errors"]) == ["from", "to"]  # type: ignore[attr-defined]
