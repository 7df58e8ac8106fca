"""Normalisers: the spellings that must meet, and idempotence of every normaliser."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.security.normalize import name_folded, name_nfc_casefold, national_id, phone_e164

HOA_NFC = unicodedata.normalize("NFC", "Nguyễn Thị Hoà")
HOA_NFD = unicodedata.normalize("NFD", "Nguyễn Thị Hoà")


@pytest.mark.parametrize(
    "spelling",
    [
        "Nguyễn Thị Hoà",  # tone mark on the a (new style)
        "Nguyễn Thị Hòa",  # tone mark on the o (old style)
        HOA_NFD,
        "NGUYỄN  THỊ HOÀ",
        "  nguyễn\tthị\u00a0hoà ",
        "nguyen thi hoa",
        "Nguyễn\u200b Thị Hoà",  # a zero-width space pasted from a document
        "ＮＧＵＹＥＮ ＴＨＩ ＨＯＡ",  # full-width
    ],
)
def test_folded_names_meet(spelling: str) -> None:
    assert name_folded(spelling) == "nguyen thi hoa"


@pytest.mark.parametrize(
    ("spelling", "folded"),
    [
        ("ĐẶNG", "dang"),
        ("đặng", "dang"),
        ("Ðặng", "dang"),  # U+00D0 ETH, a legacy-keyboard stand-in for Đ
        ("Trần Đức Thắng", "tran duc thang"),
        ("Lê Thị Ánh Tuyết", "le thi anh tuyet"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_folding_table(spelling: str, folded: str) -> None:
    assert name_folded(spelling) == folded


def test_nfc_casefold_keeps_diacritics_but_not_case_form_or_spacing() -> None:
    assert name_nfc_casefold(HOA_NFD) == name_nfc_casefold(HOA_NFC) == "nguyễn thị hoà"
    assert name_nfc_casefold("  NGUYỄN   THỊ  HOÀ ") == "nguyễn thị hoà"
    assert name_nfc_casefold("ĐẶNG") == name_nfc_casefold("đặng") == "đặng"
    assert unicodedata.is_normalized("NFC", name_nfc_casefold(HOA_NFD))
    # Tone-mark placement is a different code point sequence, not a case or form.
    assert name_nfc_casefold("Hòa") != name_nfc_casefold("Hoà")
    assert name_nfc_casefold("Hòa") != name_nfc_casefold("Hoa")


def test_folding_keeps_marks_of_non_latin_scripts() -> None:
    lao = "ສົມພອນ"
    assert name_folded(lao) == unicodedata.normalize("NFC", lao)
    assert name_folded("Йосип") != name_folded("Иосип")


@pytest.mark.parametrize(
    "spelling",
    [
        "0912 345 678",
        "0912345678",
        "+84 912345678",
        "+84912345678",
        "84912345678",
        "(+84) 91-234-5678",
        "+84 (0) 912 345 678",
        "+840912345678",
        "0084 912 345 678",
        "091.234.5678",
        "912345678",
        "０９１２３４５６７８",
    ],
)
def test_vietnamese_phone_spellings_meet(spelling: str) -> None:
    assert phone_e164(spelling) == "+84912345678"


@pytest.mark.parametrize(
    ("spelling", "e164"),
    [
        ("01681234567", "+84381234567"),  # Viettel 0168 became 038 in 2018
        ("+84 168 123 4567", "+84381234567"),
        ("0123 456 7890", "+84834567890"),  # VinaPhone 0123 became 083
        ("024 3942 1234", "+842439421234"),  # Hà Nội landline
        ("+1 (555) 123-4567", "+15551234567"),
        ("0086 138 1234 5678", "+8613812345678"),
        ("+856 20 5512 3456", "+8562055123456"),  # Laos
    ],
)
def test_phone_table(spelling: str, e164: str) -> None:
    assert phone_e164(spelling) == e164


@pytest.mark.parametrize(
    "garbage",
    ["", "   ", "abc", "0912 345 67x", "12345", "+0 123 456 789", "+12", "0912", "+84 12345",
     "13812345678", "0912345678 ext 12", "+84 112 345 678"],
)  # fmt: skip
def test_phone_garbage_is_value_error_without_the_value(garbage: str) -> None:
    with pytest.raises(ValueError) as caught:
        phone_e164(garbage)
    assert garbage.strip() == "" or garbage not in str(caught.value)


@pytest.mark.parametrize(
    ("spelling", "normal"),
    [
        ("001234567890", "001234567890"),  # CCCD keeps the province's leading zeros
        ("001 234 567 890", "001234567890"),
        ("001-234-567-890", "001234567890"),
        ("０１２３４５６７８", "012345678"),  # CMND, full-width digits
        ("c1234567", "C1234567"),  # passport
        (" C 123.4567 ", "C1234567"),
    ],
)
def test_national_id_table(spelling: str, normal: str) -> None:
    assert national_id(spelling) == normal


@pytest.mark.parametrize("garbage", ["", "12345", "0012#34567", "Đ1234567", "1" * 21, "ABC ?"])
def test_national_id_garbage_is_value_error(garbage: str) -> None:
    with pytest.raises(ValueError) as caught:
        national_id(garbage)
    assert garbage == "" or garbage not in str(caught.value)


@given(st.text())
def test_name_nfc_casefold_is_idempotent(text: str) -> None:
    once = name_nfc_casefold(text)
    assert name_nfc_casefold(once) == once


@given(st.text())
def test_name_folded_is_idempotent(text: str) -> None:
    once = name_folded(text)
    assert name_folded(once) == once


_VN_NAME_PARTS = st.sampled_from(
    ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Đặng", "Bùi", "Thị", "Văn", "Hòa",
     "Hoà", "Thủy", "Thuỷ", "Ngọc", "Đức", "Quỳnh", "Ánh"]
)  # fmt: skip


@given(st.lists(_VN_NAME_PARTS, min_size=1, max_size=5), st.sampled_from(["NFC", "NFD"]))
def test_vietnamese_names_fold_to_ascii_whatever_the_form(parts: list[str], form: str) -> None:
    name = unicodedata.normalize(form, " ".join(parts))  # type: ignore[arg-type]
    folded = name_folded(name)
    assert folded.isascii()
    assert folded == name_folded(name.upper()) == name_folded(f"  {name}  ")


_SEPARATORS = st.sampled_from(["", " ", "-", ".", "  "])


@given(st.lists(st.tuples(st.sampled_from("0123456789"), _SEPARATORS), min_size=0, max_size=16))
def test_phone_is_idempotent_on_digit_strings(chars: list[tuple[str, str]]) -> None:
    _assert_idempotent(phone_e164, "".join(d + s for d, s in chars))


@given(st.text(alphabet="+0123456789 -().", max_size=24))
def test_phone_is_idempotent_on_phone_like_text(text: str) -> None:
    _assert_idempotent(phone_e164, text)


@given(st.text())
def test_phone_is_idempotent_on_any_text(text: str) -> None:
    _assert_idempotent(phone_e164, text)


@given(st.text(alphabet="0123456789abcxyzABC -./", max_size=26))
def test_national_id_is_idempotent_on_id_like_text(text: str) -> None:
    _assert_idempotent(national_id, text)


@given(st.text())
def test_national_id_is_idempotent_on_any_text(text: str) -> None:
    _assert_idempotent(national_id, text)


def _assert_idempotent(normalise: Callable[[str], str], value: str) -> None:
    try:
        once = normalise(value)
    except ValueError:
        return
    assert normalise(once) == once
