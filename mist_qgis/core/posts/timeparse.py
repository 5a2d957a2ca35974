"""Post times in the forms exports actually use, turned into aware UTC datetimes.

Twitter's `Wed Jul 21 08:30:00 +0000 2021` has its own fast path (a million tweets go through
it); the rest are ISO 8601, RFC 2822, EXIF, Chinese dates, Excel serial days and Unix epochs.
Ambiguous day/month orders and relative times ("5分钟前") are not guessed: they are an unknown
time format and the record is reported.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from ..errors import MistError
from .ids import is_ascii_digits
from .issues import SkipRecord

Naive = Callable[[], None] | None
"""Called when a time had no zone and `default_tz` was put on it (readers count such times)."""

MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
CHINA = timezone(timedelta(hours=8), "UTC+08")
EXCEL_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_OFFSETS: dict[str, timezone] = {}

_CHINESE = re.compile(
    r"^(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?"
    r"(?:\s*(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}(?:\.\d+)?))?秒?)?$"
)
_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_EXIF = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def _offset(text: str) -> timezone:
    tz = _OFFSETS.get(text)
    if tz is None:
        sign = -1 if text[0] == "-" else 1
        minutes = int(text[1:3]) * 60 + int(text[3:5])
        tz = UTC if minutes == 0 else timezone(sign * timedelta(minutes=minutes))
        _OFFSETS[text] = tz
    return tz


def twitter_time(text: str) -> datetime:
    """Twitter v1.1 `created_at` (also Weibo's API): fast path, SkipRecord if it is not that."""
    parts = text.split(" ")
    try:
        _, mon, day, hms, off, year = parts
        h, m, s = hms.split(":")
        ts = datetime(int(year), MONTHS[mon], int(day), int(h), int(m), int(s), tzinfo=_offset(off))
    except (ValueError, KeyError, IndexError):
        raise SkipRecord(f"unknown time format: {text[:40]!r}") from None
    return _plausible(ts)


def _plausible(ts: datetime) -> datetime:
    if not EARLIEST <= ts <= LATEST:
        raise SkipRecord(f"implausible time {ts.isoformat()}")
    return ts


class TimeZoneError(MistError, ValueError):
    """A time zone name that is not in the time zone database."""


def time_zone(name: str | None) -> tzinfo:
    """The zone a user named for times without one (`Asia/Shanghai`, `UTC`); None or empty is UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = (name or "").strip()
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeZoneError(
            f"unknown time zone {name[:60]!r}; use a time zone database name such as Asia/Shanghai, "
            "Europe/Berlin or UTC") from None


def _zone(default_tz: tzinfo, naive: Naive) -> tzinfo:
    if naive is not None:
        naive()
    return default_tz


def from_number(value: float, default_tz: tzinfo = UTC, naive: Naive = None) -> datetime:
    """Excel serial days (Weibo sheets), Unix seconds or milliseconds, told apart by magnitude."""
    if 20_000 <= value < 80_000:  # Excel serial: 1954 .. 2119, in the sheet's local time
        # rounded to the second: sheets store times as binary fractions of a day (18:05 -> ...999)
        local = EXCEL_EPOCH + timedelta(seconds=round(value * 86400))
        return _plausible(local.replace(tzinfo=_zone(default_tz, naive)))
    if 1e8 <= value < 1e10:
        return _plausible(datetime.fromtimestamp(value, UTC))
    if 1e11 <= value < 1e13:
        return _plausible(datetime.fromtimestamp(value / 1000, UTC))
    raise SkipRecord(f"unknown time format: number {value!r}")


def parse_time(value: Any, default_tz: tzinfo = UTC, naive: Naive = None) -> datetime | None:
    """An aware datetime from an export's time value; None if empty; SkipRecord if unknown.

    `default_tz` applies to times without an offset (UTC for most tools, UTC+8 for Weibo, or the
    zone the user chose); `naive()` is called for each such time, so a reader can say so.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _plausible(value if value.tzinfo else value.replace(tzinfo=_zone(default_tz, naive)))
    if isinstance(value, bool):
        raise SkipRecord(f"unknown time format: {value!r}")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise SkipRecord("unknown time format: a number too large to be a time") from None
        return from_number(number, default_tz, naive)
    if not isinstance(value, str):
        raise SkipRecord(f"unknown time format: {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    if len(text) == 30 and text[3] == " " and text[10] == " " and text[19] == " ":
        return twitter_time(text)
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        return _plausible(ts if ts.tzinfo else ts.replace(tzinfo=_zone(default_tz, naive)))
    except ValueError:
        pass
    if is_ascii_digits(text.replace(".", "", 1)):
        return from_number(float(text), default_tz, naive)
    return _parse_other(text, default_tz, naive)


def _parse_other(text: str, default_tz: tzinfo, naive: Naive) -> datetime:
    m = _EXIF.match(text)
    if m:
        return _plausible(datetime(*map(int, m.groups()), tzinfo=_zone(default_tz, naive)))
    m = _CHINESE.match(text)
    if m:
        y, mo, d, h, mi, s = m.groups()
        sec = float(s or 0)
        try:
            ts = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec))
        except ValueError:
            raise SkipRecord(f"invalid date: {text[:40]!r}") from None
        return _plausible(ts.replace(tzinfo=_zone(default_tz, naive)))
    m = _DMY.match(text)
    if m:
        a, b, y, h, mi, s = m.groups()
        a, b = int(a), int(b)
        if a > 12 >= b:
            day, month = a, b
        elif b > 12 >= a:
            day, month = b, a
        elif a == b:
            day = month = a
        else:
            raise SkipRecord(f"ambiguous date (day/month order unknown): {text[:40]!r}")
        try:
            ts = datetime(int(y), month, day, int(h or 0), int(mi or 0), int(s or 0))
        except ValueError:
            raise SkipRecord(f"invalid date: {text[:40]!r}") from None
        return _plausible(ts.replace(tzinfo=_zone(default_tz, naive)))
    if len(text) == 30 and text.count(" ") == 5:
        return twitter_time(text)
    try:
        ts = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise SkipRecord(f"unknown time format: {text[:40]!r}") from None
    return _plausible(ts if ts.tzinfo else ts.replace(tzinfo=_zone(default_tz, naive)))


SNOWFLAKE_EPOCH_MS = 1288834974657  # 2010-11-04T01:42:54.657Z
SNOWFLAKE_MAX = 2**63 - 1  # ids are signed 64-bit integers


def snowflake_time(post_id: str) -> datetime | None:
    """The creation time inside a Twitter (or X) snowflake id, for exports that omit the time.

    Decoded only where ids are snowflakes: from 10^15 (smaller ids are the sequential ones of
    before November 2010, which carry no time) up to the signed 64-bit limit, and only when the
    time is not in the future; any other id gives None, never an invented date."""
    if not is_ascii_digits(post_id) or len(post_id) > 19:
        return None
    value = int(post_id)
    if not 10**15 <= value <= SNOWFLAKE_MAX:
        return None
    ts = datetime.fromtimestamp(((value >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)
    return ts if ts <= datetime.now(UTC) + timedelta(days=1) else None
