"""The metadata strippers: what goes, what stays, what is refused."""

from __future__ import annotations

import zlib

import pytest

from app.services.image_metadata import (
    ImageFormatError,
    sniff_media_type,
    strip_jpeg,
    strip_metadata,
    strip_png,
)
from tests.vault.images import CANARY, PNG_PIXELS, SCAN, jpeg, png, png_chunk_types


def test_jpeg_loses_metadata_keeps_image_data() -> None:
    original = jpeg(trailing=b"appended " + CANARY)
    stripped = strip_jpeg(original)
    assert CANARY not in stripped
    assert b"Exif" not in stripped and b"xmpmeta" not in stripped and b"Photoshop" not in stripped
    assert stripped.startswith(b"\xff\xd8\xff\xe0") and stripped.endswith(b"\xff\xd9")
    assert stripped.count(SCAN) == 2  # both scans, byte for byte
    assert b"ICC_PROFILE" in stripped  # colours stay
    assert b"JFIF" in stripped
    assert strip_jpeg(stripped) == stripped  # idempotent


def test_png_loses_text_exif_and_time_keeps_pixels() -> None:
    stripped = strip_png(png(trailing=CANARY))
    assert CANARY not in stripped and zlib.compress(CANARY) not in stripped
    assert png_chunk_types(stripped) == [b"IHDR", b"pHYs", b"IDAT", b"IEND"]
    assert PNG_PIXELS in stripped
    assert strip_png(stripped) == stripped


def test_sniff_and_dispatch() -> None:
    assert sniff_media_type(jpeg()) == "image/jpeg"
    assert sniff_media_type(png()) == "image/png"
    assert sniff_media_type(b"%PDF-1.7") is None
    with pytest.raises(ImageFormatError):
        strip_metadata("image/png", jpeg())
    assert CANARY not in strip_metadata("image/jpeg", jpeg())


@pytest.mark.parametrize(
    "damaged",
    [
        jpeg()[:-2],  # no EOI
        jpeg()[:40],  # cut inside a segment
        b"\xff\xd8\xff\xe1\x00\x01",  # impossible length
        b"\xff\xd8\x00\x00",  # not a marker
        b"\xff\xd8\xff\xd8\xff\xd9",  # SOI twice
    ],
)
def test_damaged_jpeg_is_refused(damaged: bytes) -> None:
    with pytest.raises(ImageFormatError) as caught:
        strip_jpeg(damaged)
    assert "CANARY" not in str(caught.value)


@pytest.mark.parametrize(
    "damaged",
    [
        png()[:-12],  # no IEND
        png()[:20],
        png().replace(b"IHDR", b"IHDX", 1),  # wrong CRC
        b"\x89PNG\r\n\x1a\n" + png()[8 + 25 :],  # IHDR missing
    ],
)
def test_damaged_png_is_refused(damaged: bytes) -> None:
    with pytest.raises(ImageFormatError):
        strip_png(damaged)
