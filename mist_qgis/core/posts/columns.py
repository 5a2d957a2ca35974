"""Column mappings for tabular exports (CSV/TSV, Weibo sheets, GeoJSON properties): which column
holds the id, the coordinates, the time, the text and the photos, guessed from the header and
overridable by the user (`--map lat=Y_WGS84` on the CLI, the mapping box in the dock).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any

from .crs import SourceCrs, degrees, source_crs
from .geo import bbox_centre, is_null_island
from .ids import canonical_id
from .issues import Note, SkipRecord
from .record import GEO_SOURCES, MediaRef, PostRecord
from .timeparse import parse_time, time_zone

FIELDS = (
    "post_id", "lon", "lat", "wkt", "time", "text", "photo", "media_url", "author", "url", "lang",
    "platform", "geo_source", "direction", "altitude", "accuracy", "repost",
)

# Normalised header names per field, best first.
GUESSES: dict[str, tuple[str, ...]] = {
    "post_id": ("post_id", "postid", "tweet_id", "tweetid", "status_id", "statusid", "id_str", "mid", "weibo_id",
                "微博id", "message_id", "msg_id", "id", "fid", "uuid"),
    "lon": ("lon", "lng", "longitude", "long", "x_wgs84", "lon_wgs84", "geo_lon", "x", "经度", "coord_x", "point_x",
            "easting"),
    "lat": ("lat", "latitude", "y_wgs84", "lat_wgs84", "geo_lat", "y", "纬度", "coord_y", "point_y", "northing"),
    "wkt": ("wkt", "wkt_geom", "geometry", "geom", "the_geom", "shape"),
    "time": ("timestamp", "created_at", "create_at", "datetime", "date_time", "time", "posted_at", "published",
             "publish_time", "created", "date", "发布时间", "日期", "时间"),
    "text": ("text", "full_text", "tweet_text", "status_text", "post_text", "weibo_text", "text_content", "content",
             "post_content", "tweet_content", "message", "msg", "body", "tweet", "post", "caption", "微博正文",
             "微博内容", "博文", "正文", "内容", "文本", "description", "comment", "comments", "notes", "remarks",
             "备注", "描述"),
    "photo": ("photo", "image_path", "photo_path", "image_file", "local_image", "image", "picture", "图片"),
    "media_url": ("media_url", "image_url", "photo_url", "pic_url", "pic_urls", "pics", "pictures", "原始图片url",
                  "图片链接", "media"),
    "author": ("author", "screen_name", "username", "user_name", "user", "用户昵称", "用户名", "昵称", "nickname",
               "user_id"),
    "url": ("url", "permalink", "post_url", "link", "链接"),
    "lang": ("lang", "language"),
    "platform": ("platform",),
    "geo_source": ("geo_source",),
    "direction": ("direction", "heading", "azimuth"),
    "altitude": ("altitude", "elevation", "alt"),
    "accuracy": ("geo_accuracy_m", "accuracy_m", "accuracy"),
    "repost": ("is_repost", "retweeted", "is_retweet"),
}


def normalise(name: str) -> str:
    name = name.replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-./]+", "_", name).strip("_")


@dataclass
class ColumnMapping:
    """field -> column name; `columns` is the header; `index` the positions of mapped fields."""

    columns: list[str]
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def index(self) -> dict[str, int]:
        pos = {c: i for i, c in enumerate(self.columns)}
        return {f: pos[c] for f, c in self.fields.items() if c in pos}

    @property
    def located(self) -> bool:
        return "wkt" in self.fields or ("lon" in self.fields and "lat" in self.fields)


def guess_mapping(
    columns: Sequence[str], overrides: Mapping[str, str] | None = None,
    guesses: Mapping[str, tuple[str, ...]] = GUESSES,
) -> ColumnMapping:
    """Guess each field's column from the header, then apply the user's overrides.

    An override names a column by its header text (case and spacing ignored); an unknown field
    or a column that is not in the header is an error the user sees before anything is read.
    """
    columns = [c.replace("\ufeff", "").strip() for c in columns]
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(normalise(c), c)
    fields: dict[str, str] = {}
    taken: set[str] = set()
    for name, candidates in guesses.items():
        for cand in candidates:
            col = by_norm.get(cand)
            if col is not None and col not in taken:
                fields[name] = col
                taken.add(col)
                break
    for name, column in (overrides or {}).items():
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r} in the column mapping; fields are: {', '.join(FIELDS)}")
        if column == "":
            fields.pop(name, None)
            continue
        col = by_norm.get(normalise(column))
        if col is None:
            raise ValueError(f"column {column!r} (mapped to {name}) is not in the header: {', '.join(columns)}")
        fields[name] = col
    if "wkt" in fields and ("lon" in fields or "lat" in fields) and not (overrides and "wkt" in overrides):
        fields.pop("wkt")
    return ColumnMapping(list(columns), fields)


def parse_mapping_text(text: str) -> dict[str, str]:
    """A column mapping typed as one text, `lat=Y_WGS84, lon=X_WGS84` or one pair a line or
    separated by semicolons: the one reading of that text (dock, Processing, CLI)."""
    return parse_overrides([p for p in re.split(r"[;,\n]", text or "") if p.strip()])


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """`field=column` strings (CLI `--map`, dock text box) as a dict."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"mapping {item!r} is not field=column")
        if key.strip() not in FIELDS:
            raise ValueError(f"unknown field {key.strip()!r} in the column mapping; fields are: {', '.join(FIELDS)}")
        out[key.strip()] = value.strip()
    return out


