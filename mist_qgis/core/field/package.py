"""A field package: a folder (or a zip of it) that QField and Mergin Maps open as it is.

It holds one GeoPackage (verified flood points, flood extent, depth contours, alerts, and an
empty layer for the team's new observations), the depth raster, the verified posts' photos as
small JPEGs, the styles, a QGIS project with relative paths (written by a QGIS-side writer passed
in, so this module stays free of QGIS) and a manifest that lists what was left out and why.

A size budget keeps the package light enough for a phone: the layers always go in, then the
depth raster, then photos, newest verification first; whatever does not fit is listed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import MistError
from ..store import Store
from ..store import field_sql as sql
from ..store.store import utc_now
from . import layout


class FieldPackageError(MistError):
    """A field package that cannot be written or read; the message names the file."""


@dataclass(frozen=True)
class Selection:
    """Which evidence goes out: an area (lon/lat box, EPSG:4326) and a time window (UTC; a post
    without a time is outside any window)."""

    extent: tuple[float, float, float, float] | None = None
    since: datetime | None = None
    until: datetime | None = None
    max_mb: float = layout.DEFAULT_MAX_MB

    def validated(self) -> Selection:
        if self.extent is not None:
            x0, y0, x1, y1 = self.extent
            if not all(math.isfinite(v) for v in self.extent) or x0 >= x1 or y0 >= y1:
                raise FieldPackageError(f"the area {self.extent} is empty: give XMIN,YMIN,XMAX,YMAX with XMIN < XMAX")
            if not (-180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90):
                raise FieldPackageError("the area must be in longitude/latitude (EPSG:4326)")
        if self.since and self.until and self.since > self.until:
            raise FieldPackageError("the time window ends before it starts")
        if not (math.isfinite(self.max_mb) and self.max_mb > 0):
            raise FieldPackageError("the size limit must be a positive number of megabytes")
        return self

    def keeps(self, lon: float, lat: float, timestamp: str | None) -> bool:
        if self.extent is not None:
            x0, y0, x1, y1 = self.extent
            if not (x0 <= lon <= x1 and y0 <= lat <= y1):
                return False
        if self.since or self.until:
            when = _parse(timestamp)
            if when is None:
                return False
            if (self.since and when < self.since) or (self.until and when > self.until):
                return False
        return True


@dataclass
class LeftOut:
    item: str
    reason: str


@dataclass
class PackageResult:
    """What a package holds (also its manifest, as JSON)."""

    path: str
    folder: str
    points: int = 0
    photos: int = 0
    layers: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    bytes: int = 0
    max_bytes: int = 0
    left_out: list[LeftOut] = field(default_factory=list)
    not_selected: int = 0
    unlocated_skipped: int = 0
    project: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ProjectWriter = Callable[[Path, list[str], bool], str]  # (package folder, layers, has raster) -> project file


def _parse(value: Any) -> datetime | None:
    from ..posts.issues import SkipRecord
    from ..posts.timeparse import parse_time

    try:
        return parse_time(value)
    except (SkipRecord, ValueError, TypeError):
        return None


def _prepare_folder(folder: Path) -> None:
    if folder.exists():
        if not folder.is_dir():
            raise FieldPackageError(f"{folder} exists and is not a folder")
        if any(folder.iterdir()) and not (folder / layout.MANIFEST).is_file():
            raise FieldPackageError(f"{folder} is not empty and holds no {layout.MANIFEST}: choose an empty folder")
        if _holds_observations(folder):
            raise FieldPackageError(f"{folder} holds a field team's observations: import them first "
                                    "(import-field), or choose another folder")
        shutil.rmtree(folder)  # a previous package nobody has filled in: written again from scratch
    folder.mkdir(parents=True)


def _holds_observations(folder: Path) -> bool:
    """True when a package folder carries work from the field (new photos or observations)."""
    if any(p.is_file() for p in (folder / layout.NEW_PHOTOS).rglob("*")):
        return True
    gpkg_path = folder / layout.GPKG
    if not gpkg_path.is_file():
        return False
    try:
        conn = sqlite3.connect(gpkg_path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            return bool(conn.execute(f'SELECT count(*) FROM "{layout.FIELD_LAYER}"').fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return True  # unreadable: do not guess, keep it


def build_package(store: Store, out: str | Path, selection: Selection | None = None,
                  write_project: ProjectWriter | None = None, styles_dir: Path | None = None) -> PackageResult:
    """Write a field package to `out` (a folder, or a .zip file) and return what it holds."""
    from ..verify.export import export_points

    selection = (selection or Selection()).validated()
    out = Path(out).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    as_zip = out.suffix.lower() == ".zip"
    tmp_root = Path(tempfile.mkdtemp(prefix=".mist-field-", dir=out.parent))
    try:
        folder = tmp_root / out.stem if as_zip else out
        _prepare_folder(folder)
        result = PackageResult(str(out), str(folder), max_bytes=int(selection.max_mb * 1024 * 1024))
        selected: list[int] = []
        dropped = [0]

        def keep(row: sqlite3.Row) -> bool:
            from ..store import gpkg

            lon, lat = gpkg.point_xy(row["geom"])
            if selection.keeps(lon, lat, row["timestamp"]):
                selected.append(int(row["fid"]))
                return True
            dropped[0] += 1
            return False

        gpkg_path = folder / layout.GPKG
        points = export_points(store, gpkg_path, "gpkg", ("flood",), layer_name=layout.VERIFIED_LAYER, keep=keep)
        result.points, result.not_selected = points.points, dropped[0]
        result.unlocated_skipped = points.unlocated_skipped
        result.layers.append(layout.VERIFIED_LAYER)
        depth, extent = sql.latest_inundation(store)
        if extent is not None:
            if _copy_extent(extent, gpkg_path, selection):
                result.layers.append(layout.EXTENT_LAYER)
            else:
                result.left_out.append(LeftOut(extent.name, "the flood extent does not reach the chosen area"))
        if depth is not None and _contours(depth, gpkg_path, selection):
            result.layers.append(layout.CONTOUR_LAYER)
        alerts = _write_alerts(store, gpkg_path)
        result.layers.append(layout.ALERTS_LAYER)
        _write_field_layer(gpkg_path)
        result.layers.append(layout.FIELD_LAYER)
        (folder / layout.NEW_PHOTOS).mkdir()
        if styles_dir is not None and styles_dir.is_dir():
            (folder / layout.STYLES).mkdir()
            for qml in sorted(styles_dir.glob("*.qml")):
                shutil.copyfile(qml, folder / layout.STYLES / qml.name)
        used = _folder_bytes(folder)
        if used > result.max_bytes:
            raise FieldPackageError(
                f"the layers alone take {used / 1e6:.1f} MB, more than the {selection.max_mb:g} MB limit: "
                "choose a smaller area or a shorter time window")
        has_raster = False
        if depth is not None:
            has_raster, used = _copy_depth(depth, folder, selection, used, result)
        used = _add_photos(store, selected, folder, gpkg_path, used, result)
        if write_project is not None:
            result.project = write_project(folder, list(result.layers), has_raster)
        result.files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        result.bytes = _folder_bytes(folder)
        source = store.path.name if store.path is not None else store.target
        manifest = {"format": layout.FORMAT, "created_at": utc_now(), "store": source,
                    "selection": {"extent": selection.extent,
                                  "since": selection.since.isoformat() if selection.since else None,
                                  "until": selection.until.isoformat() if selection.until else None,
                                  "max_mb": selection.max_mb},
                    "field_layer": layout.FIELD_LAYER, "alerts": alerts, **result.as_dict()}
        manifest["path"] = str(out)
        manifest.pop("folder")
        (folder / layout.MANIFEST).write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        if as_zip:
            _zip_folder(folder, out)
            result.folder = str(out)
        return result
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _zip_folder(folder: Path, out: Path) -> None:
    tmp = out.with_name(f".{out.name}.mist-tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_dir():
                zf.writestr(rel + "/", b"")
            else:
                zf.write(path, rel, compress_type=zipfile.ZIP_STORED if path.suffix == ".jpg" else zipfile.ZIP_DEFLATED)
    os.replace(tmp, out)


def _ogr():
    from osgeo import gdal, ogr, osr

    ogr.UseExceptions()  # as the verified-points export does; GDAL's raster side keeps its return values
    return gdal, ogr, osr


def _wgs84():
    _, _, osr = _ogr()
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def _copy_extent(source: Path, gpkg_path: Path, selection: Selection) -> bool:
    """The flood extent polygons (reprojected to EPSG:4326), clipped to the area when one is given;
    what a clip leaves of lower dimension (a touching corner) is not water and is dropped."""
    _, ogr, osr = _ogr()
    src = ogr.Open(str(source))
    src_layer = src.GetLayer(0)
    wgs84 = _wgs84()
    src_srs = src_layer.GetSpatialRef()
    transform = None
    if src_srs is not None and not src_srs.IsSame(wgs84):
        src_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        transform = osr.CoordinateTransformation(src_srs, wgs84)
    box = None
    if selection.extent is not None:
        x0, y0, x1, y1 = selection.extent
        box = ogr.CreateGeometryFromWkt(f"POLYGON (({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))")
    ds = ogr.Open(str(gpkg_path), update=1)
    layer = ds.CreateLayer(layout.EXTENT_LAYER, wgs84, ogr.wkbMultiPolygon)
    src_defn = src_layer.GetLayerDefn()
    for i in range(src_defn.GetFieldCount()):
        layer.CreateField(src_defn.GetFieldDefn(i))
    defn = layer.GetLayerDefn()
    written = 0
    layer.StartTransaction()
    for feature in src_layer:
        geom = feature.GetGeometryRef()
        if geom is None:
            continue
        geom = geom.Clone()
        if transform is not None:
            geom.Transform(transform)
        if box is not None:
            geom = geom.Intersection(box)
        parts = _polygons(geom, ogr)
        if parts is None:
            continue
        out = ogr.Feature(defn)
        for i in range(src_defn.GetFieldCount()):
            out.SetField(i, feature.GetField(i))
        out.SetGeometry(parts)
        layer.CreateFeature(out)
        written += 1
    layer.CommitTransaction()
    ds = src = None
    return written > 0


def _polygons(geom, ogr):
    """The polygonal parts of a geometry as one MultiPolygon, or None."""
    if geom is None or geom.IsEmpty():
        return None
    multi = ogr.Geometry(ogr.wkbMultiPolygon)
    flat = ogr.GT_Flatten(geom.GetGeometryType())
    if flat == ogr.wkbPolygon:
        multi.AddGeometry(geom)
    elif flat in (ogr.wkbMultiPolygon, ogr.wkbGeometryCollection):
        for i in range(geom.GetGeometryCount()):
            part = geom.GetGeometryRef(i)
            if ogr.GT_Flatten(part.GetGeometryType()) == ogr.wkbPolygon:
                multi.AddGeometry(part)
    return multi if multi.GetGeometryCount() else None


def _contours(depth: Path, gpkg_path: Path, selection: Selection) -> bool:
    """Depth contours every CONTOUR_INTERVAL_M (lines stay readable on a phone at any zoom), those
    that reach the area when one is given."""
    gdal, ogr, osr = _ogr()
    src = gdal.Open(str(depth))
    if src is None:
        return False
    band = src.GetRasterBand(1)
    tmp = gpkg_path.with_name(".contours.gpkg")
    drv = ogr.GetDriverByName("GPKG")
    ds = drv.CreateDataSource(str(tmp))
    layer = ds.CreateLayer(layout.CONTOUR_LAYER, osr.SpatialReference(wkt=src.GetProjection()), ogr.wkbLineString)
    layer.CreateField(ogr.FieldDefn("id", ogr.OFTInteger))
    layer.CreateField(ogr.FieldDefn("depth_m", ogr.OFTReal))
    nodata = band.GetNoDataValue()
    gdal.ContourGenerate(band, layout.CONTOUR_INTERVAL_M, 0.0, [], 1 if nodata is not None else 0,
                         nodata if nodata is not None else 0.0, layer, 0, 1)
    count = layer.GetFeatureCount()
    del layer, ds, band, src  # flush and close
    options = ["-nln", layout.CONTOUR_LAYER, "-t_srs", "EPSG:4326", "-update", "-append"]
    if selection.extent is not None:
        options += ["-spat", *(str(v) for v in selection.extent), "-spat_srs", "EPSG:4326"]
    done = gdal.VectorTranslate(str(gpkg_path), str(tmp), options=options) if count else None
    del done  # closes the target
    drv.DeleteDataSource(str(tmp))
    out = ogr.Open(str(gpkg_path))
    written = out.GetLayerByName(layout.CONTOUR_LAYER)
    return written is not None and written.GetFeatureCount() > 0


def _copy_depth(depth: Path, folder: Path, selection: Selection, used: int, result: PackageResult) -> tuple[bool, int]:
    gdal, _, _ = _ogr()
    target = folder / layout.DEPTH_RASTER
    options = ["-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=3", "-co", "TILED=YES"]
    if selection.extent is not None:
        x0, y0, x1, y1 = selection.extent
        options += ["-projwin", str(x0), str(y1), str(x1), str(y0), "-projwin_srs", "EPSG:4326"]
    done = gdal.Translate(str(target), str(depth), options=options)
    if done is None:  # GDAL's own exceptions stay off: other stages test its return values
        result.left_out.append(LeftOut(depth.name, "the depth raster could not be cut to the area: "
                                                   f"{gdal.GetLastErrorMsg() or 'outside it'}"))
        target.unlink(missing_ok=True)
        return False, used
    del done  # flush and close
    size = target.stat().st_size
    if used + size > result.max_bytes:
        target.unlink()
        result.left_out.append(LeftOut(depth.name, f"size limit: the depth raster ({size / 1e6:.1f} MB) does not fit; "
                                                   "its contours are in the package"))
        return False, used
    return True, used + size


def _write_alerts(store: Store, gpkg_path: Path) -> int:
    """The store's alerts (raised by the live monitor), or an empty layer with the alert fields."""
    from ..store import gpkg, live_sql

    _, ogr, _ = _ogr()
    ds, layer = _point_layer(gpkg_path, layout.ALERTS_LAYER, layout.ALERT_COLUMNS)
    defn = layer.GetLayerDefn()
    written = 0
    for row in live_sql.alert_rows(store):
        values = {"alert_id": str(row["fid"]), "rule": row["rule"], "label": row["label"], "score": row["score"],
                  "message": row["text"], "posts": row["posts"], "status": row["status"],
                  "issued_at": row["created_at"]}
        feature = ogr.Feature(defn)
        for name, value in values.items():
            if value is not None:
                feature.SetField(name, value)
        if row["geom"]:
            x, y = gpkg.point_xy(row["geom"])
            feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({x!r} {y!r})"))
        layer.CreateFeature(feature)
        written += 1
    del layer, ds  # flush and close
    return written


