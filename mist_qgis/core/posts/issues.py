"""What a reader yields besides posts: a skipped record, or a note on a record that was kept.

Nothing is dropped silently (DESIGN section 6): every record a reader cannot turn into a post
becomes a `Skip` with the file, the line and the reason, and the import report lists it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MistError


class NotAPostCollection(MistError, ValueError):
    """The input is not a post collection at all; the message says what it looks like instead."""


class SkipRecord(MistError, ValueError):
    """Raised inside a record parser; the reader turns it into a `Skip` with file and line."""


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
