"""Tiny JPEG and PNG files built byte by byte, with metadata holding a canary."""

from __future__ import annotations

import struct
import zlib

CANARY = b"CANARY-GPS-21.0285N-105.8542E-Nguyen-Thi-Hoa"
# Pixel data of the test JPEG: kept byte for byte. Includes a stuffed 0xFF00 and a
# restart marker, which the stripper must copy and not mistake for segment markers.
SCAN = b"\x12\x34\xff\x00\x56PIXELS\xff\xd0\x78\x9a" * 4


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(*, trailing: bytes = b"") -> bytes:
    """SOI, APP0 JFIF, APP1 Exif, APP1 XMP, APP2 ICC, APP13 IPTC, COM, DQT, SOF0, DHT,
    SOS + scan, a second scan (progressive), EOI; metadata segments carry CANARY."""
    parts = [
        b"\xff\xd8",
        _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        _segment(0xE1, b"Exif\x00\x00MM\x00*" + CANARY),
        _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + CANARY + b"</x>"),
        _segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + b"\x00" * 16),
        _segment(0xE2, b"MPF\x00" + CANARY),
        _segment(0xED, b"Photoshop 3.0\x008BIM" + CANARY),
        _segment(0xFE, b"comment " + CANARY),
        _segment(0xDB, b"\x00" + bytes(range(64))),
        _segment(0xC2, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00"),
        _segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00"),
        _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        SCAN,
        _segment(0xC4, b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00"),
        _segment(0xDA, b"\x01\x01\x00\x01\x3f\x00"),
        SCAN,
        b"\xff\xd9",
        trailing,
    ]
    return b"".join(parts)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG_PIXELS = zlib.compress(b"\x00\xff\x00\x00\xff")  # one red RGBA pixel, filter 0


def png(*, trailing: bytes = b"") -> bytes:
    """A valid 1x1 PNG with tEXt, iTXt, zTXt, eXIf and tIME chunks carrying CANARY."""
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)),
            chunk(b"tEXt", b"Author\x00" + CANARY),
            chunk(b"iTXt", b"Description\x00\x00\x00\x00\x00" + CANARY),
            chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(CANARY)),
            chunk(b"eXIf", b"MM\x00*" + CANARY),
            chunk(b"tIME", b"\x07\xea\x0b\x17\x09\x2d\x00"),
            chunk(b"pHYs", b"\x00\x00\x0b\x13\x00\x00\x0b\x13\x01"),
            chunk(b"IDAT", PNG_PIXELS),
            chunk(b"IEND", b""),
            trailing,
        ]
    )


def png_chunk_types(data: bytes) -> list[bytes]:
    types, i = [], 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        types.append(data[i + 4 : i + 8])
        i += 12 + length
    return types
