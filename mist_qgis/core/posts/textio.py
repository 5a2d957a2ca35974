"""Reading hostile text files as streams: encoding and BOM sniffing, binary detection, JSON values
and delimited rows with line numbers, without ever holding the whole file in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .issues import NotAPostCollection, Note, Skip

SAMPLE_BYTES = 64 * 1024
MAX_LINE_BYTES = 64 << 20  # one JSON-lines record or one CSV line; longer ones are skipped unread
OVERLONG = b"\x00overlong"  # identity marker for such a line
CHUNK_CHARS = 1 << 20
MAX_RESYNC_CHARS = 64 << 20
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
MAGIC = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (or an Office file)"),
    (b"\x1f\x8b", "a gzip archive"), (b"SQLite format 3\x00", "an SQLite database or GeoPackage"),
    (b"\x7fELF", "a program"), (b"MZ", "a program"), (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ", "an xz archive"), (b"7z\xbc\xaf", "a 7-Zip archive"), (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"), (b"RIFF", "a RIFF media file"),
)
_CONTROL = bytes(c for c in range(32) if c not in (9, 10, 12, 13, 27, 30))


@dataclass
class Sniff:
    """What the first bytes of a file say: encoding, BOM, and why it is not text if it is not."""

    path: Path
    size: int
    sample: bytes
    encoding: str = "utf-8"
    bom: bytes = b""
    binary: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The decoded sample (a trailing partial character is dropped)."""
        # UTF-16/32 decoders read their byte order from the BOM; the others must not see it
        if self.encoding in ("utf-16", "utf-32"):  # their decoders read the byte order from the BOM
            return codecs.getincrementaldecoder(self.encoding)(errors="replace").decode(self.sample, final=False)
        body = self.sample[len(self.bom):]
        cut = body.rfind(b"\n") + 1  # whole lines one by one; the cut-off last one incrementally
        lines = [decode_line(line, self.encoding)[0] for line in body[:cut].splitlines(keepends=True)]
        return "".join(lines) + codecs.getincrementaldecoder("utf-8")(errors="replace").decode(body[cut:])

    @property
    def empty(self) -> bool:
        return not self.text.strip(" \t\r\n\x1e\ufeff")


