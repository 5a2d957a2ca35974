"""The flood map as a picture, rendered by QGIS itself through a print layout.

Layers, bottom to top: the DEM (elevation tint and hillshade), post density, water depth, the flood
extent outline, the roads, the moves made by photo matching (old -> new) and the posts styled by
screening state (verified flood with depth, verified not flood, predicted flood by the screening
head, ...), each depth labelled. A legend, a title, a caption, a scale bar and a north arrow are
laid out around the map on an A4 landscape page and exported with QgsLayoutExporter.

Needs a running QgsApplication with a GUI-capable Qt (`headless.start_qgis(gui=True)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import MistError
from ..qgis_ops.layers import store_layer_source

POST_RULES = (
    # (legend label, filter expression, shape, fill colour, size mm)
    ("Verified flood, depth reported", "\"verified\" = 'flood' AND \"water_depth_m\" IS NOT NULL",
     "circle", "#08519c", 4.2),
    ("Verified flood, no depth", "\"verified\" = 'flood' AND \"water_depth_m\" IS NULL", "circle", "#6baed6", 3.6),
    ("Verified not flood", "\"verified\" = 'not_flood'", "circle", "#737373", 3.0),
    ("Verified unsure", "\"verified\" = 'unsure'", "diamond", "#bdbdbd", 3.0),
    ("Predicted flood (screening head)", "\"verified\" IS NULL AND \"cls_label\" = 'flood'", "triangle",
     "#f16913", 3.8),
    ("Predicted not flood", "\"verified\" IS NULL AND \"cls_label\" = 'not_flood'", "triangle", "#d9d9d9", 3.0),
    ("Not screened (no photo)", "ELSE", "square", "#ffffff", 2.2),
)
TERRAIN_RAMP = ((0.0, "#e5f5e0"), (0.35, "#f7fcb9"), (0.7, "#d9c8a0"), (1.0, "#b08d57"))
TEXT_CATEGORY_LABEL = ("replace(replace(array_to_string(array_filter(string_to_array(\"text_categories\"), "
                       "@element NOT IN ('flood', 'not_flood', 'not_relevant'))), ',', ', '), '_', ' ')")
DEPTH_LABEL = ("CASE WHEN \"verified\" = 'flood' AND \"water_depth_m\" IS NOT NULL "
               "THEN format_number(\"water_depth_m\", 2) || ' m' END")


@dataclass(frozen=True)
class MapNote:
    """A labelled cross on the map at (x, y) in the map's CRS."""

    x: float
    y: float
    text: str


@dataclass
class FloodMapInputs:
    """What goes on the map; every path is optional except the store and the output."""

    store: Path | str  # a GeoPackage, or a team store's connection
    output: Path
    title: str = "MIST: flood evidence and inundation"
    caption: str = ""
    dem: Path | None = None
    density: Path | None = None
    depth: Path | None = None
    extent: Path | None = None
    roads: Path | None = None
    roads_filter: str = ""
    road_label_field: str = "name"
    crs: str = "EPSG:3857"
    dpi: int = 150
    contour_interval_m: float = 1.0
    notes: list[MapNote] = field(default_factory=list)


@dataclass
class FloodMapResult:
    path: Path
    width: int
    height: int
    layers: list[str]
    distinct_colours: int

    @property
    def blank(self) -> bool:
        return self.distinct_colours < 16


class FloodMapError(MistError):
    """The map cannot be drawn (a layer does not open, the export fails)."""


def _raster(path: Path, name: str):
    from qgis.core import QgsRasterLayer

    layer = QgsRasterLayer(str(path), name)  # loads the sidecar .qml style MIST writes beside rasters
    if not layer.isValid():
        raise FloodMapError(f"QGIS cannot open {path}")
    return layer


def _vector(uri: str, name: str, subset: str = "", provider: str = "ogr"):
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(uri, name, provider)
    if not layer.isValid():
        raise FloodMapError(f"QGIS cannot open {uri}")
    if subset and not layer.setSubsetString(subset):
        raise FloodMapError(f"filter {subset!r} does not apply to {uri}")
    return layer


