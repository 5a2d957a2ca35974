"""Records that cross layers in geolocation: readers -> store -> driver -> algorithms."""

from __future__ import annotations

from dataclasses import dataclass, field

# Position uncertainty (m) assumed for a reference when its source does not say: street-level
# captures carry a GNSS fix; MIST-SMMD success.csv rows carry the *sampled road point* that
# found the panorama, not the panorama's own position (specs/lsgl.md 1.3.1 step 3).
DEFAULT_ACCURACY_M = 10.0
SAMPLE_POINT_ACCURACY_M = 50.0


@dataclass
class ReferenceRecord:
    """One reference image: where it was taken, which way it looks, and its file.

    `heading` is degrees clockwise from north (None when unknown); `view_offset` is a heading
    relative to the road direction when only that is known (MIST-SMMD's per-panorama views).
    `location_id` groups the headings of one place (a panorama)."""

    ref_id: str
    lon: float
    lat: float
    image_path: str
    collection: str = "references"
    heading: float | None = None
    view_offset: float | None = None
    location_id: str | None = None
    accuracy_m: float | None = DEFAULT_ACCURACY_M
    position_note: str | None = None
    captured_at: str | None = None
    source_format: str = ""
    source_file: str | None = None
    source_line: int | None = None

    @property
    def ref_uid(self) -> str:
        return f"{self.collection}/{self.ref_id}"


@dataclass
class ReferenceRow:
    """A reference as stored (fid and uid assigned)."""

    fid: int
    ref_uid: str
    lon: float
    lat: float
    image_path: str
    location_id: str | None
    heading: float | None
    accuracy_m: float | None


@dataclass
class PostToLocate:
    """A located post (coarse or geotagged) with its cached photos."""

    fid: int
    post_id: str
    lon: float | None  # None: unlocated, placed by retrieval before matching
    lat: float | None
    accuracy_m: float | None
    media: list[tuple[int, str]] = field(default_factory=list)  # (media fid, cache_path)
    orig_lon: float | None = None
    orig_lat: float | None = None


@dataclass
class CoarseLocation:
    """A place found in a post's text: point, confidence on the paper's 30-100 scale, the
    uncertainty radius from the paper's table, and candidate points along a matched road."""

    post_fid: int
    toponym: str
    name: str
    kind: str  # 'point', 'line' or 'polygon'
    lon: float
    lat: float
    confidence: int
    radius_m: float
    samples: list[tuple[float, float]] = field(default_factory=list)