def sniff(path: Path) -> Sniff:
    """Look at the first 64 KiB: BOM, binary magic or control bytes, UTF-8 or a legacy encoding."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    result = Sniff(path, size, sample)
    for bom, encoding in BOMS:
        if sample.startswith(bom):
            result.bom, result.encoding = bom, encoding
            if encoding != "utf-8":
                return result
            break
    for magic, what in MAGIC:
        if sample.startswith(magic):
            result.binary = what
            return result
    body = sample[len(result.bom):]
    # A few control bytes are a bad record in a text file; many are a binary file.
    if body and (body.count(b"\x00") + sum(body.count(bytes([c])) for c in _CONTROL)) * 50 > len(body):
        result.binary = "binary data (control bytes), not text"
        return result
    if not result.bom and not _decodes(body, "utf-8"):
        legacy = _legacy_encoding(body)
        if legacy:
            result.encoding = legacy
            result.notes.append(f"not UTF-8: lines that are not UTF-8 are decoded as {legacy.upper()}")
    return result


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _legacy_encoding(body: bytes) -> str | None:
    """GB18030 when the non-ASCII text reads as Chinese, else Windows-1252; None if neither fits.

    Only a file whose sample is consistently legacy-encoded is re-decoded; a UTF-8 file with a few
    bad lines stays UTF-8 and those lines are reported."""
    sample = body[: SAMPLE_BYTES - 4]
    try:
        text = sample.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        wide = [c for c in text if ord(c) > 127]
        cjk = sum(1 for c in wide if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f"
                  or "\uff00" <= c <= "\uffef")
        high = sum(1 for b in sample if b > 127)
        # Chinese takes two high bytes per character; Windows-1252 accents read as GB18030 pair a
        # high byte with the ASCII letter after it ("ó" + "n"), so only about one
        if wide and cjk >= 0.8 * len(wide) and high >= 1.6 * len(wide):
            return "gb18030"
    if _decodes(sample, "utf-8"):
        return None
    # Mostly valid UTF-8 with a few bad lines: keep UTF-8 and report those lines.
    lines = sample.split(b"\n")[:-1] or [sample]
    good = sum(1 for line in lines if _decodes(line, "utf-8"))
    if good >= len(lines) / 2 and any(b > 127 for line in lines if _decodes(line, "utf-8") for b in line):
        return None
    if _decodes(sample, "cp1252"):
        return "cp1252"
    return None


def require_text(info: Sniff) -> None:
    """Raise NotAPostCollection for empty or binary files, with a reason an analyst understands."""
    if info.size == 0:
        raise NotAPostCollection(f"{info.path.name} is empty (0 bytes)")
    if info.binary:
        raise NotAPostCollection(f"{info.path.name} is {info.binary}, not a post collection")
    if info.empty:
        raise NotAPostCollection(f"{info.path.name} holds no records ({info.size} bytes of whitespace or BOM)")


class Source:
    """An open input file with a byte position for progress."""

    def __init__(self, path: Path, info: Sniff) -> None:
        self.path = path
        self.name = str(path)
        self.info = info
        self.raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 (closed by close())

    def fraction(self) -> float:
        try:
            return min(1.0, self.raw.tell() / self.info.size) if self.info.size else 1.0
        except (OSError, ValueError):
            return 1.0

    def close(self) -> None:
        self.raw.close()

    def byte_lines(self, limit: int | None = None) -> Iterator[bytes]:
        """Raw lines, BOM removed; UTF-16/32 files are re-encoded to UTF-8 lines on the way.

        With `limit`, a line longer than that is not held in memory: it comes out as OVERLONG.
        """
        if self.info.encoding in ("utf-16", "utf-32"):
            text = io.TextIOWrapper(self.raw, encoding=self.info.encoding, errors="replace", newline="")
            for line in text:
                yield line.encode("utf-8") if limit is None or len(line) < limit else OVERLONG
            return
        readline = self.raw.readline
        cap = limit or -1
        line = readline(cap)
        if self.info.bom and line.startswith(self.info.bom):
            line = line[len(self.info.bom):]
        while line:
            if limit is not None and len(line) >= limit and not line.endswith(b"\n"):
                while line and not line.endswith(b"\n"):  # skip the rest of the line
                    line = readline(limit)
                yield OVERLONG
            else:
                yield line
            line = readline(cap)

    @property
    def line_encoding(self) -> str:
        return "utf-8" if self.info.encoding in ("utf-16", "utf-32") else self.info.encoding


def decode_line(raw: bytes, encoding: str) -> tuple[str, str | None]:
    """One line as text, and a note when it needed a fallback. The encoding is decided per line:
    a line that is valid UTF-8 is UTF-8 (text in a legacy encoding almost never is); else the
    file's legacy encoding when the sample showed one; else this line's own guess: UTF-8 with the
    few broken bytes replaced when the line holds real UTF-8 characters, GB18030 when it reads as
    Chinese, Windows-1252 otherwise. One stray byte therefore costs at most its own line's
    accents, never the rest of the file."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    if encoding not in ("utf-8", "utf-16", "utf-32"):
        try:
            return raw.decode(encoding), None
        except UnicodeDecodeError:
            pass
    text = raw.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    if any(ord(c) > 127 and c != "\ufffd" for c in text):
        return text, f"line has {broken} byte(s) that are not UTF-8: replaced by U+FFFD"
    legacy = _legacy_encoding(raw) or "cp1252"
    return raw.decode(legacy, errors="replace"), f"line is not UTF-8: decoded as {legacy.upper()}"


# -- JSON ------------------------------------------------------------------------------------------

def iter_json(src: Source) -> Iterator[tuple[int, Any] | Skip]:
    """Every top-level JSON value of a file as (line, value), or a Skip for a malformed one.

    JSON lines (one value per line, also GeoJSON sequences with RS separators) go line by line;
    anything else (a pretty-printed object, a JSON array, concatenated objects) is streamed through
    an incremental decoder; array elements come out one by one.
    """
    first_line = _first_nonblank_line(src.info)
    if first_line is not None and _is_complete_json(first_line, src.info.encoding):
        yield from _json_lines(src)
    else:
        yield from _json_stream(src)


def _first_nonblank_line(info: Sniff) -> bytes | None:
    body = info.sample[len(info.bom):]
    if info.encoding in ("utf-16", "utf-32"):
        body = info.text.encode("utf-8")
    for line in body.split(b"\n"):
        if line.strip(b" \t\r\x1e"):
            return line
    return None


