"""Metadata stripping for photos and scans, before they are encrypted.

A phone photo carries EXIF: GPS position (a shelter's location), time, the camera's
serial number, sometimes the owner's name; PNG text chunks carry whatever the editing
tool wrote. Readers with the right to see the document should see the image only.

The strippers parse the container, not the pixels, and copy the image data byte for
byte, so the picture is unchanged:
- JPEG: drop APP1 (Exif, XMP), APP13 (Photoshop/IPTC), COM, and every other APPn
  segment except APP0 (JFIF), APP2 ICC_PROFILE (colours) and APP14 Adobe (colour
  transform); stop at EOI (trailing bytes, where some phones append data, go too).
- PNG: drop eXIf, tEXt, iTXt, zTXt and tIME; stop at IEND; every chunk's CRC must
  be correct.
A file that does not parse is refused (`ImageFormatError`): a half-understood file
could hide metadata where the parser did not look.
"""

from __future__ import annotations

import zlib

from app.i18n import msg

__all__ = [
    "ImageFormatError",
    "sniff_media_type",
    "strip_jpeg",
    "strip_metadata",
    "strip_png",
]

JPEG = "image/jpeg"
PNG = "image/png"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DROPPED = frozenset({b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"})
_PNG_MAX_CHUNK = 2**31 - 1

_SOI, _EOI, _SOS, _COM = 0xD8, 0xD9, 0xDA, 0xFE
_APP0, _APP2, _APP14 = 0xE0, 0xE2, 0xEE
# Markers without a length field: TEM and the restart markers RST0-RST7.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


class ImageFormatError(ValueError):
    """The content is not a well-formed image of the declared type (no value quoted)."""


def sniff_media_type(content: bytes) -> str | None:
    """The media type the content's signature says, if it is one we handle."""
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(_PNG_SIGNATURE):
        return PNG
    return None


def strip_metadata(media_type: str, content: bytes) -> bytes:
    """`content` without metadata; its signature must match `media_type`."""
    if sniff_media_type(content) != media_type:
        raise ImageFormatError(msg("the content is not a {media_type} file", media_type=media_type))
    return strip_jpeg(content) if media_type == JPEG else strip_png(content)


def _keep_jpeg_segment(marker: int, payload: bytes) -> bool:
    if marker == _COM:
        return False
    if 0xE0 <= marker <= 0xEF:
        if marker == _APP0:
            return True
        if marker == _APP2:
            return payload.startswith(b"ICC_PROFILE\x00")
        if marker == _APP14:
            return payload.startswith(b"Adobe")
        return False
    return True


def strip_jpeg(data: bytes) -> bytes:
    """A JPEG without its metadata segments (see the module docstring)."""
    if not data.startswith(b"\xff\xd8"):
        raise ImageFormatError("not a JPEG file")
    out = bytearray(b"\xff\xd8")
    i, n = 2, len(data)
    while True:
        if i >= n or data[i] != 0xFF:
            raise ImageFormatError("JPEG structure is damaged or truncated")
        while i < n and data[i] == 0xFF:  # fill bytes before a marker
            i += 1
        if i >= n:
            raise ImageFormatError("JPEG ends inside a marker")
        marker = data[i]
        i += 1
        if marker == _EOI:
            out += b"\xff\xd9"
            return bytes(out)
        if marker in _STANDALONE:
            out += bytes((0xFF, marker))
            continue
        if marker in (0x00, _SOI):
            raise ImageFormatError("JPEG has a misplaced marker")
        if i + 2 > n:
            raise ImageFormatError("JPEG ends inside a segment header")
        length = int.from_bytes(data[i : i + 2], "big")
        end = i + length
        if length < 2 or end > n:
            raise ImageFormatError("JPEG segment length runs past the end")
        if _keep_jpeg_segment(marker, data[i + 2 : end]):
            out += bytes((0xFF, marker))
            out += data[i:end]
        i = end
        if marker == _SOS:
            scan_end = _entropy_coded_end(data, i)
            out += data[i:scan_end]
            i = scan_end


def _entropy_coded_end(data: bytes, start: int) -> int:
    """Where the entropy-coded data after SOS ends: the next 0xFF that begins a real
    marker (not a stuffed 0xFF00, a restart marker, or a fill byte)."""
    j, n = start, len(data)
    while True:
        k = data.find(b"\xff", j)
        if k < 0 or k + 1 >= n:
            raise ImageFormatError("JPEG scan data is truncated")
        following = data[k + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            j = k + 1 if following == 0xFF else k + 2
            continue
        return k


def strip_png(data: bytes) -> bytes:
    """A PNG without its text, EXIF and time chunks (see the module docstring)."""
    if not data.startswith(_PNG_SIGNATURE):
        raise ImageFormatError("not a PNG file")
    out = bytearray(_PNG_SIGNATURE)
    i, n = len(_PNG_SIGNATURE), len(data)
    first = True
    while True:
        if i + 12 > n:
            raise ImageFormatError("PNG is truncated (no IEND chunk)")
        length = int.from_bytes(data[i : i + 4], "big")
        chunk_type = data[i + 4 : i + 8]
        end = i + 12 + length
        if length > _PNG_MAX_CHUNK or end > n:
            raise ImageFormatError("PNG chunk length runs past the end")
        if not chunk_type.isalpha():
            raise ImageFormatError("PNG chunk type is malformed")
        crc = int.from_bytes(data[end - 4 : end], "big")
        if zlib.crc32(data[i + 4 : end - 4]) != crc:
            raise ImageFormatError("PNG chunk checksum is wrong")
        if first and chunk_type != b"IHDR":
            raise ImageFormatError("PNG does not start with IHDR")
        first = False
        if chunk_type not in _PNG_DROPPED:
            out += data[i:end]
        i = end
        if chunk_type == b"IEND":
            return bytes(out)
