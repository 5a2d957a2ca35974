"""What a field package holds and where: one home for the names both directions of the loop use
(writing the package, the QGIS project, reading a returned package)."""

from __future__ import annotations

from dataclasses import dataclass

FORMAT = "mist-field-package/1"
GPKG = "mist_field.gpkg"          # every vector layer of the package
PROJECT = "mist_field.qgz"        # the QGIS project QField and Mergin Maps open
MANIFEST = "mist_field_manifest.json"
PHOTOS = "photos"                 # downsized photos of the verified posts
NEW_PHOTOS = "DCIM"               # where the phone saves the observations' photos
STYLES = "styles"
DEPTH_RASTER = "water_depth.tif"

VERIFIED_LAYER = "verified_points"
EXTENT_LAYER = "flood_extent"
CONTOUR_LAYER = "depth_contours"
ALERTS_LAYER = "alerts"
FIELD_LAYER = "field_observations"

PHOTO_LONG_SIDE = 1024  # px: enough to recognise a street on a phone, ~150 kB as JPEG
PHOTO_QUALITY = 80
DEFAULT_MAX_MB = 50.0   # fits a phone's mobile-data sync (Mergin Maps) and a messenger upload
CONTOUR_INTERVAL_M = 0.25

PLATFORM = "field"      # posts and references that come back from the field
DEFAULT_ANALYST = "field team"


@dataclass(frozen=True)
class FieldColumn:
    name: str
    kind: str  # "str", "real", "datetime"


# The field layer a phone fills in. `uuid` is the observation's own id (default uuid() on the
# device), so the same observation returned by two teams arrives once.
FIELD_COLUMNS = (
    FieldColumn("uuid", "str"), FieldColumn("observed_at", "datetime"), FieldColumn("verdict", "str"),
    FieldColumn("depth_class", "str"), FieldColumn("water_depth_m", "real"), FieldColumn("note", "str"),
    FieldColumn("photo", "str"), FieldColumn("heading", "real"), FieldColumn("gps_accuracy_m", "real"),
    FieldColumn("analyst", "str"),
)

# The live monitor's alerts (the store's `alerts` table), under names a phone form reads; an empty
# layer keeps the project the same whether or not the store has alerts yet.
ALERT_COLUMNS = (
    FieldColumn("alert_id", "str"), FieldColumn("rule", "str"), FieldColumn("label", "str"),
    FieldColumn("score", "real"), FieldColumn("message", "str"), FieldColumn("posts", "real"),
    FieldColumn("status", "str"), FieldColumn("issued_at", "datetime"),
)
