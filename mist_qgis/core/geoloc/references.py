"""Reference imagery readers and import: ground-level photos with known position and heading.

Formats:
- `csv`: a folder plus a CSV with id, lon, lat, heading, path (common aliases accepted);
- `success`: MIST-SMMD street-view downloads (`csv_files/success.csv` with id, x, y, wgsx, wgsy,
  pid, url and `downloadPic/<id>_<pid>/<id>_<pid>_<h>.png`, h = 0/90/180/270 relative to the road
  direction). Its wgsx/wgsy are the sampled road point that found the panorama, not the
  panorama's position: imported with a larger accuracy and a note saying so. A panorama id seen
  twice is a duplicate (the original deletes it);
- `geojson`: a FeatureCollection or GeoJSON-seq of points (street-level exports) with an image
  path property and a heading property (heading, compass_angle, direction, ...);
- `photos`: a folder of geotagged photos (EXIF GPS position and GPSImgDirection).

Every path in a file is untrusted: it must resolve inside the collection folder. A bad row is
reported (file, line, reason) and skipped; the rest of the import goes on.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..options import REFERENCE_FORMATS
from ..stage import run_stage
from .records import DEFAULT_ACCURACY_M, SAMPLE_POINT_ACCURACY_M, ReferenceRecord

FORMATS = REFERENCE_FORMATS.names
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp"}
MAX_ROWS = 5_000_000

_ID = ("id", "ref_id", "image_id", "name", "key")
_LON = ("lon", "lng", "long", "longitude", "x", "wgsx")
_LAT = ("lat", "latitude", "y", "wgsy")
_HEADING = ("heading", "direction", "bearing", "yaw", "azimuth", "compass_angle", "computed_compass_angle",
            "camera_angle")
_PATH = ("path", "image_path", "image", "file", "filename", "file_path", "photo")
_LOCATION = ("location_id", "panorama", "pano_id", "panoid", "sequence", "group")


@dataclass
class ReadResult:
    records: list[ReferenceRecord] = field(default_factory=list)
    issues: list[tuple[str | None, int | None, str]] = field(default_factory=list)
    flagged: int = 0  # issues that did not skip the row (imported with a warning)

    @property
    def skipped(self) -> int:
        return len(self.issues) - self.flagged


def _pick(row: dict, names: tuple[str, ...]):
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    for name in names:
        value = lowered.get(name)
        if value not in (None, ""):
            return value
    return None


def _coordinate(value, low: float, high: float) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and low <= v <= high else None


def parse_heading(value) -> float | None:
    """Degrees clockwise from north in [0, 360), or None when absent or not a finite number."""
    if value in (None, ""):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v % 360.0 if math.isfinite(v) else None


def safe_image_path(root: Path, given: str) -> Path:
    """Resolve a path from a collection file inside `root`; raise ValueError if it escapes."""
    if not given or "\x00" in given:
        raise ValueError("empty image path")
    candidate = Path(given.replace("\\", "/"))
    resolved = (candidate if candidate.is_absolute() else root / candidate).resolve()
    root_resolved = root.resolve()
    if resolved != root_resolved and root_resolved not in resolved.parents:
        raise ValueError(f"image path {given!r} leaves the collection folder")
    return resolved


def _checked(root: Path, given, source: str, line: int, result: ReadResult) -> Path | None:
    try:
        path = safe_image_path(root, str(given) if given is not None else "")
    except ValueError as exc:
        result.issues.append((source, line, str(exc)))
        return None
    if not path.is_file():
        result.issues.append((source, line, f"image file not found: {given}"))
        return None
    return path


def _located(row_lon, row_lat, source: str, line: int, result: ReadResult) -> tuple[float, float] | None:
    lon = _coordinate(row_lon, -180.0, 180.0)
    lat = _coordinate(row_lat, -90.0, 90.0)
    if lon is None or lat is None:
        result.issues.append((source, line, f"coordinates missing or out of range: lon={row_lon!r} lat={row_lat!r}"))
        return None
    return lon, lat


def read_csv(path: Path, root: Path | None = None, collection: str | None = None) -> ReadResult:
    """A CSV of id, lon, lat, heading, path; image paths relative to `root` (the CSV's folder)."""
    path = Path(path)
    root = Path(root) if root else path.parent
    collection = collection or path.stem
    result = ReadResult()
    source = path.name
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            result.issues.append((source, 1, "empty CSV"))
            return result
        for line, row in enumerate(reader, start=2):
            if line > MAX_ROWS:
                result.issues.append((source, line, f"more than {MAX_ROWS} rows; the rest is ignored"))
                break
            ref_id = _pick(row, _ID)
            given = _pick(row, _PATH)
            if ref_id is None:
                ref_id = Path(str(given)).stem if given else None
            if ref_id is None:
                result.issues.append((source, line, "no id and no image path"))
                continue
            xy = _located(_pick(row, _LON), _pick(row, _LAT), source, line, result)
            if xy is None:
                continue
            image = _checked(root, given, source, line, result)
            if image is None:
                continue
            raw_heading = _pick(row, _HEADING)
            heading = parse_heading(raw_heading)
            if raw_heading is not None and heading is None:
                result.issues.append((source, line, f"heading {raw_heading!r} is not a number; imported without"))
                result.flagged += 1
            result.records.append(ReferenceRecord(
                str(ref_id).strip(), xy[0], xy[1], str(image), collection, heading=heading,
                location_id=_pick(row, _LOCATION), source_format="csv", source_file=source, source_line=line))
    return result


_VIEW_NAME = re.compile(r"_(\d{1,3})$")


def read_success_csv(path: Path, collection: str | None = None) -> ReadResult:
    """MIST-SMMD street-view folder (`Street_View_Data`) or its `csv_files/success.csv`."""
    path = Path(path)
    csv_path = path if path.is_file() else path / "csv_files" / "success.csv"
    base = csv_path.parent.parent if csv_path.parent.name == "csv_files" else csv_path.parent
    pictures = base / "downloadPic"
    collection = collection or base.name
    result = ReadResult()
    source = csv_path.name
    seen: set[str] = set()
    with open(csv_path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            rid = (row.get("id") or "").strip()
            pid = (row.get("pid") or "").strip()
            if not rid or not pid:
                result.issues.append((source, line, "row without id or pid"))
                continue
            if pid in seen:
                result.issues.append((source, line, f"panorama {pid} already imported (duplicate)"))
                continue
            seen.add(pid)
            xy = _located(row.get("wgsx"), row.get("wgsy"), source, line, result)
            if xy is None:
                continue
            stem = f"{rid}_{pid}"
            try:
                folder = safe_image_path(pictures, stem)
            except ValueError as exc:
                result.issues.append((source, line, str(exc)))
                continue
            views = sorted(p for p in folder.glob(f"{stem}_*") if p.suffix.lower() in PHOTO_SUFFIXES) \
                if folder.is_dir() else []
            if not views:
                result.issues.append((source, line, f"no heading images in downloadPic/{stem}"))
                continue
            for image in views:
                m = _VIEW_NAME.search(image.stem)
                offset = float(m.group(1)) % 360.0 if m else None
                result.records.append(ReferenceRecord(
                    f"{stem}_{m.group(1) if m else image.stem}", xy[0], xy[1], str(image.resolve()), collection,
                    heading=None, view_offset=offset, location_id=pid, accuracy_m=SAMPLE_POINT_ACCURACY_M,
                    position_note="success.csv wgsx/wgsy: the sampled road point that found this panorama, "
                                  "not the panorama's position; heading = road direction + view_offset",
                    source_format="success", source_file=source, source_line=line))
    return result


def _geojson_features(path: Path, result: ReadResult):
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            if doc.get("type") == "FeatureCollection":
                yield from enumerate(doc.get("features") or [], start=1)
                return
            if doc.get("type") == "Feature":
                yield 1, doc
                return
    for line, raw in enumerate(text.splitlines(), start=1):  # GeoJSON-seq (RFC 8142) or NDJSON
        raw = raw.strip().lstrip("\x1e")
        if not raw:
            continue
        try:
            yield line, json.loads(raw)
        except ValueError as exc:
            result.issues.append((path.name, line, f"invalid JSON: {exc.msg}"))


def read_geojson(path: Path, root: Path | None = None, collection: str | None = None) -> ReadResult:
    path = Path(path)
    root = Path(root) if root else path.parent
    collection = collection or path.stem
    result = ReadResult()
    source = path.name
    for line, feature in _geojson_features(path, result):
        if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
            result.issues.append((source, line, "not a GeoJSON feature with a geometry"))
            continue
        geometry = feature["geometry"]
        coords = geometry.get("coordinates")
        if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            result.issues.append((source, line, f"geometry {geometry.get('type')!r} is not a point"))
            continue
        props = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        xy = _located(coords[0], coords[1], source, line, result)
        if xy is None:
            continue
        given = _pick(props, _PATH)
        if given is None:
            result.issues.append((source, line, "no local image path property (path, image, file, ...)"))
            continue
        image = _checked(root, given, source, line, result)
        if image is None:
            continue
        ref_id = _pick(props, _ID) or feature.get("id") or image.stem
        result.records.append(ReferenceRecord(
            str(ref_id), xy[0], xy[1], str(image), collection, heading=parse_heading(_pick(props, _HEADING)),
            location_id=_pick(props, _LOCATION), captured_at=_pick(props, ("captured_at", "timestamp", "time")),
            source_format="geojson", source_file=source, source_line=line))
    return result


def _rational(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        num, den = value
        return float(num) / float(den)


def _dms(values, ref) -> float:
    d, m, s = (_rational(v) for v in values)
    sign = -1.0 if str(ref).strip().upper() in ("S", "W") else 1.0
    return sign * (d + m / 60.0 + s / 3600.0)


def exif_position(path: Path) -> tuple[float, float, float | None, float | None, str | None]:
    """(lon, lat, heading, horizontal error m, capture time) from a photo's EXIF; ValueError if
    it carries no usable GPS position."""
    from ..images.safe_decode import read_header

    exif = read_header(path).exif  # DecodeError (a ValueError) for a bomb, a non-image, a bad format
    gps = exif.get_ifd(0x8825)
    sub = exif.get_ifd(0x8769)
    if not gps or 2 not in gps or 4 not in gps:
        raise ValueError("no GPS position in EXIF")
    try:
        lat = _dms(gps[2], gps.get(1, "N"))
        lon = _dms(gps[4], gps.get(3, "E"))
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"unreadable EXIF GPS position: {exc}") from exc
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError("EXIF GPS position out of range")
    heading = None
    if 17 in gps:
        try:
            heading = parse_heading(_rational(gps[17]))
        except (TypeError, ValueError, ZeroDivisionError):
            heading = None
    error = None
    if 31 in gps:
        try:
            error = _rational(gps[31])
        except (TypeError, ValueError, ZeroDivisionError):
            error = None
    taken = sub.get(36867) or exif.get(306)
    return lon, lat, heading, error, str(taken) if taken else None


def read_geotagged_photos(folder: Path, collection: str | None = None) -> ReadResult:
    folder = Path(folder)
    collection = collection or folder.name
    result = ReadResult()
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file()):
        rel = str(path.relative_to(folder))
        try:
            lon, lat, heading, error, taken = exif_position(path)
        except (OSError, ValueError, SyntaxError) as exc:
            result.issues.append((rel, None, str(exc)))
            continue
        result.records.append(ReferenceRecord(
            Path(rel).with_suffix("").as_posix(), lon, lat, str(path.resolve()), collection, heading=heading,
            accuracy_m=error if error and error > 0 else DEFAULT_ACCURACY_M, captured_at=taken,
            source_format="photos", source_file=rel))
    return result


def detect_format(path: Path) -> str:
    path = Path(path)
    if path.is_dir():
        if (path / "csv_files" / "success.csv").is_file():
            return "success"
        return "photos"
    if path.name.lower() == "success.csv":
        return "success"
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".geojsons", ".geojsonl", ".json", ".ndjson", ".jsonl"):
        return "geojson"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise ValueError(f"cannot tell the reference format of {path.name}; choose one of {', '.join(FORMATS[1:])}")


