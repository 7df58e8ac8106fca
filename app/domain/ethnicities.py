"""Vietnam's 54 ethnic groups (dân tộc), as the General Statistics Office numbers them
(Quyết định 121-TCTK/PPCĐ ngày 02/3/1979, Danh mục các dân tộc Việt Nam: codes 01 to
54, the code the national population database and identity cards carry), plus two
codes of our own: `foreign` (a foreign national, who has none of them) and `unknown`
(not established).

Rules:
- A person's ethnicity is one of these codes; anything else is refused.
- The reports count groups, never the ethnicity: `01` (Kinh) is `kinh`, `02`..`54`
  are `minority`, and `foreign` and `unknown` are groups of their own. The group is
  derived from the code, so a spelling of "Kinh" can no longer count as a minority.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

KINH: Final = "kinh"
MINORITY: Final = "minority"
FOREIGN: Final = "foreign"
UNKNOWN: Final = "unknown"


@dataclass(frozen=True)
class Ethnicity:
    code: str
    name_vi: str
    name_en: str
    group: str


# (code, Vietnamese name as the list writes it, English name), in the list's order.
_GSO_LIST: tuple[tuple[str, str, str], ...] = (
    ("01", "Kinh (Việt)", "Kinh (Viet)"),
    ("02", "Tày", "Tay"),
    ("03", "Thái", "Thai"),
    ("04", "Hoa (Hán)", "Hoa (Chinese)"),
    ("05", "Khơ-me", "Khmer"),
    ("06", "Mường", "Muong"),
    ("07", "Nùng", "Nung"),
    ("08", "HMông (Mèo)", "Hmong"),
    ("09", "Dao", "Dao (Yao)"),
    ("10", "Gia-rai", "Jarai"),
    ("11", "Ngái", "Ngai"),
    ("12", "Ê-đê", "Ede (Rhade)"),
    ("13", "Ba-na", "Bahnar"),
    ("14", "Xơ-đăng", "Sedang"),
    ("15", "Sán Chay", "San Chay"),
    ("16", "Cơ-ho", "Koho"),
    ("17", "Chăm", "Cham"),
    ("18", "Sán Dìu", "San Diu"),
    ("19", "Hrê", "Hre"),
    ("20", "Mnông", "Mnong"),
    ("21", "Ra-glai", "Raglai"),
    ("22", "Xtiêng", "Stieng"),
    ("23", "Bru-Vân Kiều", "Bru-Van Kieu"),
    ("24", "Thổ", "Tho"),
    ("25", "Giáy", "Giay"),
    ("26", "Cơ-tu", "Katu"),
    ("27", "Gié-Triêng", "Gie-Trieng"),
    ("28", "Mạ", "Ma"),
    ("29", "Khơ-mú", "Khmu"),
    ("30", "Co", "Cor"),
    ("31", "Tà-ôi", "Ta Oi"),
    ("32", "Chơ-ro", "Cho Ro"),
    ("33", "Kháng", "Khang"),
    ("34", "Xinh-mun", "Xinh Mun"),
    ("35", "Hà Nhì", "Ha Nhi"),
    ("36", "Chu-ru", "Chu Ru"),
    ("37", "Lào", "Lao"),
    ("38", "La Chí", "La Chi"),
    ("39", "La Ha", "La Ha"),
    ("40", "Phù Lá", "Phu La"),
    ("41", "La Hủ", "La Hu"),
    ("42", "Lự", "Lu"),
    ("43", "Lô Lô", "Lo Lo"),
    ("44", "Chứt", "Chut"),
    ("45", "Mảng", "Mang"),
    ("46", "Pà Thẻn", "Pa Then"),
    ("47", "Cơ Lao", "Co Lao"),
    ("48", "Cống", "Cong"),
    ("49", "Bố Y", "Bo Y"),
    ("50", "Si La", "Si La"),
    ("51", "Pu Péo", "Pu Peo"),
    ("52", "Brâu", "Brau"),
    ("53", "Ơ Đu", "O Du"),
    ("54", "Rơ-măm", "Ro Mam"),
)

ETHNICITIES: Final[dict[str, Ethnicity]] = {
    **{
        code: Ethnicity(code, vi, en, KINH if code == "01" else MINORITY)
        for code, vi, en in _GSO_LIST
    },
    FOREIGN: Ethnicity(FOREIGN, "Người nước ngoài", "Foreign national", FOREIGN),
    UNKNOWN: Ethnicity(UNKNOWN, "Chưa xác định", "Not established", UNKNOWN),
}

CODES_DESCRIPTION: Final = (
    "An ethnicity code: 01 to 54, the General Statistics Office's list of Vietnam's "
    "ethnic groups (01 Kinh), or `foreign` or `unknown`; the list with names is "
    "GET /api/v1/reference/ethnicities."
)


def group_of(code: str | None) -> str | None:
    """The reporting group of an ethnicity code (`kinh`, `minority`, `foreign`,
    `unknown`); None when nothing, or no code of the list, was recorded."""
    ethnicity = ETHNICITIES.get(code) if code is not None else None
    return ethnicity.group if ethnicity else None
