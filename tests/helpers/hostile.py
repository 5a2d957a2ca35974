"""Hostile files for the reliability tests: a PNG that declares a huge canvas, a JPEG whose EXIF
GPS time is an infinite double, written byte by byte so the tests need no special tools."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path


def png_declaring(path: Path, width: int = 30000, height: int = 30000) -> Path:
    """A tiny, valid-looking PNG whose header declares `width` x `height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) \
        + chunk(b"IEND", b"")
    path.write_bytes(body)
    return path


def _ifd(entries: list[tuple[int, int, int, bytes]], start: int, next_ifd: int = 0) -> bytes:
    """A little-endian TIFF IFD at offset `start`; values over 4 bytes go after the entries."""
    head = struct.pack("<H", len(entries))
    data_at = start + 2 + 12 * len(entries) + 4
    extra = b""
    for tag, kind, count, value in sorted(entries):
        if len(value) <= 4:
            head += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            head += struct.pack("<HHII", tag, kind, count, data_at + len(extra))
            extra += value
    return head + struct.pack("<I", next_ifd) + extra


def exif_with_infinite_gps_time() -> bytes:
    """EXIF (TIFF body) with a GPS position, a GPS date and a GPS time stored as DOUBLEs with +inf
    hours, and a camera time without an offset (so the reader consults the GPS time)."""
    rational = 5
    ascii_ = 2
    double = 12
    long_ = 4

    def rationals(*values: tuple[int, int]) -> bytes:
        return b"".join(struct.pack("<II", n, d) for n, d in values)

    # layout: header (8) | IFD0 | EXIF IFD | GPS IFD; compute offsets in two passes
    exif_entries = [(0x9003, ascii_, 20, b"2021:07:20 10:05:00\x00")]
    gps_entries = [
        (1, ascii_, 2, b"N\x00"), (2, rational, 3, rationals((34, 1), (42, 1), (0, 1))),
        (3, ascii_, 2, b"E\x00"), (4, rational, 3, rationals((113, 1), (30, 1), (0, 1))),
        (7, double, 3, struct.pack("<ddd", float("inf"), 0.0, 0.0)),
        (29, ascii_, 11, b"2021:07:20\x00"),
    ]
    ifd0_len = len(_ifd([(0x8769, long_, 1, b"\0" * 4), (0x8825, long_, 1, b"\0" * 4)], 8))
    exif_at = 8 + ifd0_len
    exif_ifd = _ifd(exif_entries, exif_at)
    gps_at = exif_at + len(exif_ifd)
    ifd0 = _ifd([(0x8769, long_, 1, struct.pack("<I", exif_at)), (0x8825, long_, 1, struct.pack("<I", gps_at))], 8)
    gps_ifd = _ifd(gps_entries, gps_at)
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd0 + exif_ifd + gps_ifd


def jpeg_with_exif(path: Path, exif: bytes) -> Path:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 200)).save(buf, "JPEG", exif=exif)
    path.write_bytes(buf.getvalue())
    return path
