"""Masked forms of identity fields, for readers who may not (or did not ask to) reveal.

Every masker passes `None` and the crypto-shredding placeholder `"[erased]"` through
unchanged, so a reader can tell "absent" and "erased" from "hidden".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime

__all__ = [
    "ERASED",
    "MASKERS",
    "mask_birth_date",
    "mask_identifier",
    "mask_name",
    "mask_text",
]

ERASED = "[erased]"
STAR = "*"
# API.md's example "Nguyễn Văn An" → "Ng*** V** A*" caps stars at three: past three
# the star count would tell the word's length, which narrows the name.
MAX_STARS = 3
_SHOWN_TAIL = 4
# Shorter identifiers show nothing: four visible characters of a six-character value
# would leave two to guess.
_MIN_LENGTH_FOR_TAIL = 8
_YEAR = re.compile(r"(\d{4})(?:-\d{2}(?:-\d{2})?)?")


def mask_name(value: str | None) -> str | None:
    """Each word keeps its first letter and the rest becomes stars (one to three); the
    first word keeps two letters when it is longer than three ("Ng*** V** A*")."""
    if value is None or value == ERASED:
        return value
    words = unicodedata.normalize("NFC", value).split()
    if not words:
        return STAR
    masked = []
    for position, word in enumerate(words):
        kept = 2 if position == 0 and len(word) > 3 else 1
        stars = min(max(len(word) - kept, 1), MAX_STARS)
        masked.append(word[:kept] + STAR * stars)
    return " ".join(masked)


def mask_identifier(value: str | None) -> str | None:
    """National ID, passport or phone: four stars and the last four letters or digits
    ("****5678"); separators and '+' are not counted, and values under eight
    characters show only "****"."""
    if value is None or value == ERASED:
        return value
    characters = [ch for ch in value if ch.isalnum()]
    if len(characters) < _MIN_LENGTH_FOR_TAIL:
        return STAR * 4
    return STAR * 4 + "".join(characters[-_SHOWN_TAIL:])


def mask_birth_date(value: date | str | None) -> str | None:
    """The year only ("1998"); a value that is not a date or year shows "****"."""
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return f"{value.year:04d}"
    if value == ERASED:
        return value
    match = _YEAR.fullmatch(value.strip())
    return match.group(1) if match else STAR * 4


def mask_text(value: str | None) -> str | None:
    """Free text (address, statements): nothing shown, not even its length."""
    if value is None or value == ERASED:
        return value
    return STAR * 3


MASKERS: dict[str, Callable[..., str | None]] = {
    "full_name": mask_name,
    "other_names": mask_name,
    "national_id": mask_identifier,
    "phone": mask_identifier,
    "date_of_birth": mask_birth_date,
    "address": mask_text,
}
