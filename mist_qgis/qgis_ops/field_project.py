"""The QGIS project of a field package: what QField and Mergin Maps open on a phone.

Every layer source is relative to the project file, styles come from the package's `styles/`
folder, and the field layer's attribute form is set up for a thumb: a verdict choice, a depth
class and a number, a note and a photo widget that stores the photo's path relative to the
project (under DCIM/). The device fills in the observation's id, time, accuracy, heading and
the analyst through default value expressions (QGIS 3.22 parses them; QField and Mergin Maps
give `@position_*` and the user name their values on the phone; elsewhere they are NULL).
"""

from __future__ import annotations

from pathlib import Path

from ..core.field import layout
from ..core.verify.records import DEPTH_CLASSES, MAX_DEPTH_M, VERDICTS

# field -> (alias, widget type, widget config, default expression, apply default on update)
VERDICT_LABELS = {"flood": "Flooded", "not_flood": "Not flooded", "unsure": "Unsure"}
DEPTH_LABELS = {"ankle": "Ankle (~0.1 m)", "knee": "Knee (~0.5 m)", "waist": "Waist (~1 m)", "above": "Above the waist"}
PHOTO_NAME = "'" + layout.NEW_PHOTOS + "/mist_' || format_date(now(), 'yyyyMMdd_hhmmsszzz') || '.jpg'"


def _value_map(labels: dict[str, str], keys) -> dict:
    return {"map": [{labels[k]: k} for k in keys]}


PHOTO_VIEWER = {"DocumentViewer": 1, "DocumentViewerHeight": 0, "DocumentViewerWidth": 0, "FileWidget": True,
                "FileWidgetButton": True, "FileWidgetFilter": "", "RelativeStorage": 1, "StorageMode": 0,
                "StorageType": None, "PropertyCollection": {"name": None, "properties": {}, "type": "collection"}}


def form_setup() -> dict[str, tuple[str, str, dict, str | None]]:
    """The field layer's form: alias, editor widget type, its configuration, default expression."""
    return {
        "uuid": ("Observation id", "Hidden", {}, "uuid()"),
        "observed_at": ("Time", "DateTime", {"allow_null": True, "calendar_popup": True, "display_format":
                                             "yyyy-MM-dd HH:mm", "field_format": "yyyy-MM-ddTHH:mm:ss",
                                             "field_iso_format": True},
                        "coalesce(@position_timestamp, now())"),
        "verdict": ("What do you see?", "ValueMap", _value_map(VERDICT_LABELS, VERDICTS), "'flood'"),
        "depth_class": ("Water depth (class)", "ValueMap", _value_map(DEPTH_LABELS, DEPTH_CLASSES), None),
        "water_depth_m": ("Water depth (m, if measured)", "Range",
                          {"AllowNull": True, "Min": 0.0, "Max": MAX_DEPTH_M, "Step": 0.05, "Precision": 2,
                           "Style": "SpinBox"}, None),
        "note": ("Note", "TextEdit", {"IsMultiline": True, "UseHtml": False}, None),
        "photo": ("Photo", "ExternalResource", dict(PHOTO_VIEWER), None),
        "heading": ("Camera heading (°)", "Range", {"AllowNull": True, "Min": 0.0, "Max": 360.0, "Step": 1.0,
                                                    "Precision": 0, "Style": "SpinBox"}, "@position_direction"),
        "gps_accuracy_m": ("GPS accuracy (m)", "Range", {"AllowNull": True, "Min": 0.0, "Max": 10000.0, "Step": 1.0,
                                                         "Precision": 1, "Style": "SpinBox"},
                           "@position_horizontal_accuracy"),
        "analyst": ("Observer", "TextEdit", {"IsMultiline": False, "UseHtml": False},
                    f"coalesce(@cloud_username, @user_full_name, '{layout.DEFAULT_ANALYST}')"),
    }


def _vector(folder: Path, name: str, title: str):
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(f"{folder / layout.GPKG}|layername={name}", title, "ogr")
    if not layer.isValid():
        raise ValueError(f"QGIS cannot open layer {name} of {layout.GPKG}")
    return layer


def _load_style(layer, folder: Path, qml: str) -> None:
    from qgis.core import QgsMapLayer

    path = folder / layout.STYLES / qml
    if path.is_file():
        layer.loadNamedStyle(str(path), QgsMapLayer.StyleCategory.Symbology)


