"""Real photos, hostile files and a hostile HTTP server on 127.0.0.1 for the media tests.

Photos are scikit-image's sample photographs encoded by Pillow; the hostile files are built
byte by byte (a PNG that declares a giant canvas, a truncated JPEG, HTML pretending to be a
JPEG). The server runs in a thread of the test process and only ever listens on 127.0.0.1.
"""

from __future__ import annotations

import functools
import gzip
import io
import struct
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image


@functools.cache
def _photo(name: str, size: int | None) -> Image.Image:
    from skimage import data

    img = Image.fromarray(getattr(data, name)()).convert("RGB")
    if size:
        img.thumbnail((size, size))
    return img


def photo(name: str = "astronaut", size: int | None = 192) -> Image.Image:
    """A scikit-image sample photo as RGB, at most `size` px (made once per process; each call
    gets its own copy)."""
    return _photo(name, size).copy()


def jpeg_bytes(img: Image.Image, quality: int = 90, **kwargs) -> bytes:
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=quality, **kwargs)
    return out.getvalue()


def png_bytes(img: Image.Image, **kwargs) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", **kwargs)
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def raw_png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    """A PNG from filtered scanlines (each row starts with its filter byte)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(rows, 9)) + _chunk(b"IEND", b"")


def png_rgb16(width: int = 64, height: int = 48) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one): a red-to-blue ramp."""
    rows = bytearray()
    for _row in range(height):
        rows.append(0)
        for x in range(width):
            r = int(65535 * x / (width - 1))
            rows += struct.pack(">HHH", r, 30000, 65535 - r)
    return raw_png(width, height, 16, 2, bytes(rows))


def png_bomb(side: int) -> bytes:
    """A valid greyscale PNG of side x side black pixels: tiny on disk, side^2 bytes decoded."""
    comp = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header claiming a gigantic canvas followed by a few bytes of data."""
    return raw_png(width, height, 8, 0, b"\x00" * 64)


def exif_jpeg(img: Image.Image, orientation: int = 6, **gps) -> bytes:
    """A JPEG with EXIF orientation, GPS position, altitude, direction and capture time."""
    return jpeg_bytes(img, exif=camera_exif(orientation, **gps))


def phone_photo(img: Image.Image, fmt: str, orientation: int = 1, **gps) -> bytes:
    """A HEIF or AVIF photo with the EXIF of `camera_exif`, as phone cameras save them."""
    from mist_qgis.core.images.heif import enable_heif

    assert enable_heif()
    out = io.BytesIO()
    img.save(out, format=fmt, quality=90, exif=camera_exif(orientation, **gps))
    return out.getvalue()


def camera_exif(orientation: int = 6, lat: float = 29.7604, lon: float = -95.3698, direction: float = 135.5,
                when: str = "2024:05:01 14:30:05", offset: str = "-05:00") -> bytes:
    """EXIF orientation, GPS position, altitude, direction and capture time."""
    def dms(value: float):
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60 * 1000)
        return ((d, 1), (m, 1), (s, 1000))

    from PIL import TiffImagePlugin

    def rational(pair):
        return TiffImagePlugin.IFDRational(pair[0], pair[1])

    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x0132] = when
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = when
    sub[0x9011] = offset
    gps = exif.get_ifd(0x8825)
    gps[1] = "N" if lat >= 0 else "S"
    gps[2] = tuple(rational(p) for p in dms(lat))
    gps[3] = "E" if lon >= 0 else "W"
    gps[4] = tuple(rational(p) for p in dms(lon))
    gps[5] = b"\x00"
    gps[6] = rational((125, 10))
    gps[16] = "T"
    gps[17] = rational((int(direction * 100), 100))
    return exif.tobytes()


def write_video(path: Path, scenes: list[tuple[str, int, int]], size: tuple[int, int] = (160, 120)) -> int:
    """An MJPG .avi made of scenes (photo name, frames, horizontal pan in px per frame).

    A pan of 0 px is a still scene; returns the number of frames written.
    """
    import cv2

    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (width, height))
    assert writer.isOpened()
    total = 0
    for name, frames, pan in scenes:
        big = np.asarray(photo(name, size=None).resize((width * 3, height * 2)))
        for i in range(frames):
            x = min(pan * i, big.shape[1] - width)
            crop = np.ascontiguousarray(big[height // 2: height // 2 + height, x: x + width, ::-1])
            writer.write(crop)
            total += 1
    writer.release()
    return total


class MediaServer:
    """A hostile photo server on 127.0.0.1: `server.url('/good/a.jpg')`, `server.hits[path]`."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str, dict]] = {}
        self.hits: Counter[str] = Counter()
        self.latency = 0.0
        self.fail_first: dict[str, tuple[int, int, str | None]] = {}  # path -> (times, status, Retry-After)
        self._lock = threading.Lock()
        self.stop_event = threading.Event()
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, data: bytes, content_type: str = "image/jpeg", headers: dict | None = None) -> str:
        self.files[path] = (data, content_type, headers or {})
        return self.url(path)

    def __enter__(self) -> MediaServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms to every keep-alive response

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.hits[path] += 1
                    hit = server.hits[path]
                if server.latency:
                    time.sleep(server.latency)
                if path in server.fail_first:
                    times, status, retry_after = server.fail_first[path]
                    if hit <= times:
                        headers = {"Retry-After": retry_after} if retry_after else {}
                        return self._send(status, b"busy", "text/plain", headers)
                if path in server.files:
                    data, ctype, headers = server.files[path]
                    return self._send(200, data, ctype, headers)
                if path.startswith("/redirect/"):
                    target = self.path.split("?to=", 1)[1]
                    return self._send(302, b"", "text/plain", {"Location": target})
                if path == "/loop":
                    return self._send(302, b"", "text/plain", {"Location": "/loop"})
                if path == "/slow.jpg":
                    server.stop_event.wait(3.0)
                    return self._send(200, b"late", "image/jpeg")
                if path == "/trickle.jpg":
                    return self._trickle()
                if path == "/endless.jpg":
                    return self._endless()
                if path == "/declares-huge.jpg":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(10**12))
                    self.end_headers()
                    return None
                return self._send(404, b"not found", "text/plain")

            def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _trickle(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    while not server.stop_event.wait(0.05):
                        self.wfile.write(b"\xff")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def _endless(self) -> None:
                """A body with no length that never ends; counts what it managed to send."""
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Connection", "close")
                self.end_headers()
                block = b"\xff\xd8" + b"\x00" * 65534
                try:
                    while not server.stop_event.is_set():
                        self.wfile.write(block)
                        with server._lock:
                            server.hits["/endless.jpg#bytes"] += len(block)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        return Handler


def gzip_body(data: bytes) -> bytes:
    return gzip.compress(data)
