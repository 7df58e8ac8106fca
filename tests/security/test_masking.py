"""Masked forms shown to readers without reveal rights."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from app.security.masking import (
    ERASED,
    MASKERS,
    mask_birth_date,
    mask_identifier,
    mask_name,
    mask_text,
)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Nguyễn Văn An", "Ng*** V** A*"),  # API.md's example
        (unicodedata.normalize("NFD", "Nguyễn Văn An"), "Ng*** V** A*"),
        ("Lê Thị Hồng Nhung", "L* T** H*** N***"),
        ("Trần Hưng", "Tr** H***"),
        ("Đặng  Thị   Bích", "Đặ** T** B***"),
        ("An", "A*"),
        ("Y", "Y*"),
        ("Kpă Y Vơn", "K** Y* V**"),
        ("  ", "*"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("001234565678", "****5678"),
        ("+84912345678", "****5678"),
        ("0912 345 678", "****5678"),
        ("C1234567", "****4567"),
        ("123456789", "****6789"),
        ("1234567", "****"),
        ("", "****"),
    ],
)
def test_mask_identifier(value: str, masked: str) -> None:
    assert mask_identifier(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [(date(1998, 3, 4), "1998"), ("1998-03-04", "1998"), ("1998", "1998"), ("04/03/1998", "****")],
)
def test_mask_birth_date(value: date | str, masked: str) -> None:
    assert mask_birth_date(value) == masked


@pytest.mark.parametrize("masker", [mask_name, mask_identifier, mask_birth_date, mask_text])
def test_none_and_erased_pass_through(masker: Callable[[Any], str | None]) -> None:
    assert masker(None) is None
    assert masker(ERASED) == "[erased]"


def test_free_text_shows_nothing() -> None:
    assert mask_text("12 Lý Thường Kiệt, Hoàn Kiếm, Hà Nội") == "***"


def test_maskers_cover_identity_fields() -> None:
    assert set(MASKERS) >= {"full_name", "other_names", "national_id", "phone", "date_of_birth"}
    assert MASKERS["phone"]("+84912345678") == "****5678"
