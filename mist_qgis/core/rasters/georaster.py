"""GDAL plumbing shared by the raster products: opening with clear errors, writing GeoTIFFs that
keep the input's CRS and geotransform."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import MistError

GTIFF_OPTIONS = ("TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=DEFLATE", "ZLEVEL=1",
                 "PREDICTOR=2", "BIGTIFF=IF_SAFER", "NUM_THREADS=ALL_CPUS")


class RasterInputError(MistError, ValueError):
    """A raster (or its companion data) cannot be used as given; the message says how to fix it."""


def is_rotated(geotransform: Sequence[float]) -> bool:
    return geotransform[2] != 0 or geotransform[4] != 0


def gdal_open(path: str | Path, vector: bool = False):
    """(dataset or None, GDAL's message) of a raster (or, with `vector`, an OGR data source),
    whether GDAL's Python exceptions are on or off: QGIS 3.40 turns them on for the whole process,
    3.22 leaves them off."""
    from osgeo import gdal, ogr

    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        ds = ogr.Open(str(path)) if vector else gdal.Open(str(path))
        message = gdal.GetLastErrorMsg()
    except RuntimeError as exc:
        ds, message = None, str(exc)
    finally:
        gdal.PopErrorHandler()
    return ds, message


def open_raster(path: str | Path, require_crs: bool = False, refuse_rotation: bool = False):
    """A GDAL dataset, or RasterInputError naming what is wrong with the file."""
    ds, message = gdal_open(path)
    if ds is None:
        raise RasterInputError(f"cannot open raster {path}: {message or 'not a raster GDAL can read'}")
    if ds.RasterCount < 1 or ds.RasterXSize < 1 or ds.RasterYSize < 1:
        raise RasterInputError(f"{path} has no pixels")
    if require_crs and not ds.GetProjection():
        raise RasterInputError(
            f"{path} has no coordinate reference system; assign one (Raster > Projections > Assign Projection)"
        )
    if refuse_rotation and is_rotated(ds.GetGeoTransform()):
        raise RasterInputError(
            f"{path} has a rotated geotransform; warp it to a north-up grid first (gdalwarp or Raster > Warp)"
        )
    return ds


def create_geotiff(
    path: str | Path, width: int, height: int, bands: int, gdal_type: int,
    geotransform: Sequence[float] | None, projection: str, nodata: float | None = None,
    options: Sequence[str] = GTIFF_OPTIONS,
):
    """A new tiled, compressed GeoTIFF with the given georeferencing (written block by block)."""
    from osgeo import gdal

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = gdal.GetDriverByName("GTiff").Create(str(path), width, height, bands, gdal_type, list(options))
    if ds is None:
        raise RasterInputError(f"cannot create {path}: {gdal.GetLastErrorMsg()}")
    if geotransform is not None:
        ds.SetGeoTransform(tuple(geotransform))
    if projection:
        ds.SetProjection(projection)
    if nodata is not None:
        for b in range(1, bands + 1):
            ds.GetRasterBand(b).SetNoDataValue(nodata)
    return ds