def _terrain_layers(dem: Path) -> tuple:
    """The DEM twice: an elevation tint (in the legend) and a hillshade multiplied over it."""
    from osgeo import gdal
    from qgis.core import QgsColorRampShader, QgsHillshadeRenderer, QgsRasterShader, QgsSingleBandPseudoColorRenderer
    from qgis.PyQt.QtGui import QColor, QPainter

    tint = _raster(dem, "Ground elevation (m)")
    # GDAL's exact min/max, not QGIS's band statistics: those are saved as an .aux.xml beside the DEM
    ds = gdal.Open(str(dem))  # keep the dataset alive while its band is used
    lo, hi = ds.GetRasterBand(1).ComputeRasterMinMax(False)
    ds = None
    ramp = QgsColorRampShader(lo, hi)
    ramp.setColorRampType(QgsColorRampShader.Type.Interpolated)
    values = [(lo + f * (hi - lo), c) for f, c in TERRAIN_RAMP]
    ramp.setColorRampItemList([QgsColorRampShader.ColorRampItem(v, QColor(c), f"{v:.1f}") for v, c in values])
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    renderer = QgsSingleBandPseudoColorRenderer(tint.dataProvider(), 1, shader)
    renderer.setClassificationMin(lo)
    renderer.setClassificationMax(hi)
    tint.setRenderer(renderer)
    shade = _raster(dem, "Hillshade")
    hill = QgsHillshadeRenderer(shade.dataProvider(), 1, 315.0, 40.0)
    hill.setZFactor(2.0)
    hill.setOpacity(0.55)
    shade.setRenderer(hill)
    shade.setBlendMode(QPainter.CompositionMode.CompositionMode_Multiply)
    return tint, shade


def _posts_layer(store: Path | str):
    from qgis.core import (
        QgsMarkerSymbol,
        QgsPalLayerSettings,
        QgsRuleBasedRenderer,
    )

    source, provider = store_layer_source(store, "posts")
    layer = _vector(source, "Posts", provider=provider)
    root = QgsRuleBasedRenderer.Rule(None)
    for label, expression, shape, colour, size in POST_RULES:
        symbol = QgsMarkerSymbol.createSimple({"name": shape, "color": colour, "size": str(size),
                                               "outline_color": "#1a1a1a", "outline_width": "0.35"})
        rule = QgsRuleBasedRenderer.Rule(symbol, 0, 0, "" if expression == "ELSE" else expression, label)
        if expression == "ELSE":
            rule.setIsElse(True)
        root.appendChild(rule)
    layer.setRenderer(QgsRuleBasedRenderer(root))
    _label_features(layer, DEPTH_LABEL, QgsPalLayerSettings.Placement.OrderedPositionsAroundPoint, 8, "#08306b", 0.8,
           is_expression=True, distance=1.2)
    return layer


def _text_posts_layer(store: Path | str):
    """Posts without a photo, coloured and labelled by the categories their text got."""
    from qgis.core import QgsPalLayerSettings

    from ..qgis_ops.layers import store_categories, style_posts_by_category

    source, provider = store_layer_source(store, "posts")
    layer = _vector(source, "Text-only posts by category",
                    "\"media_url\" IS NULL AND \"text_categories\" IS NOT NULL AND \"text_categories\" != ''",
                    provider=provider)
    style_posts_by_category(layer, store_categories(store))
    _label_features(layer, TEXT_CATEGORY_LABEL, QgsPalLayerSettings.Placement.OrderedPositionsAroundPoint, 7,
                    "#3f007d", 0.8, is_expression=True, distance=1.5)
    return layer


def _moves_layer(store: Path | str):
    from qgis.core import QgsExpression

    from ..core.stage import LocateStatus
    from ..qgis_ops.styles import style_geolocation_layer

    source, provider = store_layer_source(store, "geolocations")
    moved = QgsExpression.createFieldEqualityExpression("status", LocateStatus.MOVED.value)
    layer = _vector(source, "Moved by photo matching (old → new)", moved, provider)
    style_geolocation_layer(layer)
    return layer


def _has_features(layer) -> bool:
    """Whether a (filtered) layer has a feature; featureCount() can be -1 on a filtered GeoPackage
    layer whose file another layer holds open."""
    from qgis.core import QgsFeatureRequest

    return next(layer.getFeatures(QgsFeatureRequest().setLimit(1)), None) is not None