def configure_field_layer(layer) -> None:
    """The phone form: widgets, aliases, defaults, and where QField names new photos."""
    import json

    from qgis.core import QgsDefaultValue, QgsEditorWidgetSetup

    for name, (alias, widget, config, default) in form_setup().items():
        index = layer.fields().indexOf(name)
        if index < 0:
            raise ValueError(f"the field layer has no {name} field")
        layer.setEditorWidgetSetup(index, QgsEditorWidgetSetup(widget, config))
        layer.setFieldAlias(index, alias)
        if default:
            layer.setDefaultValueDefinition(index, QgsDefaultValue(default, False))
    fid = layer.fields().indexOf("fid")
    if fid >= 0:  # the GeoPackage's own key: nothing for a field team to see
        layer.setEditorWidgetSetup(fid, QgsEditorWidgetSetup("Hidden", {}))
    # QField names attachments with this expression (QFieldSync's own layer property)
    layer.setCustomProperty("QFieldSync/attachment_naming", json.dumps({"photo": PHOTO_NAME}))
    layer.setCustomProperty("QFieldSync/photo_naming", json.dumps({"photo": PHOTO_NAME}))
    layer.setCustomProperty("QFieldSync/action", "no_action")
    layer.setCustomProperty("QFieldSync/cloud_action", "no_action")


def _label_depths(layer) -> None:
    """The verified water depth beside each point: what a team checks first on the spot."""
    from qgis.core import QgsPalLayerSettings, QgsTextBufferSettings, QgsTextFormat, QgsVectorLayerSimpleLabeling
    from qgis.PyQt.QtGui import QColor

    settings = QgsPalLayerSettings()
    settings.isExpression = True
    settings.fieldName = "if(\"water_depth_m\" IS NULL, '', format_number(\"water_depth_m\", 1) || ' m')"
    text = QgsTextFormat()
    text.setSize(9)
    text.setColor(QColor(8, 48, 107))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(1.0)
    buffer.setColor(QColor(255, 255, 255))
    text.setBuffer(buffer)
    settings.setFormat(text)
    settings.dist = 1.5
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)


def _show_photo_read_only(layer) -> None:
    """The evidence photo in the verified points' form (the phone shows it; nobody edits it)."""
    from qgis.core import QgsEditorWidgetSetup

    config = layer.editFormConfig()
    for index, field in enumerate(layer.fields()):
        config.setReadOnly(index, True)
        if field.name() == "photo":
            layer.setEditorWidgetSetup(index, QgsEditorWidgetSetup("ExternalResource", dict(PHOTO_VIEWER)))
    layer.setEditFormConfig(config)


def _view_extent(layers, project):
    """The box (project CRS) around the evidence and the flood, with a margin; None when empty."""
    from qgis.core import QgsCoordinateTransform, QgsRectangle

    box = None
    for layer in layers:
        if layer.featureCount() and not layer.extent().isNull():
            transform = QgsCoordinateTransform(layer.crs(), project.crs(), project)
            part = transform.transformBoundingBox(layer.extent())
            box = QgsRectangle(part) if box is None else box
            box.combineExtentWith(part)
    if box is None:
        return None
    box.scale(1.2)
    if box.width() < 500 or box.height() < 500:
        box.grow(250)
    return box


