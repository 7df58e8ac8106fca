"""Normalisers: the canonical form a value takes before it is blind-indexed.

Two spellings that a person would call the same must normalise to the same string,
or a search or duplicate check misses. Every normaliser is idempotent
(`f(f(x)) == f(x)`), and errors never repeat the value.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["name_folded", "name_nfc_casefold", "national_id", "phone_e164"]

_ID_SEPARATORS = re.compile(r"[\s\-./_]+")
_ID_SHAPE = re.compile(r"[0-9A-Z]{6,20}")
_PHONE_SEPARATORS = re.compile(r"[\s\-./()]+")
_DIGITS = re.compile(r"[0-9]+")

# Mobile prefixes renumbered from 11 to 10 digits in 2018 (Ministry of Information and
# Communications plan): people still give the old number, and it must match the new.
_VN_LEGACY_MOBILE = {
    "162": "32", "163": "33", "164": "34", "165": "35", "166": "36", "167": "37",
    "168": "38", "169": "39",  # Viettel
    "120": "70", "121": "79", "122": "77", "126": "76", "128": "78",  # MobiFone
    "123": "83", "124": "84", "125": "85", "127": "81", "129": "82",  # VinaPhone
    "186": "56", "188": "58",  # Vietnamobile
    "199": "59",  # Gmobile
}  # fmt: skip
_VN_MOBILE_LEADS = frozenset("35789")


def national_id(value: str) -> str:
    """CCCD, CMND or passport number: ASCII digits and letters, letters upper-cased.

    Spaces, '-', '.', '/' and '_' are dropped; full-width forms fold to ASCII (NFKC).
    Leading zeros are kept (a CCCD begins with a province code such as 001). The result
    is 6 to 20 characters: CCCD 12 digits, CMND 9, a Vietnamese passport one letter and
    7 digits (C1234567), foreign passports up to 20. Anything else is `ValueError`.
    """
    folded = _ID_SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()
    if not _ID_SHAPE.fullmatch(folded):
        raise ValueError("not a recognisable identity document number")
    return folded


def phone_e164(value: str) -> str:
    """A phone number in E.164 (`+84912345678`).

    Vietnamese forms: a national number with its leading 0 (`0912 345 678`), with the
    country code with or without '+' or '00' (`+84 912345678`, `84912345678`,
    `(+84) 91-234-5678`, `+84 (0) 912…`), or a bare 9-digit mobile number whose leading
    0 was dropped (`912345678`). Pre-2018 11-digit mobile numbers (`0168…`) map to their
    current 10-digit form. Other countries need '+' or '00' and keep their digits.
    Separators (spaces, '-', '.', '/', parentheses) are ignored; anything else is
    `ValueError`.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    text = text.replace("(0)", "")  # the "+84 (0) 912…" trunk-prefix notation
    text = _PHONE_SEPARATORS.sub("", text)
    if text.startswith("+"):
        international, digits = True, text[1:]
    elif text.startswith("00"):
        international, digits = True, text[2:]
    else:
        international, digits = False, text
    if not _DIGITS.fullmatch(digits):
        raise ValueError("not a recognisable phone number")

    if digits.startswith("84") and (international or len(digits) in (11, 12)):
        return _vietnamese(digits[2:])
    if international:
        if digits[0] == "0" or not 7 <= len(digits) <= 15:
            raise ValueError("not a recognisable phone number")
        return "+" + digits
    if digits[0] == "0":
        return _vietnamese(digits[1:])
    if len(digits) == 9 and digits[0] in _VN_MOBILE_LEADS:
        return _vietnamese(digits)
    raise ValueError("not a recognisable phone number")


def _vietnamese(national: str) -> str:
    """+84 and the national significant number: 9 digits (mobile) or 10 (landline)."""
    national = national.removeprefix("0")  # "+84 0912…": the trunk 0 written anyway
    if len(national) == 10 and national[:3] in _VN_LEGACY_MOBILE:
        national = _VN_LEGACY_MOBILE[national[:3]] + national[3:]
    if len(national) == 9 and national[0] in _VN_MOBILE_LEADS:
        return "+84" + national
    if len(national) == 10 and national[0] == "2":
        return "+84" + national
    raise ValueError("not a recognisable Vietnamese phone number")


def name_nfc_casefold(value: str) -> str:
    """A name compared without regard to case, Unicode encoding form or spacing.

    NFD → casefold → NFC (Unicode's canonical caseless match, D145), control and
    invisible format characters (zero-width space, BOM) removed, and any run of
    whitespace made one space with none at either end. Diacritics are kept: "Hòa" and
    "Hoa" stay different. An empty result is returned as "" (callers reject it).
    """
    text = unicodedata.normalize("NFD", value).casefold()
    # Tabs and newlines are Cc too: keep them as spaces, drop the rest.
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf")
    )
    return " ".join(unicodedata.normalize("NFC", text).split())


def name_folded(value: str) -> str:
    """A name as people match it by ear: `name_nfc_casefold`, then compatibility forms
    folded (NFKD: full-width letters, ligatures), diacritics removed from Latin letters,
    and 'đ' made 'd' (also 'ð', which legacy Vietnamese keyboards and encodings produce
    for 'đ'). "Nguyễn Thị Hoà", "NGUYỄN  THỊ HÒA" and "nguyen thi hoa" all give
    "nguyen thi hoa".

    Marks on other scripts stay: in Lao, Khmer, Thai or Cyrillic they tell letters and
    vowels apart rather than decorate them, and foreign victims' names use them.
    """
    text = unicodedata.normalize("NFKD", name_nfc_casefold(value)).casefold()
    kept: list[str] = []
    on_latin = False
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) == "Mn":
            if on_latin:
                continue
        else:
            on_latin = _is_latin(ch)
        kept.append(ch)
    text = "".join(kept).replace("đ", "d").replace("ð", "d")
    return " ".join(unicodedata.normalize("NFC", text).split())


@functools.lru_cache(maxsize=4096)
def _is_latin(ch: str) -> bool:
    return "LATIN" in unicodedata.name(ch, "")
