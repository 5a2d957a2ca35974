"""Records of the verification step, shared by the store SQL, the core logic, the GUI and export.

Kept free of imports from the rest of MIST so `core/store/verify_sql.py` can use them without a cycle.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .. import options
from ..errors import MistError

VERDICTS = options.VERDICTS.names
UNVERIFIED = "none"  # the queue's name for "no verdict yet" in a verdict filter

# Water depth classes an analyst can judge from a photo, mapped onto metres at the class's
# typical depth for an adult: ankle ~0.1 m, knee ~0.5 m, waist ~1.0 m, above the waist 1.5 m
# (a lower bound: "above" means at least this deep). Keys 1-4 in the dock pick them in order.
DEPTH_CLASSES: dict[str, float] = {"ankle": 0.1, "knee": 0.5, "waist": 1.0, "above": 1.5}
MAX_DEPTH_M = 30.0  # deeper than any street flood; a larger value is a typing mistake
MAX_NOTE_CHARS = 2000
MAX_ANALYST_CHARS = 100


class VerdictError(MistError, ValueError):
    """A verdict that cannot be written; the message says why in user terms."""


def depth_for_class(name: str) -> float:
    """Metres for a depth class name (ankle, knee, waist, above)."""
    try:
        return DEPTH_CLASSES[name.strip().lower()]
    except KeyError:
        raise VerdictError(f"unknown depth class {name!r}; use one of {', '.join(DEPTH_CLASSES)}") from None


def depth_class_for(metres: float | None) -> str | None:
    """The nearest depth class for a depth in metres (for display); None for no depth."""
    if metres is None:
        return None
    return min(DEPTH_CLASSES, key=lambda k: abs(DEPTH_CLASSES[k] - metres))


def parse_depth(text: str | None, class_numbers: bool = True) -> float | None:
    """Metres from what an analyst typed: metres ("0.3", "0,3", "30cm", "1.2 m"), a class name
    ("knee") or, in the dock's quick field, a class number ("2"). Empty means no depth.

    Tables pass `class_numbers=False`: a spreadsheet's "2" means 2 m, never the second class.
    """
    raw = (text or "").strip().lower().replace(",", ".")
    if not raw:
        return None
    if raw in DEPTH_CLASSES:
        return DEPTH_CLASSES[raw]
    if class_numbers and raw.isdigit() and 1 <= int(raw) <= len(DEPTH_CLASSES):
        return list(DEPTH_CLASSES.values())[int(raw) - 1]
    scale = 1.0
    for suffix, factor in (("cm", 0.01), ("m", 1.0)):
        if raw.endswith(suffix):
            raw, scale = raw[: -len(suffix)].strip(), factor
            break
    try:
        value = float(raw) * scale
    except ValueError:
        raise VerdictError(f"cannot read a water depth from {text!r}") from None
    return check_depth(value)


def check_depth(value: float | None) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or value < 0 or value > MAX_DEPTH_M:
        raise VerdictError(f"water depth {value!r} m is outside 0-{MAX_DEPTH_M:g} m")
    return round(float(value), 3)


@dataclass(frozen=True)
class Verdict:
    """What an analyst decided about one photo (or a post without photos: media_fid None)."""

    post_fid: int
    verdict: str
    analyst: str
    media_fid: int | None = None
    water_depth_m: float | None = None
    note: str | None = None

    def validated(self) -> Verdict:
        """A cleaned copy, or VerdictError with the reason."""
        if self.verdict not in VERDICTS:
            raise VerdictError(f"verdict must be one of {', '.join(VERDICTS)}, not {self.verdict!r}")
        analyst = (self.analyst or "").strip()
        if not analyst:
            raise VerdictError("an analyst name is required (set it in the dock or with --analyst)")
        if len(analyst) > MAX_ANALYST_CHARS or any(ord(c) < 32 for c in analyst):
            raise VerdictError("the analyst name is too long or holds control characters")
        depth = check_depth(self.water_depth_m)
        if depth is not None and self.verdict == "not_flood":
            raise VerdictError("a photo judged 'not flood' cannot have a water depth")
        note = (self.note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE_CHARS:
            raise VerdictError(f"the note is longer than {MAX_NOTE_CHARS} characters")
        return Verdict(int(self.post_fid), self.verdict, analyst,
                       None if self.media_fid is None else int(self.media_fid), depth, note)


@dataclass(frozen=True)
class PostVerification:
    """The verification fields mirrored onto a posts row (what the layer shows)."""

    verified: str | None = None
    verified_by: str | None = None
    verified_at: str | None = None
    water_depth_m: float | None = None

    FIELDS = ("verified", "verified_by", "verified_at", "water_depth_m")

    def as_tuple(self) -> tuple:
        return (self.verified, self.verified_by, self.verified_at, self.water_depth_m)


_PRECEDENCE = ("flood", "unsure", "not_flood")


def aggregate(rows: list) -> PostVerification:
    """The post mirror for its current verdict rows (verdict, water_depth_m, analyst, verified_at, fid)."""
    if not rows:
        return PostVerification()
    present = {r["verdict"] for r in rows}
    winner = next(v for v in _PRECEDENCE if v in present)
    winning = [r for r in rows if r["verdict"] == winner]
    latest = max(winning, key=lambda r: r["fid"])
    depths = [r["water_depth_m"] for r in winning if r["water_depth_m"] is not None]
    return PostVerification(winner, latest["analyst"], latest["verified_at"], max(depths) if depths else None)


@dataclass(frozen=True)
class VerdictReceipt:
    """Enough to undo one written verdict exactly."""

    verification_fid: int
    verdict: Verdict
    verified_at: str
    previous: PostVerification
    written: PostVerification


@dataclass(frozen=True)
class UndoResult:
    """What an undo left on the posts row; `exact` is False when another analyst's later verdict
    was kept and the mirror recomputed instead of restored."""

    post_fid: int
    state: PostVerification
    exact: bool


class Ordering(enum.Enum):
    """Orderings of the verification queue."""

    IMPORT = "import"            # media fid: the order the photos arrived
    NEWEST = "newest"            # post time, newest first
    OLDEST = "oldest"
    SCORE_HIGH = "score_high"    # screening score, most flood-like first
    SCORE_LOW = "score_low"
    MOST_USEFUL = "most_useful"  # least certain first, mixed with a seeded random sample


@dataclass(frozen=True)
class BBox:
    """A map extent in EPSG:4326 degrees; min_x > max_x crosses the antimeridian."""

    min_x: float
    min_y: float
    max_x: float
    max_y: float

    def __post_init__(self) -> None:
        values = (self.min_x, self.min_y, self.max_x, self.max_y)
        if not all(math.isfinite(v) for v in values):
            raise ValueError("map extent has non-finite bounds")
        if self.min_y > self.max_y:
            raise ValueError("map extent has min_y above max_y")

    def boxes(self) -> list[tuple[float, float, float, float]]:
        """One or two (min_x, min_y, max_x, max_y) boxes, split at the antimeridian."""
        if self.min_x <= self.max_x:
            return [(self.min_x, self.min_y, self.max_x, self.max_y)]
        return [(self.min_x, self.min_y, 180.0, self.max_y), (-180.0, self.min_y, self.max_x, self.max_y)]


@dataclass(frozen=True)
class QueueFilter:
    """What the verification table shows. Every field narrows; defaults show everything."""

    verdicts: frozenset[str] | None = None       # subset of VERDICTS + UNVERIFIED; None = all
    score_min: float | None = None
    score_max: float | None = None
    time_from: datetime | None = None            # inclusive, UTC when naive
    time_to: datetime | None = None              # exclusive
    bbox: BBox | None = None
    text: str = ""                               # every word must occur in the post text
    hide_duplicates: bool = True
    post_fids: frozenset[int] | None = None      # e.g. the map selection
    not_verified_by: str | None = None           # hide photos this analyst already judged
    model: str | None = None                     # screening model; None = the latest one
    label: str | None = None                     # its positive label; None = "flood" or the first


@dataclass
class QueueRow:
    """One photo of the verification table with its post and its latest results."""

    media_fid: int
    post_fid: int
    post_id: str
    platform: str
    timestamp: str | None
    text: str
    url: str | None
    media_url: str | None
    kind: str
    status: str
    error: str | None
    cache_path: str | None
    sha256: str | None
    width: int | None
    height: int | None
    exif: str | None
    duplicate_of: int | None
    lon: float | None
    lat: float | None
    geo_source: str
    geo_accuracy_m: float | None
    score: float | None
    geo_confidence: float | None
    match_ref: str | None
    verdict: str | None
    water_depth_m: float | None
    verified_by: str | None
    verified_at: str | None
    note: str | None
    extra: dict = field(default_factory=dict)


def iso_utc(value: datetime) -> str:
    """The store's DATETIME text form (UTC, milliseconds, Z), which sorts like the time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