def read_references(path: str | os.PathLike[str], fmt: str = "auto", collection: str | None = None,
                    root: str | os.PathLike[str] | None = None) -> ReadResult:
    """Read a reference collection in any supported format."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    fmt = detect_format(path) if fmt in (None, "", "auto") else fmt
    if fmt == "csv":
        return read_csv(path, Path(root) if root else None, collection)
    if fmt == "success":
        return read_success_csv(path, collection)
    if fmt == "geojson":
        return read_geojson(path, Path(root) if root else None, collection)
    if fmt == "photos":
        if not path.is_dir():
            raise ValueError("format 'photos' takes a folder of geotagged photos")
        return read_geotagged_photos(path, collection)
    raise ValueError(f"unknown reference format {fmt!r}; choose one of {', '.join(FORMATS)}")


@dataclass
class ReferenceImportSummary:
    run_id: int
    imported: int
    duplicates: int
    skipped: int
    collection: str


def import_references(store, path: str | os.PathLike[str], fmt: str = "auto", collection: str | None = None,
                      root: str | os.PathLike[str] | None = None) -> ReferenceImportSummary:
    """Read a collection and add it to the store's `references` layer as one run; skipped rows go
    to the run's issue report."""
    from ..store import geoloc_sql

    parameters = {"path": str(path), "format": fmt, "collection": collection}
    with run_stage(store, "import_references", parameters) as run:
        result = read_references(path, fmt, collection, root)
        inserted = duplicates = 0
        for i in range(0, max(len(result.records), 1), 1000):
            chunk = result.records[i:i + 1000]
            with store.batch() as conn:
                a, b = geoloc_sql.insert_references(conn, chunk, run.run_id)
                if i == 0 and result.issues:
                    store.record_issues(conn, run.run_id, "import_references", result.issues)
            inserted += a
            duplicates += b
        run.counts = {"imported": inserted, "duplicates": duplicates, "skipped": result.skipped,
                      "flagged": result.flagged}
    name = result.records[0].collection if result.records else (collection or Path(path).stem)
    return ReferenceImportSummary(run.run_id, inserted, duplicates, result.skipped, name)
