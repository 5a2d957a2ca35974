"""Field-loop fixtures: phone photos with EXIF GPS, heading and GPS clock (written with the photo
fixtures' own EXIF writer), and observations added to a package's field layer as a phone would."""

from __future__ import annotations

import importlib.util
import sqlite3
import uuid as uuidlib
from pathlib import Path

import numpy as np

from mist_qgis.core.field import layout
from mist_qgis.core.store import gpkg

_SPEC = importlib.util.spec_from_file_location(
    "mist_make_photos", Path(__file__).resolve().parent.parent / "data" / "posts" / "make_photos.py")
make_photos = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(make_photos)


def phone_photo(path: Path, index: int, lat=None, lon=None, when="2021:07:20 10:30:00", offset="+08:00",
                heading=None, gps_utc="2021:07:20 02:30:00", size: int = 640) -> Path:
    """A real photo (scikit-image's samples) with a phone's EXIF."""
    from tests.helpers.verify_store import sample_photo

    pixels = np.ascontiguousarray(sample_photo(index + 7, size))
    make_photos.save(path, pixels, lat, lon, when, offset, heading, gps_utc=gps_utc if lat is not None else None,
                     quality=85)
    return path


def add_observation(package: Path, lon: float | None, lat: float | None, photo_rel: str | None, verdict=None,
                    depth_class=None, water_depth_m=None, note=None, analyst=None, heading=None,
                    observed_at="2021-07-20T02:30:00Z", obs_uuid: str | None = None) -> str:
    """One feature in the field layer, written like the phone's GeoPackage provider writes it."""
    obs_uuid = obs_uuid or "{" + str(uuidlib.uuid4()) + "}"
    conn = sqlite3.connect(package / layout.GPKG)
    gpkg.register_functions(conn)
    with conn:
        conn.execute(
            f'INSERT INTO "{layout.FIELD_LAYER}" (geom, uuid, observed_at, verdict, depth_class, water_depth_m, '
            "note, photo, heading, gps_accuracy_m, analyst) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (gpkg.point_blob(lon, lat) if lon is not None else None, obs_uuid, observed_at, verdict, depth_class,
             water_depth_m, note, photo_rel, heading, 4.0, analyst))
    conn.close()
    return obs_uuid