_WKT = re.compile(r"^\s*(?:SRID=(\d+);)?\s*([A-Za-z]+)\s*(?:ZM|Z|M)?\s*(\(.*\)|EMPTY)\s*$", re.S)
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PAIR = re.compile(rf"({_NUM})\s+({_NUM})")


def parse_wkt(text: str, crs: SourceCrs | None = None) -> tuple[float, float, float | None, str] | None:
    """(lon, lat, accuracy_m, geo_source) from WKT in WGS 84, or in `crs` (the CRS option) when
    given; polygons and lines give their box centre."""
    m = _WKT.match(text)
    if not m:
        raise SkipRecord(f"geometry is not WKT: {text[:40]!r}")
    srid, kind, body = m.groups()
    if srid and srid != "4326" and not (crs is not None and str(crs.epsg) == srid):
        raise SkipRecord(f"geometry is in SRID {srid}, not WGS 84 (EPSG:4326)"
                         + ("" if crs is not None else f"; import with the CRS option --crs EPSG:{srid}"))
    if body == "EMPTY":
        return None
    point = crs.to_wgs84 if crs is not None and srid != "4326" else degrees
    pairs = [point(x, y) for x, y in _PAIR.findall(body)]
    if not pairs:
        raise SkipRecord(f"geometry has no coordinates: {text[:40]!r}")
    if kind.upper() == "POINT":
        return pairs[0][0], pairs[0][1], None, "gps"
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    lon, lat, acc = bbox_centre(min(xs), min(ys), max(xs), max(ys))
    return lon, lat, acc, "place"


_SPLIT = re.compile(r"[,;|\s]+")
_TRUE = {"1", "true", "yes", "y", "t"}


def media_refs(cell: str, as_path: bool) -> list[MediaRef]:
    """Photo references from a cell that may list several (Weibo `pics`): URLs stay URLs, other
    entries are paths relative to the media root. Other URL schemes (file:, data:) are ignored."""
    out = []
    for item in _SPLIT.split(cell.strip()):
        if not item:
            continue
        low = item[:8].lower()
        if low.startswith(("http://", "https://")):
            out.append(MediaRef(url=item))
        elif "://" in item[:12] or low.startswith(("data:", "javascript:")):
            continue
        elif as_path or "." in item:
            out.append(MediaRef(path=item))
    return out


def content_id(values: Sequence[str]) -> str:
    """A stable id for a row without one, so re-importing the same file is still a no-op."""
    return "sha1:" + hashlib.sha1("\x1f".join(values).encode("utf-8")).hexdigest()


