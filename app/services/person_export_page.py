"""The printable page (Vietnamese) of a person's export (`app.services.person_export`).
Every value is escaped; the page loads nothing from elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from html import escape

from app.domain.working_days import VIETNAM
from app.schemas.data_request import PersonExport

IDENTITY_LABELS = {
    "full_name": "Họ và tên",
    "other_names": "Tên gọi khác",
    "date_of_birth": "Ngày sinh",
    "national_id": "Số định danh cá nhân",
    "phone": "Số điện thoại",
    "address": "Địa chỉ",
    "ethnicity": "Dân tộc",
    "sex": "Giới tính",
    "nationality": "Quốc tịch",
    "hometown_province_code": "Quê quán (mã tỉnh)",
}
STYLE = (
    "body{font-family:serif;max-width:48em;margin:2em auto}"
    "table{border-collapse:collapse;width:100%;margin-bottom:1.5em}"
    "th,td{border:1px solid #444;padding:.3em;text-align:left;vertical-align:top}"
    "@media print{body{margin:0}}"
)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_text(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body or '<tr><td colspan=99>Không có</td></tr>'}</table>"


def render(export: PersonExport) -> str:
    identity = export.identity
    who = _table(
        ("Thông tin", "Giá trị"),
        ((label, getattr(identity, name)) for name, label in IDENTITY_LABELS.items()),
    )
    case = export.case
    parts = [
        "<!doctype html><html lang=vi><head><meta charset=utf-8>",
        "<title>Dữ liệu cá nhân của bạn</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Dữ liệu cá nhân của bạn</h1>",
        f"<p>Cung cấp theo yêu cầu số {escape(str(export.data_request_id))}, "
        f"lập lúc {escape(_text(export.generated_at))}.</p>",
        "<h2>Thông tin nhân thân</h2>",
        "<p>Dữ liệu đã bị xoá.</p>" if identity.erased else who,
        f"<h2>Hồ sơ vụ việc {escape(case.case_number)}</h2>",
        f"<p>Tiếp nhận lúc {escape(_text(case.received_at))}; "
        f"trạng thái: {escape(case.status)}.</p>",
        "<h3>Các bước xử lý</h3>",
        _table(
            ("Thời gian", "Bước", "Từ", "Đến"),
            ((s.occurred_at, s.kind, s.from_status, s.to_status) for s in export.steps),
        ),
        "<h2>Dịch vụ hỗ trợ</h2>",
        _table(
            ("Ngày", "Loại", "Số lượng", "Trạng thái", "Nơi cung cấp"),
            (
                (s.service_date, s.type, f"{s.quantity} {s.unit}", s.status, s.provider)
                for s in export.services
            ),
        ),
        "<h2>Sự đồng ý</h2>",
        _table(
            ("Phạm vi", "Người đồng ý", "Ngày đồng ý", "Hết hạn", "Trạng thái", "Ngày rút"),
            (
                (c.scope, c.given_by, c.given_at, c.expires_at, c.status, c.withdrawn_at)
                for c in export.consents
            ),
        ),
        "<h2>Các cơ quan đã nhận dữ liệu của bạn</h2>",
        _table(
            ("Cơ quan", "Mục đích", "Căn cứ", "Dữ liệu đã chia sẻ", "Ngày"),
            (
                (d.agency, d.purpose, d.legal_basis, d.shared_fields, d.disclosed_at)
                for d in export.disclosures
            ),
        ),
        "</body></html>",
    ]
    return "".join(parts)
