"""Renderers for MIST's rasters, saved as sidecar `.qml` files beside each raster, so the layer is
styled (and time-aware) however it is opened: from a task, a Processing run, the CLI or by hand.

Needs qgis.core (imported locally, so importing this module stays cheap).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

# (fraction of the range, (r, g, b, alpha)): transparent where there is nothing, hot where dense
HOT_RAMP = ((0.0, (255, 255, 178, 0)), (0.15, (254, 204, 92, 150)), (0.4, (253, 141, 60, 200)),
            (0.7, (240, 59, 32, 230)), (1.0, (189, 0, 38, 255)))
# SeLo's heatmap is OpenCV's JET; the lowest stop is transparent so the imagery shows through
JET_RAMP = ((0.0, (0, 0, 128, 0)), (0.125, (0, 0, 255, 120)), (0.375, (0, 255, 255, 200)),
            (0.625, (255, 255, 0, 230)), (0.875, (255, 0, 0, 255)), (1.0, (128, 0, 0, 255)))
DEPTH_RAMP = ((0.0, (198, 219, 239, 160)), (0.3, (107, 174, 214, 200)), (0.6, (33, 113, 181, 230)),
              (1.0, (8, 48, 107, 255)))
RAMPS = {"hot": HOT_RAMP, "jet": JET_RAMP, "depth": DEPTH_RAMP}
SELO_OVERLAY_OPACITY = 0.3  # SeLo's addmap = 0.7 image + 0.3 heatmap


def pseudocolor_renderer(provider, vmin: float, vmax: float, ramp: str = "hot", band: int = 1):
    """A singleband pseudocolor renderer interpolating `ramp` over [vmin, vmax]."""
    from qgis.core import QgsColorRampShader, QgsRasterShader, QgsSingleBandPseudoColorRenderer
    from qgis.PyQt.QtGui import QColor

    if not vmax > vmin:
        vmax = vmin + 1.0
    shader_fn = QgsColorRampShader(vmin, vmax)
    shader_fn.setColorRampType(QgsColorRampShader.Type.Interpolated)
    items = []
    for f, rgba in RAMPS[ramp]:
        value = vmin + f * (vmax - vmin)
        items.append(QgsColorRampShader.ColorRampItem(value, QColor(*rgba), f"{value:.3g}"))
    shader_fn.setColorRampItemList(items)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(shader_fn)
    renderer = QgsSingleBandPseudoColorRenderer(provider, band, shader)
    renderer.setClassificationMin(vmin)
    renderer.setClassificationMax(vmax)
    return renderer


def style_raster(layer, ramp: str, vmin: float, vmax: float, opacity: float = 1.0,
                 time_range: tuple[datetime, datetime] | None = None) -> None:
    """Apply the ramp (and a fixed temporal range, if given) to a QgsRasterLayer."""
    from qgis.core import Qgis, QgsDateTimeRange
    from qgis.PyQt.QtCore import QDateTime

    layer.setRenderer(pseudocolor_renderer(layer.dataProvider(), vmin, vmax, ramp))
    layer.renderer().setOpacity(opacity)
    if time_range is not None:
        props = layer.temporalProperties()
        props.setMode(Qgis.RasterTemporalMode.FixedTemporalRange)
        start, end = (QDateTime.fromString(t.strftime("%Y-%m-%dT%H:%M:%SZ"), "yyyy-MM-ddTHH:mm:ssZ")
                      for t in time_range)
        props.setFixedTemporalRange(QgsDateTimeRange(start, end, True, False))
        props.setIsActive(True)


def write_sidecar_style(raster_path: str | Path, ramp: str, vmin: float, vmax: float, opacity: float = 1.0,
                        time_range: tuple[datetime, datetime] | None = None) -> Path:
    """Write `<raster>.qml` (renderer and temporal range): QGIS loads it as the layer's default style."""
    from qgis.core import QgsMapLayer, QgsRasterLayer

    layer = QgsRasterLayer(str(raster_path), Path(raster_path).stem)
    if not layer.isValid():
        raise ValueError(f"QGIS cannot open {raster_path}")
    style_raster(layer, ramp, vmin, vmax, opacity, time_range)
    qml = Path(raster_path).with_suffix(".qml")
    message, ok = layer.saveNamedStyle(str(qml), QgsMapLayer.StyleCategory.AllStyleCategories)
    if not ok:
        raise OSError(f"cannot write style {qml}: {message}")
    return qml


def style_extent_layer(gpkg_path: str | Path, layer_name: str = "extent") -> None:
    """Store a default style (translucent blue water) inside the extent GeoPackage."""
    from qgis.core import QgsFillSymbol, QgsVectorLayer

    layer = QgsVectorLayer(f"{gpkg_path}|layername={layer_name}", layer_name, "ogr")
    if not layer.isValid():
        raise ValueError(f"QGIS cannot open {gpkg_path} layer {layer_name}")
    symbol = QgsFillSymbol.createSimple({"color": "33,113,181,90", "outline_color": "8,48,107,255",
                                         "outline_width": "0.4"})
    layer.renderer().setSymbol(symbol)
    layer.saveStyleToDatabase("mist", "MIST flood extent", True, "")


GEOLOCATION_COLOUR = "#7b2cbf"


def style_geolocation_layer(layer) -> None:
    """The photo geolocation lines as arrows from where a post was to where photo matching put it
    (only moved posts have a line), named in the Identify panel by the reference matched."""
    from qgis.core import QgsArrowSymbolLayer, QgsLineSymbol, QgsSingleSymbolRenderer
    from qgis.PyQt.QtGui import QColor

    arrow = QgsArrowSymbolLayer.create({"arrow_width": "0.5", "arrow_start_width": "0.5", "head_length": "2.2",
                                        "head_thickness": "1.6", "is_curved": "0", "is_repeated": "0"})
    arrow.subSymbol().setColor(QColor(GEOLOCATION_COLOUR))
    symbol = QgsLineSymbol()
    symbol.changeSymbolLayer(0, arrow)
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    layer.setDisplayExpression('"ref_uid"')
    layer.triggerRepaint()


def band_range(raster_path: str | Path, nodata_excluded: bool = True) -> tuple[float, float]:
    """Exact min and max of band 1 (nodata excluded), for ramps shared across a time series."""
    from osgeo import gdal

    ds = gdal.Open(str(raster_path))
    lo, hi = ds.GetRasterBand(1).ComputeRasterMinMax(False)
    return float(lo), float(hi)


def common_range(paths: Sequence[str | Path]) -> tuple[float, float]:
    ranges = [band_range(p) for p in paths]
    return min(r[0] for r in ranges), max(r[1] for r in ranges)