def _point_layer(gpkg_path: Path, name: str, columns) -> tuple:
    """(open dataset, new empty point layer in EPSG:4326 with `columns`)."""
    _, ogr, _ = _ogr()
    ds = ogr.Open(str(gpkg_path), update=1)
    layer = ds.CreateLayer(name, _wgs84(), ogr.wkbPoint)
    types = {"str": ogr.OFTString, "real": ogr.OFTReal, "datetime": ogr.OFTDateTime}
    for column in columns:
        layer.CreateField(ogr.FieldDefn(column.name, types[column.kind]))
    return ds, layer


def _write_field_layer(gpkg_path: Path) -> None:
    ds, layer = _point_layer(gpkg_path, layout.FIELD_LAYER, layout.FIELD_COLUMNS)
    del layer, ds  # flush and close


def _add_photos(store: Store, post_fids: list[int], folder: Path, gpkg_path: Path, used: int,
                result: PackageResult) -> int:
    """Downsize the selected posts' photos into photos/ until the budget is spent; link each point
    to its first photo (a path relative to the project)."""
    from ..images.cache import encode_jpeg
    from ..images.safe_decode import DecodeError, decode_file
    from ..store import StoreError

    (folder / layout.PHOTOS).mkdir()
    first: dict[str, str] = {}
    for row in sql.photos_of_posts(store, post_fids):
        sha = row["sha256"]
        name = f"{layout.PHOTOS}/{sha}.jpg"
        if (folder / name).is_file():
            first.setdefault(row["post_id"], name)
            continue
        try:
            source = store.media_file(row["cache_path"])
            with decode_file(source, target=(layout.PHOTO_LONG_SIDE, layout.PHOTO_LONG_SIDE)) as decoded:
                image = decoded.image
                if max(image.size) > layout.PHOTO_LONG_SIDE:
                    from PIL import Image

                    image = image.copy()
                    image.thumbnail((layout.PHOTO_LONG_SIDE, layout.PHOTO_LONG_SIDE), Image.Resampling.LANCZOS)
                data = encode_jpeg(image, layout.PHOTO_QUALITY)
        except (StoreError, DecodeError, OSError) as exc:
            result.left_out.append(LeftOut(f"photo {sha[:12]} of post {row['post_id']}", f"unreadable: {exc}"))
            continue
        if used + len(data) > result.max_bytes:
            result.left_out.append(LeftOut(f"photo {sha[:12]} of post {row['post_id']}",
                                           f"size limit: {len(data) / 1e3:.0f} kB more would pass "
                                           f"{result.max_bytes / 1048576:g} MB"))
            continue
        (folder / name).write_bytes(data)  # pixels only: no EXIF, so no stranger's GPS leaves the office
        used += len(data)
        result.photos += 1
        first.setdefault(row["post_id"], name)
    _, ogr, _ = _ogr()
    ds = ogr.Open(str(gpkg_path), update=1)
    layer = ds.GetLayerByName(layout.VERIFIED_LAYER)
    layer.CreateField(ogr.FieldDefn("photo", ogr.OFTString))
    layer.StartTransaction()
    for feature in layer:
        path = first.get(feature.GetField("post_id"))
        if path:
            feature.SetField("photo", path)
            layer.SetFeature(feature)
    layer.CommitTransaction()
    ds = None
    return used
