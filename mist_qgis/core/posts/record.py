"""`PostRecord`: what every reader yields and the store writes, whatever the source format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GEO_SOURCES = ("gps", "place", "exif", "geocoded", "image_match", "none")


@dataclass(frozen=True)
class MediaRef:
    """One photo or video of a post: a URL, and/or a path as the export gives it (relative to
    the collection's media root; untrusted until the fetch stage has resolved it)."""

    url: str | None = None
    path: str | None = None
    kind: str = "photo"


@dataclass
class PostRecord:
    post_id: str
    platform: str
    lon: float | None = None
    lat: float | None = None
    text: str = ""
    author: str | None = None
    lang: str | None = None
    url: str | None = None
    timestamp: datetime | None = None
    geo_source: str = "none"
    geo_accuracy_m: float | None = None
    is_repost: bool = False
    media: list[MediaRef] = field(default_factory=list)
    direction: float | None = None
    altitude: float | None = None
    source_file: str | None = None
    source_line: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def located(self) -> bool:
        return self.lon is not None and self.lat is not None

    def timestamp_iso(self) -> str | None:
        """UTC, millisecond ISO 8601 with Z: the DATETIME form GeoPackage and QGIS read."""
        ts = self.timestamp
        if ts is None:
            return None
        if ts.tzinfo is not UTC:  # readers hand out the UTC singleton; skip the conversion then
            ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
        # isoformat(timespec="milliseconds")[:23] + "Z", written out: half its cost, once per post imported
        return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
            ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second, ts.microsecond // 1000)
