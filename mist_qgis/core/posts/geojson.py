"""GeoJSON FeatureCollections (streamed feature by feature) and GeoJSON sequences (one feature
per line, RS-separated or not). Properties map onto post fields like CSV columns do; a Point is
a GPS position, any other geometry is placed at its box centre with the box size as accuracy."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .columns import ColumnMapping, Reading, RowContext, accuracy_m, guess_mapping, row_to_record
from .geo import bbox_centre, is_null_island
from .ids import canonical_id
from .issues import NotAPostCollection, Records, SkipRecord
from .record import PostRecord
from .textio import Source, iter_json, iter_json_array_member

_CRS_NAME = re.compile(r'"crs"\s*:\s*\{.*?"name"\s*:\s*"([^"]+)"', re.S)
WGS84_NAMES = ("CRS84", "4326", "CRS:84")


def is_feature_collection(text: str) -> bool:
    return re.search(r'"type"\s*:\s*"FeatureCollection"', text[:4096]) is not None


def read_geojson(src: Source, overrides: Mapping[str, str] | None = None, reading: Reading | None = None
                 ) -> Records:
    """Features as posts. Coordinates are WGS 84 (RFC 7946); a legacy file without a `crs` member
    whose coordinates are projected is read in the CRS the user names (the CRS option)."""
    text = src.info.text
    _refuse_other_crs(src, _CRS_NAME.search(text[:8192]))
    collection = is_feature_collection(text)
    if collection:  # a `crs` member may also follow the features: look at the end of the file too
        _refuse_other_crs(src, _crs_at_end(src))
    features = iter_json_array_member(src, "features") if collection else iter_json(src)
    mappings: dict[tuple[str, ...], ColumnMapping] = {}
    ctx = (reading or Reading()).context("geojson")
    name = src.name
    return Records(name, features, lambda line, feature: _feature(feature, overrides, mappings, ctx, name, line))


def _refuse_other_crs(src: Source, m: re.Match | None) -> None:
    if m and not m.group(1).upper().endswith(WGS84_NAMES):
        raise NotAPostCollection(f"{src.path.name} is in {m.group(1)}, not WGS 84: reproject it to EPSG:4326 first")


TAIL_BYTES = 64 * 1024


def _crs_at_end(src: Source) -> re.Match | None:
    """The last `crs` member in the file's last 64 KiB (where a writer that puts it after the
    features leaves it); read with its own handle, so the stream's position is untouched."""
    size = src.info.size
    if size <= len(src.info.sample):
        tail = src.info.sample
    else:
        with open(src.path, "rb") as fh:
            fh.seek(max(0, size - TAIL_BYTES))
            tail = fh.read(TAIL_BYTES)
    matches = list(_CRS_NAME.finditer(tail.decode(src.line_encoding, errors="replace")))
    return matches[-1] if matches else None


def _positions(coords: Any, out: list[tuple[float, float]], ctx: RowContext, depth: int = 0) -> None:
    if depth > 6:
        raise SkipRecord("geometry nested too deeply")
    if isinstance(coords, list) and coords and not isinstance(coords[0], list):
        if len(coords) < 2:
            raise SkipRecord("geometry position has fewer than 2 numbers")
        out.append(ctx.point(coords[0], coords[1]))
        return
    if not isinstance(coords, list):
        raise SkipRecord("geometry coordinates are malformed")
    for c in coords:
        _positions(c, out, ctx, depth + 1)


def _geometry(geom: Any, ctx: RowContext) -> tuple[float, float, float | None, str] | None:
    if geom is None:
        return None
    if not isinstance(geom, dict) or not isinstance(geom.get("type"), str):
        raise SkipRecord("geometry is malformed")
    kind = geom["type"]
    if kind == "GeometryCollection":
        pts: list[tuple[float, float]] = []
        for g in geom.get("geometries") or []:
            if isinstance(g, dict):
                _positions(g.get("coordinates"), pts, ctx)
    else:
        pts = []
        _positions(geom.get("coordinates"), pts, ctx)
    if not pts:
        return None
    if kind == "Point":
        return pts[0][0], pts[0][1], None, "gps"
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    lon, lat, acc = bbox_centre(min(xs), min(ys), max(xs), max(ys))
    return lon, lat, acc, "place"


def _feature(
    feature: Any, overrides, mappings: dict, ctx: RowContext, source: str, line: int,
) -> PostRecord:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise SkipRecord("record is not a GeoJSON Feature")
    props = feature.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise SkipRecord("feature properties are not an object")
    values = {str(k): (v if isinstance(v, (str, int, float)) or v is None else json.dumps(v, ensure_ascii=False))
              for k, v in props.items()}
    key = tuple(values)
    mapping = mappings.get(key)
    if mapping is None:
        mapping = guess_mapping(list(values), overrides)
        for coord_field in ("lon", "lat", "wkt"):  # the geometry is the location
            mapping.fields.pop(coord_field, None)
        if len(mappings) < 256:
            mappings[key] = mapping
    geometry = _geometry(feature.get("geometry"), ctx)
    rec = row_to_record(values, mapping, ctx, source, line)
    if "post_id" not in mapping.fields and canonical_id(feature.get("id")):
        rec.post_id = canonical_id(feature["id"])
    if geometry is not None and not is_null_island(geometry[0], geometry[1]):
        rec.lon, rec.lat, acc, kind = geometry
        given = values.get(mapping.fields.get("geo_source", ""), None)
        rec.geo_source = given if given in ("gps", "place", "exif", "geocoded", "image_match") else kind
        given_acc = accuracy_m(values.get(mapping.fields.get("accuracy", ""), None))
        rec.geo_accuracy_m = acc if given_acc is None else given_acc
    return ctx.noted(rec)
