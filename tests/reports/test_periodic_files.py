"""The periodic return as CSV and XLSX files: the same figures, labels in the
caller's language (Vietnamese unless English is preferred), and in XLSX a sheet per
table with frozen header rows and fitted column widths."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any
from xml.etree import ElementTree

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.audit.helpers import events_after, last_event_id
from tests.conftest import Actor, World
from tests.reports import report_seed as seed

URL = "/api/v1/reports/periodic"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


async def _province(world: World) -> None:
    owner = await seed.owner(world)
    women = await seed.cases(world, owner, 7, victim_sex="female", first_needs=["food"])
    await seed.cases(world, owner, 6, victim_sex="male")
    await seed.moved(world, women, "verifying")
    await seed.verified(world, owner, women)
    await seed.services(world, owner, women, type="essential_needs", amount_vnd=150_000)
    await seed.hotline_reports(world, owner, 2, status="forwarded")


async def _file(world: World, who: Actor, format: str, language: str | None = None) -> Any:
    headers = dict(who.headers)
    if language:
        headers["Accept-Language"] = language
    response = await world.client.get(
        URL, params={"period": "2026-S1", "format": format}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response


def _csv(response: Any) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


class Workbook:
    """The parts of an XLSX package the tests read: sheets by name, their cells
    (shared strings resolved), frozen panes and column widths."""

    def __init__(self, content: bytes) -> None:
        self.package = zipfile.ZipFile(io.BytesIO(content))
        strings = self.xml("xl/sharedStrings.xml")
        self.strings = ["".join(t.text or "" for t in si.iter(f"{MAIN}t")) for si in strings]
        book = self.xml("xl/workbook.xml")
        rels = self.xml("xl/_rels/workbook.xml.rels")
        targets = {r.get("Id"): r.get("Target") for r in rels}
        self.paths = {
            s.get("name"): "xl/" + str(targets[s.get(f"{REL}id")])
            for s in book.iter(f"{MAIN}sheet")
        }

    @property
    def names(self) -> list[str]:
        return list(self.paths)

    def xml(self, path: str) -> ElementTree.Element:
        # The service's own output, made by XlsxWriter in this test.
        return ElementTree.fromstring(self.package.read(path))  # noqa: S314

    def sheet(self, name: str) -> ElementTree.Element:
        return self.xml(self.paths[name])

    def rows(self, name: str) -> list[list[Any]]:
        rows = []
        for row in self.sheet(name).iter(f"{MAIN}row"):
            values: list[Any] = []
            for cell in row.iter(f"{MAIN}c"):
                column = ord(cell.get("r", "A")[0]) - ord("A")  # at most 8 columns
                values += [None] * (column - len(values))
                raw = cell.find(f"{MAIN}v")
                value = None if raw is None else raw.text
                if cell.get("t") == "s" and value is not None:
                    values.append(self.strings[int(value)])
                elif value is not None:
                    number = float(value)
                    values.append(int(number) if number.is_integer() else number)
                else:
                    values.append(None)
            rows.append(values)
        return rows

    def frozen_rows(self, name: str) -> int:
        pane = self.sheet(name).find(f"{MAIN}sheetViews/{MAIN}sheetView/{MAIN}pane")
        assert pane is not None and pane.get("state") == "frozen"
        return int(pane.get("ySplit", "0"))

    def widths(self, name: str) -> list[float]:
        return [float(c.get("width", "0")) for c in self.sheet(name).iter(f"{MAIN}col")]


class TestCsv:
    async def test_csv_is_vietnamese_by_default_with_the_same_figures(
        self, world: World, engine: AsyncEngine
    ) -> None:
        await _province(world)
        officer = await seed.officer(world)
        mark = await last_event_id(engine)
        response = await _file(world, officer, "csv")
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["content-language"] == "vi"
        assert response.headers["content-disposition"] == (
            'attachment; filename="report-40-2026-S1.csv"'
        )
        rows = _csv(response)
        assert rows[0][:5] == ["Mục", "Mã", "Nội dung", "Số lượng", "Số tiền (đồng)"]
        table = {(r[0], r[1]): r for r in rows[1:]}
        assert table[("headline", "persons_received")][2:4] == ["Số người được tiếp nhận", "13"]
        assert table[("sex", "female")][2:4] == ["Nữ", "7"]
        assert table[("sex", "total")][2:4] == ["Tổng số", "13"]
        assert table[("supports", "total")][4] == str(7 * 150_000)
        assert table[("headline", "hotline_forwarded")][3] == "2"
        assert table[("targets", "received_verified")][3:7] == ["7", "", "13", "53.8"]
        [event] = await events_after(engine, mark)
        assert event["reason"] == "format:csv"

    @pytest.mark.parametrize("language", ["en", "en-GB,vi;q=0.5", "fr, en;q=0.8"])
    async def test_csv_is_english_on_request(self, world: World, language: str) -> None:
        await _province(world)
        response = await _file(world, await seed.officer(world), "csv", language)
        assert response.headers["content-language"] == "en"
        rows = _csv(response)
        assert rows[0][:5] == ["Section", "Key", "Item", "Count", "Amount (VND)"]
        table = {(r[0], r[1]): r for r in rows[1:]}
        assert table[("sex", "female")][2] == "Female"
        assert table[("headline", "persons_received")][2] == "Persons received"

    async def test_vietnamese_when_preferred_over_english(self, world: World) -> None:
        await _province(world)
        response = await _file(world, await seed.officer(world), "csv", "vi, en;q=0.9")
        assert {(r[0], r[1]): r for r in _csv(response)}[("sex", "male")][2] == "Nam"

    async def test_json_labels_follow_the_language_too(self, world: World) -> None:
        await _province(world)
        officer = await seed.officer(world)
        for language, female in ((None, "Nữ"), ("en", "Female")):
            headers = {**officer.headers, **({"Accept-Language": language} if language else {})}
            response = await world.client.get(URL, params={"period": "2026"}, headers=headers)
            report = response.json()
            assert report["language"] == (language or "vi")
            [sex] = [b for b in report["breakdowns"] if b["name"] == "sex"]
            assert sex["parts"][0]["label"] == female


class TestXlsx:
    async def test_a_sheet_per_table_with_frozen_headers_and_vietnamese_labels(
        self, world: World
    ) -> None:
        await _province(world)
        response = await _file(world, await seed.officer(world), "xlsx")
        assert response.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert 'filename="report-40-2026-S1.xlsx"' in response.headers["content-disposition"]
        book = Workbook(response.content)
        assert book.names == [
            "Báo cáo",
            "Chỉ tiêu",
            "Tin báo 111",
            "Giới tính",
            "Nhóm tuổi (111)",
            "Nhóm tuổi (CTDC)",
            "Dân tộc",
            "Tỉnh tiếp nhận",
            "Xã, phường",
            "Nơi bị đưa đến",
            "Hình thức bóc lột",
            "Lượt hình thức bóc lột",
            "Hỗ trợ",
            "Chuyển tuyến",
            "Tin báo tội phạm",
            "Vụ án đã xét xử",
        ]
        for name in book.names:
            assert book.frozen_rows(name) == 2, name
            widths = book.widths(name)
            assert widths and all(8 <= w <= 61 for w in widths), (name, widths)
        sex = book.rows("Giới tính")
        assert sex[0][0].startswith("Theo giới tính")
        assert sex[1] == ["Mã", "Nội dung", "Số lượng"]
        assert ["female", "Nữ", 7] in sex and ["total", "Tổng số", 13] in sex
        first = {row[0]: row for row in book.rows("Báo cáo")[2:]}
        assert first["persons_received"] == ["persons_received", "Số người được tiếp nhận", 13]
        assert first["from"][2] == "2025-11-16"
        targets = {row[0]: row for row in book.rows("Chỉ tiêu")[2:]}
        assert targets["received_verified"][2:] == [7, 13, 53.8, 100]
        supports = book.rows("Hỗ trợ")
        assert supports[1][-1] == "Số tiền (đồng)"
        assert ["essential_needs", "Hỗ trợ nhu cầu thiết yếu", 7, 7 * 150_000] in supports
        # The label column is wider than the key column of the same sheet.
        key_width, label_width, *_ = book.widths("Báo cáo")
        assert label_width > key_width

    async def test_english_sheets_on_request(self, world: World) -> None:
        await _province(world)
        book = Workbook((await _file(world, await seed.officer(world), "xlsx", "en")).content)
        assert book.names[:4] == ["Return", "Targets", "Hotline 111", "Sex"]
        assert ["female", "Female", 7] in book.rows("Sex")

    async def test_a_formula_like_label_stays_text(self, world: World) -> None:
        owner = await seed.owner(world)
        await seed.cases(world, owner, 1, received_commune_code="=1+1")
        response = await _file(world, await seed.officer(world), "xlsx")
        book = Workbook(response.content)
        assert ["=1+1", "=1+1", 1] in book.rows("Xã, phường")
        assert b"<f>" not in book.package.read(book.paths["Xã, phường"])
        rows = _csv(await _file(world, await seed.officer(world), "csv"))
        assert any(r[:4] == ["commune", "'=1+1", "'=1+1", "1"] for r in rows)
