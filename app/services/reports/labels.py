"""Labels of the periodic return, in Vietnamese and English.

Rule: the return's labels (titles, headline rows, parts, column headers and sheet
names of the CSV and XLSX files, and the `title` / `label` of the JSON) follow
`Accept-Language`: Vietnamese unless the caller prefers English (app.errors
`prefers_english`, the rule the problem responses follow). Keys never change with the
language. A value this table does not know (a province or commune code, a support
type added later) is labelled with its key.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["vi", "en"]

# Breakdown name → (English title, Vietnamese title, sheet name en, sheet name vi).
# Sheet names: at most 31 characters, none of []:*?/\ and unique.
TITLES: dict[str, tuple[str, str, str, str]] = {
    "hotline_outcome": (
        "Hotline reports received, by how they stand",
        "Tin báo qua Tổng đài 111 đã tiếp nhận, theo kết quả xử lý",
        "Hotline 111",
        "Tin báo 111",
    ),
    "sex": ("By sex", "Theo giới tính", "Sex", "Giới tính"),
    "age_hotline": (
        "By age band (hotline 111)",
        "Theo nhóm tuổi (Tổng đài 111)",
        "Age (hotline 111)",
        "Nhóm tuổi (111)",
    ),
    "age_ctdc": ("By age band (CTDC)", "Theo nhóm tuổi (CTDC)", "Age (CTDC)", "Nhóm tuổi (CTDC)"),
    "ethnicity_group": ("By ethnic group", "Theo dân tộc", "Ethnic group", "Dân tộc"),
    "province": (
        "By province of reception",
        "Theo tỉnh tiếp nhận",
        "Province",
        "Tỉnh tiếp nhận",
    ),
    "commune": (
        "By commune of reception (hotspots flagged)",
        "Theo xã, phường tiếp nhận (đánh dấu địa bàn trọng điểm)",
        "Commune",
        "Xã, phường",
    ),
    "destination": ("By destination", "Theo nơi bị đưa đến", "Destination", "Nơi bị đưa đến"),
    "exploitation": (
        "By form of exploitation",
        "Theo hình thức bóc lột",
        "Exploitation",
        "Hình thức bóc lột",
    ),
    "exploitation_forms": (
        "Forms of exploitation named (a case may name several)",
        "Các hình thức bóc lột được ghi nhận (một vụ việc có thể có nhiều hình thức)",
        "Forms named",
        "Lượt hình thức bóc lột",
    ),
    "supports": (
        "Supports delivered, by type (count and VND)",
        "Các chế độ hỗ trợ đã thực hiện, theo loại (số lượt và số tiền)",
        "Supports",
        "Hỗ trợ",
    ),
    "referrals": (
        "Referrals sent, by kind of receiving agency",
        "Chuyển tuyến, theo loại cơ quan tiếp nhận",
        "Referrals",
        "Chuyển tuyến",
    ),
    "crime_reports_resolved": (
        "Reports of crime resolved (proceedings past investigation), by stage now",
        "Tin báo tội phạm đã giải quyết (qua giai đoạn điều tra), theo giai đoạn hiện tại",
        "Crime reports resolved",
        "Tin báo tội phạm",
    ),
    "cases_tried": (
        "Criminal cases brought to trial, by verdict",
        "Vụ án hình sự đã đưa ra xét xử, theo kết quả",
        "Cases tried",
        "Vụ án đã xét xử",
    ),
}
# The two sheets that are not breakdowns.
SHEETS: dict[str, tuple[str, str]] = {
    "report": ("Return", "Báo cáo"),
    "targets": ("Targets", "Chỉ tiêu"),
}

HEADLINE: dict[str, tuple[str, str]] = {
    "period": ("Period", "Kỳ báo cáo"),
    "from": ("From", "Từ ngày"),
    "to": ("To", "Đến ngày"),
    "scope": ("Scope", "Phạm vi"),
    "calendar": ("Calendar", "Lịch báo cáo"),
    "hotline_received": ("Hotline reports received", "Tin báo qua Tổng đài 111 đã tiếp nhận"),
    "hotline_resolved": (
        "Hotline reports resolved (case opened or closed with a reason)",
        "Tin báo đã giải quyết (đã lập hồ sơ vụ việc hoặc đóng có lý do)",
    ),
    "hotline_forwarded": (
        "Hotline reports forwarded to another agency",
        "Tin báo đã chuyển cơ quan khác",
    ),
    "hotline_open": ("Hotline reports still open", "Tin báo đang xử lý"),
    "persons_received": ("Persons received", "Số người được tiếp nhận"),
    "persons_verified": ("Persons verified", "Số người đã được xác minh"),
    "persons_identified": ("Persons identified", "Số người được xác định là nạn nhân"),
    "persons_received_in_hotspots": (
        "Persons received in hotspot communes",
        "Số người được tiếp nhận tại địa bàn trọng điểm",
    ),
    "total": ("Total", "Tổng số"),
}

TARGETS: dict[str, tuple[str, str]] = {
    "received_verified": (
        "Received persons verified",
        "Người được tiếp nhận đã được xác minh",
    ),
    "in_need_supported": (
        "Persons in need supported",
        "Người có nhu cầu đã được hỗ trợ",
    ),
    "reports_handled": ("Hotline reports handled", "Tin báo đã được xử lý"),
}

# (breakdown, key) → (English, Vietnamese); ("*", key) serves every breakdown.
PARTS: dict[tuple[str, str], tuple[str, str]] = {
    ("*", "unknown"): ("Not recorded", "Chưa ghi nhận"),
    ("*", "other"): ("Other", "Khác"),
    ("sex", "female"): ("Female", "Nữ"),
    ("sex", "male"): ("Male", "Nam"),
    ("sex", "unknown"): ("Unknown", "Không rõ"),
    ("age_hotline", "unknown"): ("Unknown", "Không rõ"),
    ("age_ctdc", "unknown"): ("Unknown", "Không rõ"),
    ("ethnicity_group", "kinh"): ("Kinh", "Dân tộc Kinh"),
    ("ethnicity_group", "minority"): ("Ethnic minority", "Dân tộc thiểu số"),
    ("crime_reports_resolved", "prosecuted"): ("Prosecuted", "Đã truy tố"),
    ("crime_reports_resolved", "tried"): ("Tried", "Đã xét xử"),
    ("crime_reports_resolved", "closed"): ("Closed", "Đã kết thúc"),
    ("cases_tried", "convicted"): ("Convicted", "Có tội"),
    ("cases_tried", "acquitted"): ("Acquitted", "Tuyên không có tội"),
    ("cases_tried", "awaiting"): ("Verdict not recorded", "Chưa ghi nhận kết quả"),
    ("cases_tried", "other"): ("Closed otherwise", "Kết thúc theo cách khác"),
    ("ethnicity_group", "foreign"): ("Foreign national", "Người nước ngoài"),
    ("ethnicity_group", "unknown"): (
        "Not established or not recorded",
        "Chưa xác định hoặc chưa ghi nhận",
    ),
    ("destination", "china"): ("China", "Trung Quốc"),
    ("destination", "laos"): ("Laos", "Lào"),
    ("destination", "cambodia"): ("Cambodia", "Campuchia"),
    ("destination", "myanmar"): ("Myanmar", "Myanmar"),
    ("destination", "domestic"): ("Domestic", "Trong nước"),
    ("destination", "other"): ("Other countries", "Nước khác"),
    ("exploitation", "multiple"): ("Several forms", "Nhiều hình thức"),
    ("exploitation", "not_recorded"): ("Not recorded", "Chưa ghi nhận"),
    ("form", "sexual"): ("Sexual exploitation", "Bóc lột tình dục"),
    ("form", "labour"): ("Forced labour", "Cưỡng bức lao động"),
    ("form", "marriage"): ("Forced marriage", "Cưỡng ép kết hôn"),
    ("form", "baby_selling_adoption"): (
        "Baby selling / adoption",
        "Mua bán trẻ sơ sinh, cho nhận con nuôi trái phép",
    ),
    ("form", "organ_removal"): ("Organ removal", "Lấy bộ phận cơ thể"),
    ("hotline_outcome", "open"): ("Open", "Đang xử lý"),
    ("hotline_outcome", "case_opened"): ("Case opened", "Đã lập hồ sơ vụ việc"),
    ("hotline_outcome", "forwarded"): ("Forwarded", "Đã chuyển cơ quan khác"),
    ("hotline_outcome", "closed"): ("Closed with a reason", "Đã đóng (có lý do)"),
    ("supports", "essential_needs"): ("Essential needs", "Hỗ trợ nhu cầu thiết yếu"),
    ("supports", "medical"): ("Medical care", "Hỗ trợ y tế"),
    ("supports", "interpretation"): ("Interpretation", "Hỗ trợ phiên dịch"),
    ("supports", "legal_support"): ("Legal support", "Hỗ trợ pháp lý"),
    ("supports", "legal_aid"): ("Legal aid", "Trợ giúp pháp lý"),
    ("supports", "travel"): ("Travel", "Hỗ trợ chi phí đi lại"),
    ("supports", "psychological"): ("Psychological support", "Hỗ trợ tâm lý"),
    ("supports", "schooling"): ("Schooling", "Hỗ trợ học văn hóa"),
    ("supports", "vocational"): ("Vocational training", "Hỗ trợ học nghề"),
    ("supports", "initial_allowance"): ("Initial hardship allowance", "Trợ cấp khó khăn ban đầu"),
    ("supports", "loan"): ("Loan", "Hỗ trợ vay vốn"),
    ("supports", "health_insurance"): ("Health insurance", "Bảo hiểm y tế"),
}

# Column headers of the files: (English, Vietnamese).
COLUMNS: dict[str, tuple[str, str]] = {
    "section": ("Section", "Mục"),
    "key": ("Key", "Mã"),
    "label": ("Item", "Nội dung"),
    "count": ("Count", "Số lượng"),
    "amount_vnd": ("Amount (VND)", "Số tiền (đồng)"),
    "hotspot": ("Hotspot", "Địa bàn trọng điểm"),
    "numerator": ("Numerator", "Tử số"),
    "denominator": ("Denominator", "Mẫu số"),
    "percent": ("Achieved (%)", "Tỷ lệ đạt (%)"),
    "target_percent": ("Target (%)", "Chỉ tiêu (%)"),
    "value": ("Value", "Giá trị"),
    "yes": ("yes", "có"),
}


def pick(pair: tuple[str, str], language: Language) -> str:
    return pair[0] if language == "en" else pair[1]


def part(section: str, key: str, language: Language, fallback: str | None = None) -> str:
    """The label of part `key` of `section` (exploitation forms share the `form` labels)."""
    for where in (section, "form" if section.startswith("exploitation") else "", "*"):
        found = PARTS.get((where, key))
        if found:
            return pick(found, language)
    return fallback if fallback is not None else key


def title(section: str, language: Language) -> str:
    found = TITLES.get(section)
    return pick((found[0], found[1]), language) if found else section


def sheet(section: str, language: Language) -> str:
    found = TITLES.get(section)
    if found:
        return pick((found[2], found[3]), language)
    return pick(SHEETS.get(section, (section, section)), language)


def column(name: str, language: Language) -> str:
    return pick(COLUMNS[name], language)


def headline(name: str, language: Language) -> str:
    return pick(HEADLINE[name], language)