def _notes_layer(notes: list[MapNote], crs):
    """Memory layer of labelled crosses (not in the legend)."""
    from qgis.core import (
        QgsFeature,
        QgsGeometry,
        QgsMarkerSymbol,
        QgsPalLayerSettings,
        QgsPointXY,
        QgsTextBufferSettings,
        QgsTextFormat,
        QgsVectorLayer,
        QgsVectorLayerSimpleLabeling,
    )
    from qgis.PyQt.QtGui import QColor, QFont

    layer = QgsVectorLayer(f"Point?crs={crs.authid()}&field=text:string", "Map notes", "memory")
    features = []
    for note in notes:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(note.x, note.y)))
        feature.setAttribute("text", note.text)
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    layer.renderer().setSymbol(QgsMarkerSymbol.createSimple(
        {"name": "cross2", "color": "#252525", "size": "3", "outline_color": "#252525", "outline_width": "0.5"}))
    settings = QgsPalLayerSettings()
    settings.fieldName = "text"
    settings.placement = QgsPalLayerSettings.Placement.OrderedPositionsAroundPoint
    settings.dist = 1.5
    text = QgsTextFormat()
    text.setFont(QFont("DejaVu Sans"))
    text.setSize(7.5)
    text.setColor(QColor("#252525"))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(0.8)
    buffer.setColor(QColor(255, 255, 255, 220))
    text.setBuffer(buffer)
    settings.setFormat(text)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)
    return layer


def _tidy_ramp_legend(layer, decimals: int, low: str | None = None, high: str | None = None) -> None:
    """Ramp legends with rounded (or named) end labels instead of seven-digit values."""
    from qgis.core import QgsBasicNumericFormat, QgsColorRampLegendNodeSettings

    renderer = layer.renderer()
    shader = getattr(renderer, "shader", lambda: None)()
    ramp = shader.rasterShaderFunction() if shader is not None else None
    if ramp is None or not hasattr(ramp, "legendSettings"):
        return
    settings = QgsColorRampLegendNodeSettings(ramp.legendSettings())
    number = QgsBasicNumericFormat()
    number.setNumberDecimalPlaces(decimals)
    number.setShowTrailingZeros(True)
    settings.setNumericFormat(number)
    if low is not None:
        settings.setMinimumLabel(low)
    if high is not None:
        settings.setMaximumLabel(high)
    ramp.setLegendSettings(settings)


def _contour_layer(dem: Path, interval: float):
    from qgis.core import QgsLineSymbol, QgsRasterContourRenderer

    layer = _raster(dem, f"Contours ({interval:g} m)")
    renderer = QgsRasterContourRenderer(layer.dataProvider())
    renderer.setInputBand(1)
    renderer.setContourInterval(interval)
    renderer.setContourIndexInterval(interval * 5)
    renderer.setContourSymbol(QgsLineSymbol.createSimple({"line_color": "120,90,50,140", "line_width": "0.18"}))
    renderer.setContourIndexSymbol(QgsLineSymbol.createSimple({"line_color": "120,90,50,200", "line_width": "0.35"}))
    renderer.setDownscale(2.0)
    layer.setRenderer(renderer)
    return layer


def _extent_layer(extent: Path):
    from qgis.core import QgsFillSymbol

    layer = _vector(f"{extent}|layername=extent", "Flood extent (connected to evidence)")
    layer.renderer().setSymbol(QgsFillSymbol.createSimple(
        {"color": "33,113,181,40", "outline_color": "#08306b", "outline_width": "0.6"}))
    return layer


def _roads_layer(roads: Path, subset: str, label_field: str):
    from qgis.core import (
        QgsLineSymbol,
        QgsPalLayerSettings,
    )

    layer = _vector(str(roads), "Roads (gazetteer)", subset)
    layer.renderer().setSymbol(QgsLineSymbol.createSimple({"line_color": "#636363", "line_width": "0.7"}))
    _label_features(layer, label_field, QgsPalLayerSettings.Placement.Line, 7.5, "#252525", 0.7)
    return layer


def _label_features(layer, field: str, placement, size: float, colour: str, halo: float,
           is_expression: bool = False, distance: float | None = None) -> None:
    """Dark labels with a white halo, readable over the hillshade and the density colours."""
    from qgis.core import QgsPalLayerSettings, QgsTextBufferSettings, QgsTextFormat, QgsVectorLayerSimpleLabeling
    from qgis.PyQt.QtGui import QColor, QFont

    settings = QgsPalLayerSettings()
    settings.fieldName = field
    settings.isExpression = is_expression
    settings.placement = placement
    if distance is not None:
        settings.dist = distance
    text = QgsTextFormat()
    text.setFont(QFont("DejaVu Sans"))
    text.setSize(size)
    text.setColor(QColor(colour))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(halo)
    buffer.setColor(QColor("white"))
    text.setBuffer(buffer)
    settings.setFormat(text)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)