def write_field_project(folder: Path, layers: list[str], has_raster: bool) -> str:
    """Write `mist_field.qgz` into a package folder; returns its path."""
    from qgis.core import (
        Qgis,
        QgsCoordinateReferenceSystem,
        QgsFillSymbol,
        QgsLineSymbol,
        QgsMarkerSymbol,
        QgsProject,
        QgsRasterLayer,
        QgsReferencedRectangle,
    )

    from .styles import band_range, style_raster

    folder = Path(folder)
    project = QgsProject()
    project.setTitle("MIST field package")
    project.setCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    project.setFilePathStorage(Qgis.FilePathType.Relative)
    ordered = []
    if has_raster:
        raster = QgsRasterLayer(str(folder / layout.DEPTH_RASTER), "Water depth")
        if not raster.isValid():
            raise ValueError(f"QGIS cannot open {layout.DEPTH_RASTER}")
        lo, hi = band_range(folder / layout.DEPTH_RASTER)
        style_raster(raster, "depth", 0.0, max(hi, 0.1), opacity=0.8)
        ordered.append(raster)
    if layout.EXTENT_LAYER in layers:
        extent = _vector(folder, layout.EXTENT_LAYER, "Flood extent")
        extent.renderer().setSymbol(QgsFillSymbol.createSimple({
            "color": "33,113,181,90", "outline_color": "8,48,107,255", "outline_width": "0.4"}))
        ordered.append(extent)
    if layout.CONTOUR_LAYER in layers:
        contours = _vector(folder, layout.CONTOUR_LAYER, "Depth contours")
        contours.renderer().setSymbol(QgsLineSymbol.createSimple({"line_color": "8,48,107,200", "line_width": "0.3"}))
        ordered.append(contours)
    verified = _vector(folder, layout.VERIFIED_LAYER, "Verified flood points")
    _load_style(verified, folder, "posts.qml")
    _show_photo_read_only(verified)
    _label_depths(verified)
    verified.setMapTipTemplate('[% "note" %]<br><img src="file:///[% @project_home || \'/\' || "photo" %]" '
                               'width="240">')
    ordered.append(verified)
    alerts = _vector(folder, layout.ALERTS_LAYER, "Alerts")
    alerts.renderer().setSymbol(QgsMarkerSymbol.createSimple({
        "name": "triangle", "color": "215,25,28,255", "outline_color": "255,255,255,255", "size": "4"}))
    ordered.append(alerts)
    observations = _vector(folder, layout.FIELD_LAYER, "Field observations")
    _load_style(observations, folder, "references.qml")  # arrows turned by "heading"
    configure_field_layer(observations)
    ordered.append(observations)
    for layer in ordered:
        project.addMapLayer(layer)
    view = _view_extent([verified] + [layer for layer in ordered if layer.name() == "Flood extent"], project)
    if view is not None:
        project.viewSettings().setDefaultViewExtent(QgsReferencedRectangle(view, project.crs()))
    for scope in ("QFieldSync", "qfieldsync"):  # QFieldCloud's worker and the QField app spell it apart
        project.writeEntry(scope, "/attachmentDirs", [layout.NEW_PHOTOS, layout.PHOTOS])
    path = folder / layout.PROJECT
    if not project.write(str(path)):
        raise OSError(f"cannot write {path}: {project.error()}")
    return str(path)


def render_project(project_path: Path, png: Path, width: int = 1200, height: int = 800) -> Path:
    """Draw a package's project at its default view (every layer, in the project's order)."""
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings, QgsProject
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    project = QgsProject()
    if not project.read(str(project_path)):
        raise OSError(f"QGIS cannot read {project_path}: {project.error()}")
    settings = QgsMapSettings()
    settings.setLayers([node.layer() for node in project.layerTreeRoot().findLayers() if node.layer()])
    settings.setDestinationCrs(project.crs())
    settings.setTransformContext(project.transformContext())
    view = project.viewSettings().defaultViewExtent()
    settings.setExtent(view)
    if view.width() > 0 and view.height() > 0:  # follow the view's shape, within reason
        height = int(min(max(width * view.height() / view.width(), width / 3), width))
    settings.setOutputSize(QSize(width, height))
    settings.setBackgroundColor(QColor(245, 244, 240))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    png = Path(png)
    if not job.renderedImage().save(str(png), "PNG"):
        raise OSError(f"cannot write {png}")
    return png


def render_field_form(project_path: Path, png: Path) -> Path:
    """The attribute form a field team fills in, for a new observation, as a picture."""
    from qgis.core import QgsProject, QgsVectorLayerUtils
    from qgis.gui import QgsAttributeEditorContext, QgsAttributeForm, QgsGui
    from qgis.PyQt.QtWidgets import QApplication

    QgsGui.editorWidgetRegistry().initEditors()

    project = QgsProject()
    if not project.read(str(project_path)):
        raise OSError(f"QGIS cannot read {project_path}: {project.error()}")
    layer = next(layer for layer in project.mapLayers().values() if layer.name() == "Field observations")
    layer.startEditing()  # as on the phone: a new observation being filled in
    feature = QgsVectorLayerUtils.createFeature(layer)
    form = QgsAttributeForm(layer, feature, QgsAttributeEditorContext())
    form.setMode(QgsAttributeEditorContext.Mode.AddFeatureMode)
    form.resize(420, 640)
    form.show()
    QApplication.processEvents()
    png = Path(png)
    if not form.grab().save(str(png), "PNG"):
        raise OSError(f"cannot write {png}")
    form.close()
    layer.rollBack()
    return png
