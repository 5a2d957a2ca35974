"""Exports of the verified results: flood points with water depth for maps and reports, and a
training-set folder of verified photos for retraining a screening model elsewhere.

Points come from the posts' mirrored verdicts (what the layer shows); posts that are not placed
yet cannot be points and are counted, not silently dropped. The training set copies cached photos
by label and checks each copy against its sha256, so a damaged cache never poisons training data.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MistError
from ..options import EXPORT_FORMATS
from ..stage import MediaStatus
from ..store import Store, StoreError, gpkg, verify_sql
from .records import VERDICTS, depth_class_for

_DRIVERS = {"gpkg": "GPKG", "geojson": "GeoJSON", "csv": "CSV"}
FORMATS = {name: _DRIVERS[name] for name in EXPORT_FORMATS if name != "auto"}
_EXTENSIONS = {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".csv": "csv"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_IMAGE_SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif",
                   "image/bmp": ".bmp", "image/tiff": ".tif"}
MANIFEST = "manifest.csv"
SKIPPED = "skipped.csv"


class ExportError(MistError):
    """An export that cannot run; the message says why in user terms."""


@dataclass
class PointsExport:
    path: str
    format: str
    points: int
    unlocated_skipped: int
    verdicts: list[str]


@dataclass
class TrainingSetExport:
    folder: str
    copied: dict[str, int]                                    # label -> photos
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (media fid, reason)

    @property
    def total(self) -> int:
        return sum(self.copied.values())


def format_for(path: str | Path, fmt: str | None = None) -> str:
    """The export format: given, or from the file extension."""
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in _EXTENSIONS:
        raise ExportError(f"cannot tell the format from {Path(path).name!r}; give it (gpkg, geojson or csv)")
    return _EXTENSIONS[suffix]


_FIELDS = [
    ("post_id", "str"), ("platform", "str"), ("timestamp", "datetime"), ("url", "str"), ("verified", "str"),
    ("verified_by", "str"), ("verified_at", "datetime"), ("water_depth_m", "real"), ("depth_class", "str"),
    ("note", "str"), ("n_analysts", "int"), ("geo_source", "str"), ("geo_accuracy_m", "real"),
    ("photo_sha256", "str"), ("lon", "real"), ("lat", "real"),
]


def export_points(
    store: Store, out: str | Path, fmt: str | None = None, verdicts: tuple[str, ...] = ("flood",),
    include_text: bool = False, layer_name: str = "verified_points",
) -> PointsExport:
    """Write verified posts as points (EPSG:4326) with water depth to GeoPackage, GeoJSON or CSV."""
    from osgeo import ogr, osr

    ogr.UseExceptions()
    out = Path(out).expanduser().resolve()
    fmt = format_for(out, fmt)
    bad = [v for v in verdicts if v not in VERDICTS]
    if bad or not verdicts:
        raise ExportError(f"verdicts must be among {', '.join(VERDICTS)}")
    if out == store.path or out == store.path.with_name(store.path.name + "-wal"):
        raise ExportError("the export would overwrite the store itself; choose another file")
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = verify_sql.verified_posts(store, list(verdicts), include_unlocated=False)
    unlocated = verify_sql.count_unlocated_verified(store, list(verdicts))
    driver = ogr.GetDriverByName(FORMATS[fmt])
    # Write beside the target under the format's own extension (OGR's CSV driver makes a folder for
    # any other name), then move it into place: a failed export never leaves half a file.
    tmp = out.with_name(f".{out.name}.mist-tmp.{fmt}")
    if tmp.exists():
        driver.DeleteDataSource(str(tmp))
    ds = driver.CreateDataSource(str(tmp))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    options = {"gpkg": [], "geojson": ["RFC7946=YES"], "csv": ["GEOMETRY=AS_XY", "CREATE_CSVT=YES"]}[fmt]
    layer = ds.CreateLayer(layer_name, srs, ogr.wkbPoint, options=options)
    types = {"str": ogr.OFTString, "datetime": ogr.OFTDateTime, "real": ogr.OFTReal, "int": ogr.OFTInteger}
    fields = _FIELDS + ([("text", "str")] if include_text else [])
    for name, kind in fields:
        layer.CreateField(ogr.FieldDefn(name, types[kind]))
    defn = layer.GetLayerDefn()
    layer.StartTransaction()
    for row in rows:
        feature = ogr.Feature(defn)
        x, y = gpkg.point_xy(row["geom"])
        values = dict(row)
        values.update(lon=x, lat=y, depth_class=depth_class_for(row["water_depth_m"]))
        for name, _ in fields:
            value = values.get(name)
            if value is not None:
                feature.SetField(name, value)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({x!r} {y!r})"))
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    ds = None  # flush and close
    os.replace(tmp, out)
    if fmt == "csv" and tmp.with_suffix(".csvt").exists():
        os.replace(tmp.with_suffix(".csvt"), out.with_suffix(".csvt"))
    return PointsExport(str(out), fmt, len(rows), unlocated, list(verdicts))


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_training_set(
    store: Store, folder: str | Path, include_unsure: bool = False, exclude_conflicts: bool = True,
) -> TrainingSetExport:
    """Copy verified photos into `folder/<label>/<sha256><ext>` and write `manifest.csv`.

    Photos analysts disagree on are left out by default (they are the conflicts to resolve, not
    training data); skipped photos and the reason go to `skipped.csv`. Re-running into the same
    folder refreshes it; a non-empty folder that is not a previous training set is refused.
    """
    folder = Path(folder).expanduser().resolve()
    if folder.exists() and any(folder.iterdir()) and not (folder / MANIFEST).exists():
        raise ExportError(f"{folder} is not empty and holds no {MANIFEST}: choose an empty folder")
    media_root = store.media_dir.resolve()
    if folder == media_root or media_root in folder.parents:
        raise ExportError("the training set cannot go inside the store's photo cache")
    labels = ["flood", "not_flood"] + (["unsure"] if include_unsure else [])
    result = TrainingSetExport(str(folder), {label: 0 for label in labels})
    manifest: list[dict] = []
    exported: dict[str, int] = {}  # sha256 -> media fid: one file per distinct photo
    for row in verify_sql.verified_photos(store):
        fid = row["media_fid"]
        if row["verdict"] not in labels:
            continue
        if exclude_conflicts and row["n_verdicts"] > 1:
            result.skipped.append((fid, "analysts disagree on this photo"))
            continue
        if row["status"] != MediaStatus.OK or not row["cache_path"]:
            result.skipped.append((fid, f"photo not in the cache (status {row['status']})"))
            continue
        sha = (row["sha256"] or "").lower()
        if not _SHA256.match(sha):
            result.skipped.append((fid, "photo has no valid sha256"))
            continue
        try:
            source = store.media_file(row["cache_path"])
        except StoreError as exc:
            result.skipped.append((fid, str(exc)))
            continue
        if not source.is_file():
            result.skipped.append((fid, "cached file is missing"))
            continue
        if sha in exported:
            result.skipped.append((fid, f"same photo as media {exported[sha]}"))
            continue
        suffix = _IMAGE_SUFFIXES.get((row["content_type"] or "").lower()) or source.suffix.lower() or ".img"
        target = folder / row["verdict"] / f"{sha}{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (target.is_file() and _sha256_of(target) == sha):
            if _sha256_of(source) != sha:
                result.skipped.append((fid, "cached file does not match its sha256 (damaged cache)"))
                continue
            shutil.copyfile(source, target)
        result.copied[row["verdict"]] += 1
        exported[sha] = fid
        manifest.append({
            "file": target.relative_to(folder).as_posix(), "label": row["verdict"], "sha256": sha,
            "media_fid": fid, "post_id": row["post_id"], "platform": row["platform"],
            "water_depth_m": "" if row["water_depth_m"] is None else row["water_depth_m"],
            "analyst": row["analyst"], "verified_at": row["verified_at"],
        })
    folder.mkdir(parents=True, exist_ok=True)
    columns = ["file", "label", "sha256", "media_fid", "post_id", "platform", "water_depth_m", "analyst",
               "verified_at"]
    with open(folder / MANIFEST, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(manifest)
    with open(folder / SKIPPED, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["media_fid", "reason"])
        writer.writerows(result.skipped)
    return result