def _is_complete_json(line: bytes, encoding: str) -> bool:
    text = line.strip(b" \t\r\x1e")
    if not text.startswith(b"{"):
        return False
    try:
        json.loads(text.decode(encoding if encoding not in ("utf-16", "utf-32") else "utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _fast_loads() -> Callable[[str], Any] | None:
    """orjson decodes a tweet about three times faster than the standard library; anything it
    refuses (NaN literals, huge integers, errors) goes through `json` for the exact semantics and
    messages."""
    try:
        import orjson
    except ImportError:
        return None
    return orjson.loads


def _json_lines(src: Source, start: int = 1, limit: int | None = None) -> Iterator[tuple[int, Any] | Skip]:
    """One JSON value per line; `start` numbers the first line (a tailed file goes on counting),
    `limit` is the longest line read (MAX_LINE_BYTES unless given)."""
    limit = limit or MAX_LINE_BYTES
    raw_decode = json.JSONDecoder().raw_decode  # skips json.loads' per-call encoding detection
    loads = json.loads
    fast = _fast_loads()  # reads UTF-8 bytes without a decode; any other line takes the slow path
    encoding = src.line_encoding
    name = src.name
    for number, raw in enumerate(src.byte_lines(limit), start):
        if raw is OVERLONG:
            yield Skip(name, number, f"line longer than {limit >> 20} MiB, not read")
            continue
        if raw[:1] == b"\x1e":
            raw = raw.lstrip(b"\x1e")
        if fast is not None:
            try:
                value = fast(raw)
            except ValueError:
                pass  # the slow path below gives the exact reason
            else:
                yield number, value
                continue
        text, note = decode_line(raw, encoding)
        if note is not None:
            binary = _binary_reason(raw)
            if binary:
                yield Skip(name, number, binary)
                continue
            yield Note(name, number, note)
        if text[-1:] == "\n":
            text = text[:-2] if text[-2:] == "\r\n" else text[:-1]
        try:
            value, end = raw_decode(text)
            if end != len(text) and text[end:].strip():
                value = loads(text)  # raises with json's own "Extra data" message
        except ValueError as exc:
            if not text.strip():
                continue
            try:  # leading whitespace is legal JSON that raw_decode refuses
                value = loads(text)
            except ValueError as exc2:
                yield Skip(name, number, _json_reason(raw, exc2 if text[:1].isspace() else exc))
                continue
            except RecursionError:
                yield Skip(name, number, "JSON nested too deeply")
                continue
        except RecursionError:
            yield Skip(name, number, "JSON nested too deeply")
            continue
        if _SURROGATE_ESCAPE.search(text):
            clean = scrub_surrogates(value)
            if clean != value:  # escaped pairs were joined by the decoder: nothing to say about them
                value = clean
                yield Note(name, number, SCRUBBED)
        yield number, value


SCRUBBED = "text held a broken character (a lone UTF-16 surrogate, half an emoji): replaced by U+FFFD"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub_surrogates(value: Any) -> Any:
    """The value with every lone UTF-16 surrogate replaced by U+FFFD.

    Python's JSON decoder keeps a lone `\\ud83d` (an emoji a harvester cut in half) as a lone
    surrogate, which no UTF-8 file or SQLite text can hold: one such post would fail its whole
    batch at the insert, at the same place on every re-import. Pairs were already joined by the
    decoder, so what is left is broken text. Only values whose raw text has such an escape come
    here."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [scrub_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {scrub_surrogates(k): scrub_surrogates(v) for k, v in value.items()}
    return value
json_lines = _json_lines


def _binary_reason(raw: bytes) -> str | None:
    if b"\x00" in raw or sum(raw.count(bytes([c])) for c in _CONTROL) > 4:
        return "binary data, not a JSON record"
    return None


def _json_reason(raw: bytes, exc: ValueError) -> str:
    binary = _binary_reason(raw)
    if binary:
        return binary
    msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
    return f"malformed JSON: {msg}"


_WS = re.compile(r"[\s,\x1e]*")


def iter_json_array_member(src: Source, member: str) -> Iterator[tuple[int, Any] | Skip]:
    """The elements of the array `member` of a top-level object (a FeatureCollection's
    `features`), streamed one by one so a large collection is never held in memory."""
    yield from _json_stream(src, re.compile(r'"' + re.escape(member) + r'"\s*:\s*\['))


def _json_stream(src: Source, enter: re.Pattern | None = None) -> Iterator[tuple[int, Any] | Skip]:
    decoder = json.JSONDecoder()
    reader = _DecodedLines(src.byte_lines(), src.line_encoding)
    buf = ""
    line = 1  # line number at buf[0]
    pos = 0
    eof = False
    depth_array = 0
    want = CHUNK_CHARS

    def more(n: int) -> bool:
        nonlocal buf, pos, line, eof
        chunk = reader.read(n)
        if not chunk:
            eof = True
            return False
        line += buf.count("\n", 0, pos)
        buf = buf[pos:] + chunk
        pos = 0
        return True

    while enter is not None:
        m = enter.search(buf)
        if m:
            pos, depth_array, enter = m.end(), 1, None
            inside_member = True
            break
        if len(buf) > MAX_RESYNC_CHARS or not more(CHUNK_CHARS):
            return
    else:
        inside_member = False
    while True:
        m = _WS.match(buf, pos)
        pos = m.end()
        while pos < len(buf) and buf[pos] in "[]":
            depth_array += 1 if buf[pos] == "[" else -1
            if inside_member and depth_array == 0:
                return
            pos = _WS.match(buf, pos + 1).end()
        if pos >= len(buf):
            if eof or not more(CHUNK_CHARS):
                return
            continue
        start_line = line + buf.count("\n", 0, pos)
        try:
            value, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            incomplete = exc.pos >= len(buf) - 1 or exc.msg.startswith("Unterminated string")
            if incomplete and not eof:
                more(max(want, len(buf)))
                want = max(want, len(buf))
                continue
            yield Skip(src.name, start_line, f"malformed JSON: {exc.msg}")
            pos = _resync(buf, pos, exc)
            if pos < 0:
                if eof:
                    return
                if len(buf) > MAX_RESYNC_CHARS:
                    yield Skip(src.name, start_line, "rest of the file is unreadable JSON")
                    return
                pos = len(buf)
                more(CHUNK_CHARS)
            continue
        except RecursionError:
            yield Skip(src.name, start_line, "JSON nested too deeply")
            pos = _resync(buf, pos, None)
            if pos < 0:
                return
            continue
        want = CHUNK_CHARS
        while reader.notes:
            number, note = reader.notes.pop(0)
            yield Note(src.name, number, note)
        if _SURROGATE_ESCAPE.search(buf, pos, end):
            clean = scrub_surrogates(value)
            if clean != value:
                value = clean
                yield Note(src.name, start_line, SCRUBBED)
        yield start_line, value
        pos = end
        if pos > CHUNK_CHARS:  # drop what has been consumed
            line += buf.count("\n", 0, pos)
            buf = buf[pos:]
            pos = 0


def _resync(buf: str, pos: int, exc: json.JSONDecodeError | None) -> int:
    """Position of the next value that starts a line at the same indentation, or -1."""
    line_start = buf.rfind("\n", 0, pos) + 1
    indent = buf[line_start:pos]
    indent = indent if not indent.strip("[, \t") else ""
    after = max(pos + 1, exc.pos if exc is not None else pos + 1)
    m = re.compile(r"\n" + re.escape(indent.replace("[", " ").replace(",", " ")) + r"[\[,\s]*\{").search(buf, after)
    if m is None:
        m = re.compile(r"\n\s*\{").search(buf, after)
    return -1 if m is None else m.start() + 1


class _DecodedLines:
    """Text from byte lines, each decoded on its own (`decode_line`); notes say which needed a
    fallback, by line number."""

    def __init__(self, lines: Iterator[bytes], encoding: str) -> None:
        self._lines = lines
        self._encoding = encoding
        self._number = 0
        self.notes: list[tuple[int, str]] = []

    def read(self, n: int) -> str:
        parts: list[str] = []
        size = 0
        for raw in self._lines:
            self._number += 1
            text, note = decode_line(raw, self._encoding)
            if note is not None and len(self.notes) < 1000:
                self.notes.append((self._number, note))
            parts.append(text)
            size += len(text)
            if size >= n:
                break
        return "".join(parts)


# -- delimited text ------------------------------------------------------------------------------

def _notes(name: str, notes: dict[int, str]) -> list[Note]:
    """The pending per-line notes in line order (and forget them)."""
    out = [Note(name, number, notes[number]) for number in sorted(notes)]
    notes.clear()
    return out


def guess_delimiter(header: str, suffix: str = "") -> str:
    if suffix.lower() in (".tsv", ".tab"):
        return "\t"
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def iter_rows(src: Source, delimiter: str) -> Iterator[tuple[int, list[str]] | Skip]:
    """(first line of the row, cells) for every row, header included; Skip for a broken row.

    Quoted cells may span lines. Each line is decoded on its own (`decode_line`; a fallback adds a
    Note); a cell over the csv module's size limit makes its row a Skip, and the reader goes on
    with the next row.
    """
    encoding = src.line_encoding
    notes: dict[int, str] = {}
    overlong: set[int] = set()

    def lines() -> Iterator[str]:
        for number, raw in enumerate(src.byte_lines(MAX_LINE_BYTES), 1):
            if raw is OVERLONG:
                overlong.add(number)
                yield ""
                continue
            text, note = decode_line(raw, encoding)
            if note is not None:
                notes[number] = note
            yield text

    reader = csv.reader(lines(), delimiter=delimiter, strict=False)
    last = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            yield from _notes(src.name, notes)
            return
        except csv.Error as exc:
            reason = "binary data (NUL byte), not text" if "NUL" in str(exc) else f"malformed row: {exc}"
            yield Skip(src.name, last + 1, reason)
            last = reader.line_num
            continue
        start, last = last + 1, reader.line_num
        if overlong and any(n in overlong for n in range(start, last + 1)):
            yield Skip(src.name, start, f"line longer than {MAX_LINE_BYTES >> 20} MiB, not read")
            continue
        if notes:
            yield from _notes(src.name, notes)
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        yield start, row