def _drop_band_name(model, node) -> None:
    """Raster legends start with a 'Band 1: ... (Gray)' row; the layer name says it better."""
    from qgis.core import QgsMapLayerLegendUtils, QgsRasterLayer, QgsSimpleLegendNode

    if not isinstance(node.layer(), QgsRasterLayer):
        return
    nodes = model.layerLegendNodes(node, True)
    keep = [i for i, n in enumerate(nodes) if not isinstance(n, QgsSimpleLegendNode)]
    if nodes and len(keep) < len(nodes):
        QgsMapLayerLegendUtils.setLegendNodeOrder(node, keep)
        model.refreshLayerLegend(node)


def _label(layout, text: str, size: float, x: float, y: float, width: float, height: float,
           bold: bool = False):
    from qgis.core import QgsLayoutItemLabel, QgsLayoutPoint, QgsLayoutSize, QgsUnitTypes
    from qgis.PyQt.QtGui import QFont

    item = QgsLayoutItemLabel(layout)
    item.setText(text)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(size)
    font.setBold(bold)
    item.setFont(font)
    layout.addLayoutItem(item)
    item.attemptMove(QgsLayoutPoint(x, y, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
    item.attemptResize(QgsLayoutSize(width, height, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
    return item


def _map_extent(layers: list, crs):
    """The DEM's extent when there is one, else the union of the layers, in the map CRS, padded 3 %."""
    from qgis.core import QgsCoordinateTransform, QgsProject, QgsRectangle

    extent = QgsRectangle()
    for layer in layers:
        rect = QgsCoordinateTransform(layer.crs(), crs, QgsProject.instance()).transformBoundingBox(layer.extent())
        if extent.isNull():
            extent = rect
        else:
            extent.combineExtentWith(rect)
    extent.scale(1.03)
    return extent


@dataclass
class MapLayers:
    """The styled layers of the flood map: `stack` top first (as a map item wants them), the ones
    the legend lists, and the ones whose extent frames the map."""

    stack: list
    legend: list
    frame: list


def build_layers(inputs: FloodMapInputs, crs) -> MapLayers:
    """Open and style every layer of the map (also used to load the same scene into QGIS)."""
    posts = _posts_layer(inputs.store)
    stack = [posts]
    legend_layers = [posts]
    text_posts = _text_posts_layer(inputs.store)
    if _has_features(text_posts):
        stack.insert(0, text_posts)
        legend_layers.append(text_posts)
    moves = _moves_layer(inputs.store)
    if _has_features(moves):
        stack.append(moves)
        legend_layers.append(moves)
    if inputs.roads:
        roads = _roads_layer(inputs.roads, inputs.roads_filter, inputs.road_label_field)
        stack.append(roads)
        legend_layers.append(roads)
    if inputs.extent:
        extent = _extent_layer(inputs.extent)
        stack.append(extent)
        legend_layers.append(extent)
    if inputs.depth:
        depth = _raster(inputs.depth, "Water depth (m)")
        _tidy_ramp_legend(depth, 1)
        stack.append(depth)
        legend_layers.append(depth)
    if inputs.dem:
        contours = _contour_layer(inputs.dem, inputs.contour_interval_m)
        stack.append(contours)
        legend_layers.append(contours)
    if inputs.density:
        density = _raster(inputs.density, "Post density (kernel)")
        density.renderer().setOpacity(0.55)
        _tidy_ramp_legend(density, 0, "low", "high")
        stack.append(density)
        legend_layers.append(density)
    frame_layers = [posts]
    if inputs.dem:
        tint, shade = _terrain_layers(inputs.dem)
        _tidy_ramp_legend(tint, 1)
        stack += [shade, tint]
        legend_layers.append(tint)
        frame_layers = [tint]
    if inputs.notes:
        stack.insert(0, _notes_layer(inputs.notes, crs))
    return MapLayers(stack, legend_layers, frame_layers)


def render_flood_map(inputs: FloodMapInputs) -> FloodMapResult:
    """Lay out and export the map as a PNG (see the module docstring)."""
    from qgis.core import (
        QgsApplication,
        QgsCoordinateReferenceSystem,
        QgsLayerTreeLayer,
        QgsLayoutExporter,
        QgsLayoutItemLegend,
        QgsLayoutItemMap,
        QgsLayoutItemPage,
        QgsLayoutItemPicture,
        QgsLayoutItemScaleBar,
        QgsLayoutPoint,
        QgsLayoutSize,
        QgsPrintLayout,
        QgsProject,
        QgsUnitTypes,
    )
    from qgis.PyQt.QtGui import QColor, QImage

    mm = QgsUnitTypes.LayoutUnit.LayoutMillimeters
    project = QgsProject()
    crs = QgsCoordinateReferenceSystem(inputs.crs)
    project.setCrs(crs)
    layers = build_layers(inputs, crs)
    stack, legend_layers, frame_layers = layers.stack, layers.legend, layers.frame
    for layer in stack:
        project.addMapLayer(layer, False)

    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    layout.pageCollection().page(0).setPageSize("A4", QgsLayoutItemPage.Orientation.Landscape)
    _label(layout, inputs.title, 16, 10, 6, 277, 10, bold=True)
    map_item = QgsLayoutItemMap(layout)
    map_item.setRect(20, 20, 20, 20)
    map_item.setCrs(crs)
    map_item.setLayers(stack)
    map_item.setKeepLayerSet(True)
    map_item.setFrameEnabled(True)
    map_item.setBackgroundColor(QColor("white"))
    layout.addLayoutItem(map_item)
    map_item.attemptMove(QgsLayoutPoint(10, 20, mm))
    map_item.attemptResize(QgsLayoutSize(185, 160, mm))
    map_item.zoomToExtent(_map_extent(frame_layers, crs))

    legend = QgsLayoutItemLegend(layout)
    legend.setTitle("Legend")
    legend.setAutoUpdateModel(False)
    legend.setLinkedMap(map_item)
    root = legend.model().rootGroup()
    root.clear()
    for layer in legend_layers:
        node = QgsLayerTreeLayer(layer)
        root.addChildNode(node)
        _drop_band_name(legend.model(), node)
    layout.addLayoutItem(legend)
    legend.attemptMove(QgsLayoutPoint(200, 20, mm))
    legend.adjustBoxSize()

    bar = QgsLayoutItemScaleBar(layout)
    bar.setStyle("Single Box")
    bar.setLinkedMap(map_item)
    bar.setUnits(QgsUnitTypes.DistanceUnit.DistanceMeters)
    bar.setUnitLabel("m")
    bar.setNumberOfSegments(3)
    bar.setNumberOfSegmentsLeft(0)
    bar.setUnitsPerSegment(50)
    layout.addLayoutItem(bar)
    bar.attemptMove(QgsLayoutPoint(12, 168, mm))
    bar.update()

    arrow_svg = Path(QgsApplication.pkgDataPath()) / "svg" / "arrows" / "NorthArrow_02.svg"
    if arrow_svg.is_file():
        north = QgsLayoutItemPicture(layout)
        north.setPicturePath(str(arrow_svg))
        north.setLinkedMap(map_item)
        layout.addLayoutItem(north)
        north.attemptMove(QgsLayoutPoint(183, 22, mm))
        north.attemptResize(QgsLayoutSize(10, 12, mm))
    if inputs.caption:
        _label(layout, inputs.caption, 8, 10, 183, 277, 20)

    inputs.output.parent.mkdir(parents=True, exist_ok=True)
    settings = QgsLayoutExporter.ImageExportSettings()
    settings.dpi = inputs.dpi
    from osgeo import gdal

    gdal.PushErrorHandler("CPLQuietErrorHandler")  # QGIS tries to georeference the PNG in place; PNG refuses
    try:
        result = QgsLayoutExporter(layout).exportToImage(str(inputs.output), settings)
    finally:
        gdal.PopErrorHandler()
    if result != QgsLayoutExporter.ExportResult.Success:
        raise FloodMapError(f"QGIS could not export the map to {inputs.output} (error {int(result)})")
    image = QImage(str(inputs.output))
    if image.isNull():
        raise FloodMapError(f"the exported map {inputs.output} cannot be read back")
    return FloodMapResult(inputs.output, image.width(), image.height(), [layer.name() for layer in stack],
                          distinct_colours(image))


def distinct_colours(image, step: int = 4) -> int:
    """Distinct colours on a grid of pixels: a blank or single-colour picture has a handful."""
    seen: set[int] = set()
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            seen.add(image.pixel(x, y))
            if len(seen) > 4096:
                return len(seen)
    return len(seen)
