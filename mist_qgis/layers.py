"""The posts layer as an analyst expects it: styled by screening state, a map tip with the photo
and the text, the photo shown in the attribute form, and time-enabled for the temporal controller.

Used by the import task, the dock and `mist:importposts` when QGIS loads its output. The text in
the map tip is HTML-escaped by the template itself: post text is hostile input.
"""

from __future__ import annotations

from pathlib import Path

from .i18n import tr
from .paths import resources_dir, style_path

POSTS_STYLE = "posts.qml"
POSTS_MAPTIP = "posts.html"
PHOTO_FIELD = "photo"
TIME_FIELD = "timestamp"


def maptip_template() -> str:
    return (resources_dir() / "maptips" / POSTS_MAPTIP).read_text(encoding="utf-8")


def store_layer_source(store: str | Path, table: str) -> tuple[str, str]:
    """(source, provider) of a QGIS layer on one table of a store: OGR on a GeoPackage, QGIS's
    `postgres` provider on a team store (its source carries no password)."""
    from .core.store.pg import is_postgres_target, qgis_layer_uri
    from .pg_connections import is_qgis_connection, resolve

    if is_qgis_connection(store):
        conninfo, authcfg = resolve(str(store))
        return qgis_layer_uri(conninfo, table, authcfg), "postgres"
    if is_postgres_target(store):
        return qgis_layer_uri(str(store), table), "postgres"
    return f"{Path(store).expanduser().resolve()}|layername={table}", "ogr"


def store_layer_string(store: str | Path, table: str) -> str:
    """The same layer as one string Processing loads on completion (`postgres://...` for a team store)."""
    from qgis.core import QgsProcessingUtils

    source, provider = store_layer_source(store, table)
    return source if provider == "ogr" else QgsProcessingUtils.encodeProviderKeyAndUri(provider, source)


def posts_layer(store_path: str | Path, name: str | None = None):
    """A styled QgsVectorLayer on the store's posts table (not yet added to a project)."""
    from qgis.core import QgsVectorLayer

    source, provider = store_layer_source(store_path, "posts")
    layer = QgsVectorLayer(source, name or tr("MIST posts"), provider)
    if not layer.isValid():
        raise ValueError(tr("Cannot open the posts of store {path}").format(path=store_path))
    style_posts_layer(layer)
    return layer


def style_posts_layer(layer) -> None:
    """Apply MIST's symbology, map tip, photo widget and temporal settings to a posts layer."""
    from qgis.core import (
        QgsEditorWidgetSetup,
        QgsMapLayer,
        QgsVectorLayerTemporalProperties,
    )

    message, ok = layer.loadNamedStyle(str(style_path(POSTS_STYLE)), QgsMapLayer.StyleCategory.Symbology)
    if not ok:
        raise ValueError(tr("Cannot load the posts style: {message}").format(message=message))
    layer.setMapTipTemplate(maptip_template())
    layer.setDisplayExpression('"text"')
    index = layer.fields().indexFromName(PHOTO_FIELD)
    if index >= 0:
        layer.setEditorWidgetSetup(index, QgsEditorWidgetSetup("ExternalResource", {
            "DocumentViewer": 1,  # QgsExternalResourceWidget::Image
            "DocumentViewerHeight": 0, "DocumentViewerWidth": 0,
            "FileWidget": True, "FileWidgetButton": False, "UseLink": True, "FullUrl": True,
            "StorageMode": 0, "RelativeStorage": 0,
        }))
    if layer.fields().indexFromName(TIME_FIELD) >= 0:
        temporal = layer.temporalProperties()
        temporal.setMode(QgsVectorLayerTemporalProperties.TemporalMode.FeatureDateTimeInstantFromField)
        temporal.setStartField(TIME_FIELD)
        temporal.setIsActive(True)
    layer.triggerRepaint()


def add_posts_layer(store_path: str | Path, project=None):
    """Add (or refresh, if already there) the posts layer of a store to the project."""
    from qgis.core import QgsProject

    project = project or QgsProject.instance()
    source, _ = store_layer_source(store_path, "posts")
    for existing in project.mapLayers().values():
        if existing.source() == source:
            existing.dataProvider().reloadData()
            existing.updateExtents()
            existing.triggerRepaint()
            return existing
    layer = posts_layer(store_path)
    project.addMapLayer(layer)
    return layer