def _optional_float(value: str, name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    from .geo import as_float

    return as_float(value, name)


def accuracy_m(value: Any) -> float | None:
    """A position's accuracy radius in metres from a cell or property; negative is refused."""
    acc = _optional_float(value, "accuracy")
    if acc is not None and acc < 0:
        raise SkipRecord(f"negative accuracy {acc:g}")
    return acc


@dataclass
class RowContext:
    """How one file's rows are read: its platform, the zone of times without one, the CRS of its
    coordinates (None: longitude/latitude in WGS 84), and how many times had no zone so far."""

    platform: str = "csv"
    default_tz: tzinfo = UTC
    default_geo_source: str = "gps"
    crs: SourceCrs | None = None
    naive_times: int = 0
    naive_noted: bool = False

    def point(self, x: Any, y: Any) -> tuple[float, float]:
        return self.crs.to_wgs84(x, y) if self.crs is not None else degrees(x, y)

    def count_naive(self) -> None:
        self.naive_times += 1

    def noted(self, rec: PostRecord) -> PostRecord | list:
        """The record, preceded (once per file) by a note that its times carry no time zone."""
        if not self.naive_times or self.naive_noted:
            return rec
        self.naive_noted = True
        source = rec.source_file or ""
        line = rec.source_line
        first = f"line {line}" if line is not None else source.replace("\\", "/").rsplit("/", 1)[-1]
        note = Note(source, rec.source_line,
                    f"times without a time zone are read as {self.default_tz} (the first: {first}); the import's "
                    "time zone option sets the zone of local times (e.g. --naive-tz Asia/Shanghai)")
        return [note, rec]


@dataclass(frozen=True)
class Reading:
    """What a file does not say about itself and the user does: the CRS of its coordinates and
    the time zone of its times without one (None: the format's rule, UTC or Weibo's China time).
    Checked when made, so a typo is one error before anything is read."""

    crs: str | None = None
    naive_tz: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "crs", (self.crs or "").strip() or None)
        object.__setattr__(self, "naive_tz", (self.naive_tz or "").strip() or None)
        if self.crs:
            source_crs(self.crs)
        if self.naive_tz:
            time_zone(self.naive_tz)

    def context(self, platform: str = "csv", default_tz: tzinfo = UTC, default_geo_source: str = "gps",
                ) -> RowContext:
        """A fresh RowContext for one file (a pyproj transform is made per file, in the reading process)."""
        return RowContext(platform, time_zone(self.naive_tz) if self.naive_tz else default_tz, default_geo_source,
                          source_crs(self.crs) if self.crs else None)


def row_to_record(
    values: Mapping[str, Any], mapping: ColumnMapping, ctx: RowContext,
    source: str | None = None, line: int | None = None,
) -> PostRecord:
    """A PostRecord from one row, given as column -> value; unmapped, non-empty columns become
    attributes. SkipRecord for a bad coordinate or an unknown time format."""
    f = mapping.fields

    def get(name: str) -> Any:
        col = f.get(name)
        if col is None:
            return None
        v = values.get(col)
        if isinstance(v, str):
            v = v.strip()
            return v or None
        return v

    post_id = canonical_id(get("post_id"))
    if not post_id:
        post_id = content_id([str(values.get(c, "")) for c in mapping.columns])
    lon = lat = accuracy = None
    geo_source = "none"
    wkt = get("wkt")
    if wkt is not None:
        parsed = parse_wkt(str(wkt), ctx.crs)
        if parsed:
            lon, lat, accuracy, geo_source = parsed
    else:
        x, y = get("lon"), get("lat")
        if x is not None and y is not None:
            lon, lat = ctx.point(x, y)
            geo_source = ctx.default_geo_source
        elif x is not None or y is not None:
            raise SkipRecord("only one of longitude and latitude is given")
    if lon is not None and is_null_island(lon, lat):
        lon = lat = accuracy = None
        geo_source = "none"
    if lon is not None:
        given = get("geo_source")
        if isinstance(given, str) and given in GEO_SOURCES and given != "none":
            geo_source = given
        acc = accuracy_m(get("accuracy"))
        if acc is not None:
            accuracy = acc
    media: list[MediaRef] = []
    photo = get("photo")
    if photo is not None:
        media += media_refs(str(photo), as_path=True)
    urls = get("media_url")
    if urls is not None:
        media += media_refs(str(urls), as_path=False)
    platform = get("platform")
    author = get("author")
    repost = get("repost")
    text = get("text")
    lang = get("lang")
    url = get("url")
    mapped = set(f.values())
    attributes = {
        c: v for c, v in values.items()
        if c not in mapped and v is not None and (not isinstance(v, str) or v.strip())
    }
    return PostRecord(
        post_id=post_id, platform=str(platform) if platform else ctx.platform, lon=lon, lat=lat,
        text=str(text) if text is not None else "", author=str(author) if author is not None else None,
        lang=str(lang) if lang else None,
        url=str(url) if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None,
        timestamp=parse_time(get("time"), ctx.default_tz, ctx.count_naive),
        geo_source=geo_source, geo_accuracy_m=accuracy,
        is_repost=str(repost).strip().lower() in _TRUE if repost is not None else False, media=media,
        direction=_optional_float(get("direction"), "direction"),
        altitude=_optional_float(get("altitude"), "altitude"),
        source_file=source, source_line=line, attributes=attributes,
    )
