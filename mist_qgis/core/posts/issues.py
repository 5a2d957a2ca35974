"""What a reader yields besides posts, and the one mechanism that turns a failure into a skip.

Nothing is dropped silently and nothing aborts a run (DESIGN section 6): every record a reader
cannot turn into a post becomes a `Skip` with the file, the line and the reason, and the import
report lists it. Readers do not catch exceptions themselves: a reader hands out `Records` (its raw
records with their line numbers, and a function that parses one), and `Records` runs that
function under the guard, so whatever goes wrong inside one record (a `SkipRecord` with a
reason, a number too large for a float, an image that declares too many pixels, a bug) is one
counted skip, and the next record is read. Post readers, reference-image readers and verdict
tables all use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import MistError


class NotAPostCollection(MistError, ValueError):
    """The input is not a post collection at all; the message says what it looks like instead."""


class SkipRecord(MistError, ValueError):
    """Raised inside a record parser: the record is skipped with this message as the reason."""


@dataclass(frozen=True)
class Skip:
    """One record read and not imported."""

    source: str
    line: int | None
    reason: str


@dataclass(frozen=True)
class Note:
    """Something the analyst should know about a file or a kept record (not counted as skipped)."""

    source: str
    line: int | None
    reason: str


@dataclass(frozen=True)
class FileSkip:
    """A whole input that holds no records (empty, binary, unreadable): reported, import goes on."""

    source: str
    reason: str


MAX_REASON = 300


def skip_reason(exc: BaseException) -> str:
    """One line an analyst can act on, for any exception raised while reading one record."""
    if isinstance(exc, (SkipRecord, MistError)):  # both carry a message written for the analyst
        return _storable(str(exc))
    name = type(exc).__name__
    text = str(exc)
    if isinstance(exc, OverflowError):
        reason = f"a number is too large to use ({text})"
    elif isinstance(exc, UnicodeError):
        reason = f"text is not valid Unicode ({getattr(exc, 'reason', text)})"
    elif name == "DecompressionBombError":
        reason = f"image declares too many pixels, not decoded ({text.split(',')[0]})"
    elif isinstance(exc, OSError):
        reason = f"cannot read: {exc.strerror or text}"
    elif isinstance(exc, RecursionError):
        reason = "record nested too deeply"
    else:
        reason = f"unreadable record ({name}: {text})" if text else f"unreadable record ({name})"
    return _storable(reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…")


def _storable(text: str) -> str:
    """A reason the issues table can hold: a lone surrogate quoted from a record is escaped."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


Raw = tuple[int | None, Any]
"""A raw record and its line (None where lines mean nothing, such as a photo file)."""


@dataclass
class Records:
    """A reader's output: raw records (with Skips and Notes of its own) and the function that
    parses one raw record into a record, a list of items, or None (a grouping reader that emits
    at `flush`). Iterating runs every parse under the guard described in the module docstring.

    `where(raw)` names the source of a raw record when that is not the file (a photo's own path);
    `flush()` yields what a grouping reader still holds at the end of the input.
    """

    source: str
    items: Iterable[Raw | Skip | Note]
    parse: Callable[[int | None, Any], Any]
    where: Callable[[Any], str] | None = None
    flush: Callable[[], Iterable[Any]] | None = None

    def __iter__(self) -> Iterator[Any]:
        parse = self.parse
        source = self.source
        passthrough = (Skip, Note)
        items = iter(self.items)
        line: int | None = None
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except NotAPostCollection:
                raise
            except Exception as exc:  # noqa: BLE001 (the raw stream itself broke: report, stop this input)
                yield Skip(source, None if line is None else line + 1,
                           f"the rest of the input is unreadable: {skip_reason(exc)}")
                return
            if type(item) in passthrough:
                yield item
                continue
            line, raw = item
            try:
                out = parse(line, raw)
            except NotAPostCollection:
                raise
            except Exception as exc:  # noqa: BLE001 (the guard: one record, one explained skip)
                yield Skip(self.where(raw) if self.where else source, line, skip_reason(exc))
                continue
            if out is None:
                continue
            if type(out) is list:
                yield from out
            else:
                yield out
        if self.flush is not None:
            yield from self.flush()


def each(source: str, items: Iterable[Raw | Skip | Note], parse: Callable[[int | None, Any], Any]) -> list:
    """Every item of a small, already-read group (the tweets of one API response) under the guard."""
    return list(Records(source, items, parse))
