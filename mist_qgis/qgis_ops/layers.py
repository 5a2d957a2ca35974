"""The posts layer as an analyst expects it: styled by screening state, a map tip with the photo
and the text, the photo shown in the attribute form, and time-enabled for the temporal controller.

Used by the Posts dock and by `mist:importposts` when QGIS loads its output. The text in
the map tip is HTML-escaped by the template itself: post text is hostile input.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..i18n import tr
from ..paths import resources_dir, style_path

POSTS_STYLE = "posts.qml"
POSTS_MAPTIP = "posts.html"
PHOTO_FIELD = "photo"
TIME_FIELD = "timestamp"


def maptip_template() -> str:
    return (resources_dir() / "maptips" / POSTS_MAPTIP).read_text(encoding="utf-8")


def store_layer_source(store: str | Path, table: str) -> tuple[str, str]:
    """(source, provider) of a QGIS layer on one table of a store: OGR on a GeoPackage, QGIS's
    `postgres` provider on a team store (its source carries no password)."""
    from ..core.store.pg import is_postgres_target, qgis_layer_uri
    from ..pg_connections import is_qgis_connection, resolve

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
    from qgis.core import QgsEditorWidgetSetup, QgsMapLayer

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
    set_time_field(layer)
    layer.triggerRepaint()


TABLE_STYLES = {"references": "references.qml"}  # other tables' styles (posts: `style_posts_layer`)


def set_time_field(layer) -> bool:
    """Make the layer time-enabled by its post time (`timestamp`), for the temporal controller;
    False if it has no such field."""
    from qgis.core import QgsVectorLayerTemporalProperties

    if layer.fields().indexFromName(TIME_FIELD) < 0:
        return False
    temporal = layer.temporalProperties()
    temporal.setMode(QgsVectorLayerTemporalProperties.TemporalMode.FeatureDateTimeInstantFromField)
    temporal.setStartField(TIME_FIELD)
    temporal.setIsActive(True)
    return True


def style_store_layer(layer, table: str) -> None:
    """MIST's style of a layer on a store's posts, references or geolocations table."""
    from .styles import style_geolocation_layer

    if table == "posts":
        style_posts_layer(layer)
    elif table == "geolocations":
        style_geolocation_layer(layer)
    else:
        layer.loadNamedStyle(str(style_path(TABLE_STYLES[table])))
        layer.triggerRepaint()


def save_default_style(store_path: str | Path, table: str = "posts") -> str:
    """Store MIST's style of a table (posts: symbols, map tip, photo widget; references: arrows
    turned by heading; geolocations: arrows old -> new) in the store as that table's default, so
    the table opened from the Browser or another project arrives styled too. Written through a
    layer of its own (the write reopens the file under that layer). Returns QGIS's message ('' when
    saved)."""
    from qgis.core import QgsVectorLayer

    if table == "posts":
        writer = posts_layer(store_path)
    else:
        source, provider = store_layer_source(store_path, table)
        writer = QgsVectorLayer(source, table, provider)
        if not writer.isValid():
            return tr("Cannot open the {table} of store {path}").format(table=table, path=store_path)
        style_store_layer(writer, table)
    message = writer.saveStyleToDatabase(f"MIST {table}", f"MIST's style for the {table} table", True, "") or ""
    del writer
    return message


def add_posts_layer(store_path: str | Path, project=None):
    """Add (or refresh, if already there) the posts layer of a store to the project."""
    from qgis.core import QgsProject

    project = project or QgsProject.instance()
    existing = find_posts_layer(store_path, project)
    if existing is not None:
        refresh_store_layers(store_path, project)
        return existing
    save_default_style(store_path)
    layer = posts_layer(store_path)
    project.addMapLayer(layer)
    return layer


# -- layers of a store in the project --------------------------------------------------------


def layer_store_path(layer) -> tuple[Path | None, str | None]:
    """(GeoPackage file, table) a vector layer reads; (None, None) for anything else."""
    from qgis.core import QgsProviderRegistry, QgsVectorLayer

    if not isinstance(layer, QgsVectorLayer) or layer.providerType() != "ogr":
        return None, None
    parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
    if not parts.get("path"):
        return None, None
    try:
        return Path(parts["path"]).resolve(), parts.get("layerName")
    except OSError:
        return None, None


def store_layers(store_path: str | Path, table: str | None = None, project=None) -> list:
    """The project's vector layers on a store (on one of its tables when `table` is given)."""
    from qgis.core import QgsProject

    from ..pg_connections import is_team_target

    project = project or QgsProject.instance()
    if is_team_target(store_path):
        return _team_store_layers(store_path, table, project)
    target = Path(store_path).resolve()
    found = []
    for layer in project.mapLayers().values():
        path, name = layer_store_path(layer)
        if path == target and (table is None or name == table):
            found.append(layer)
    return found


def _team_store_layers(store: str | Path, table: str | None, project) -> list:
    """The project's `postgres` layers on this team store (same server, database and schema;
    QGIS rewrites a layer's source, so the parts are compared, not the text)."""
    from qgis.core import QgsDataSourceUri, QgsVectorLayer

    target = _team_store_place(str(store))
    found = []
    for layer in project.mapLayers().values():
        if not isinstance(layer, QgsVectorLayer) or layer.providerType() != "postgres":
            continue
        uri = QgsDataSourceUri(layer.source())
        if _place(uri) == target and (table is None or uri.table() == table):
            found.append(layer)
    return found


def _place(uri) -> tuple:
    return uri.host(), uri.port(), uri.database(), uri.service(), uri.schema()


@functools.lru_cache(maxsize=32)
def _team_store_place(store: str) -> tuple:
    """Server, database and schema of a team store, asked of the server once per session: the
    layers are looked up after every verdict, and a connection per verdict would cost more than
    the verdict."""
    from qgis.core import QgsDataSourceUri

    return _place(QgsDataSourceUri(store_layer_source(store, "posts")[0]))


# -- store fids and QGIS feature ids -----------------------------------------------------------

STORE_KEY = "fid"  # every store table's primary key, a field of its layers on both backends


def feature_ids_of(layer, store_fids) -> list[int]:
    """The layer's feature ids of the store rows with these `fid`s. QGIS's `postgres` provider
    numbers the features of a table with a bigint key itself (in the order it first reads
    them), so a store fid is looked up by the key field, never used as a feature id."""
    from qgis.core import QgsExpression, QgsFeatureRequest

    wanted = sorted({int(f) for f in store_fids})
    if not wanted or _fid_is_feature_id(layer):
        return wanted
    request = QgsFeatureRequest().setFilterExpression(
        f"{QgsExpression.quotedColumnRef(STORE_KEY)} IN ({', '.join(map(str, wanted))})")
    request.setFlags(QgsFeatureRequest.Flag.NoGeometry).setNoAttributes()
    return sorted(f.id() for f in layer.getFeatures(request))


def _fid_is_feature_id(layer) -> bool:
    """OGR gives a GeoPackage row its `fid` as feature id: no read needed (nor wanted: a layer
    whose file changed since its last reload may read nothing until it reloads)."""
    return layer.providerType() == "ogr"


def store_fids_of(layer, feature_ids) -> list[int]:
    """The store `fid`s of some of the layer's features (its selection, a clicked feature)."""
    from qgis.core import QgsFeatureRequest

    ids = list(feature_ids)
    if not ids or _fid_is_feature_id(layer):
        return sorted(int(i) for i in ids)
    request = QgsFeatureRequest().setFilterFids(ids).setFlags(QgsFeatureRequest.Flag.NoGeometry)
    request.setSubsetOfAttributes([STORE_KEY], layer.fields())
    return sorted(int(f[STORE_KEY]) for f in layer.getFeatures(request) if f[STORE_KEY] is not None)


def find_posts_layer(store_path: str | Path, project=None):
    """The first layer of the project that shows the `posts` table of this store."""
    layers = store_layers(store_path, "posts", project)
    return layers[0] if layers else None


def refresh_store_layers(store_path: str | Path, project=None) -> int:
    """Make every layer on a store re-read it and repaint (after a verdict or an algorithm wrote
    to the store), so nobody has to press F5. Layers in edit mode keep their edit buffer and
    are only repainted. Returns how many layers were refreshed."""
    layers = store_layers(store_path, None, project)
    for layer in layers:
        if not layer.isEditable():
            layer.dataProvider().reloadData()
            layer.updateExtents()
        layer.triggerRepaint()
    return len(layers)


# -- where a step's output layers go -----------------------------------------------------------

STEP_PROPERTY = "mist/step"
RUN_PROPERTY = "mist/run"


def place_output_layer(layer, step: str, run: str, project=None) -> None:
    """Put a layer a MIST step just loaded where an analyst expects it: in place of the layers
    an earlier run of the same step loaded (re-running replaces, never piles up copies), else,
    for a raster or a polygon layer (a flood extent), just below the lowest point layer, so the
    posts stay visible above it."""
    from qgis.core import QgsProject

    project = project or QgsProject.instance()
    layer.setCustomProperty(STEP_PROPERTY, step)
    layer.setCustomProperty(RUN_PROPERTY, run)
    root = project.layerTreeRoot()
    node = root.findLayer(layer.id())
    if node is None:
        return
    older = [other for other in project.mapLayers().values()
             if other.id() != layer.id() and other.customProperty(STEP_PROPERTY) == step
             and other.customProperty(RUN_PROPERTY) != run]
    target = None
    for other in older:
        old_node = root.findLayer(other.id())
        if old_node is not None and target is None:
            parent = old_node.parent()
            target = (parent, parent.children().index(old_node))
    if target is None and (_is_raster(layer) or _is_polygon_layer(layer)):
        points = [n for n in root.findLayers() if n.layer() is not None and n.layer().id() != layer.id()
                  and _is_point_layer(n.layer())]
        if points:
            lowest = points[-1]
            parent = lowest.parent()
            target = (parent, parent.children().index(lowest) + 1)
    if target is not None:
        parent, index = target
        clone = node.clone()
        parent.insertChildNode(index, clone)
        node.parent().removeChildNode(node)
    for other in older:
        project.removeMapLayer(other.id())


def _is_raster(layer) -> bool:
    from qgis.core import QgsMapLayerType

    return layer.type() == QgsMapLayerType.RasterLayer


def _is_point_layer(layer) -> bool:
    from qgis.core import QgsVectorLayer, QgsWkbTypes

    return isinstance(layer, QgsVectorLayer) and layer.geometryType() == QgsWkbTypes.GeometryType.PointGeometry


def _is_polygon_layer(layer) -> bool:
    from qgis.core import QgsVectorLayer, QgsWkbTypes

    return isinstance(layer, QgsVectorLayer) and layer.geometryType() == QgsWkbTypes.GeometryType.PolygonGeometry


# -- text categories ----------------------------------------------------------------------------

CATEGORY_FIELD = "text_categories"
CATEGORY_SOURCE_FIELD = "text_category_source"
# Desk order: a post holding several categories is drawn in the first one it holds.
_CATEGORY_COLOURS = {
    "urgent_help": "#d7191c", "infrastructure_damage": "#7b3294", "relief_rescue": "#1a9641",
    "caution_advice": "#fdae61", "misinformation": "#000000", "flood": "#2c7bb6", "not_relevant": "#bdbdbd",
    "not_flood": "#e0e0e0",
}
NO_TEXT_VALUE = "no text"


def category_filter(category: str) -> str:
    """A QGIS expression selecting the posts that hold a category (posts may hold several)."""
    safe = category.replace("'", "''")
    return f"array_contains(string_to_array(coalesce(\"{CATEGORY_FIELD}\", '')), '{safe}')"


def primary_category_expression(categories: list[str]) -> str:
    """The first category (in desk order) a post holds, 'no text', or NULL when not screened."""
    whens = " ".join(f"WHEN {category_filter(c)} THEN '{c}'" for c in categories)
    return (f"CASE WHEN \"{CATEGORY_SOURCE_FIELD}\" = '{NO_TEXT_VALUE}' THEN '{NO_TEXT_VALUE}' {whens} "
            "ELSE NULL END")


def style_posts_by_category(layer, categories: list[tuple[str, str]] | None = None) -> None:
    """Colour posts by their text category (legend entries switch categories on and off).

    `categories` are (name, title) pairs in desk order; the defaults when not given."""
    from qgis.core import QgsCategorizedSymbolRenderer, QgsMarkerSymbol, QgsRendererCategory

    if categories is None:
        from ..core.text.categories import DEFAULT_CATEGORIES

        categories = [(c.name, c.title) for c in DEFAULT_CATEGORIES]
    order = sorted(categories, key=lambda c: list(_CATEGORY_COLOURS).index(c[0]) if c[0] in _CATEGORY_COLOURS
                   else len(_CATEGORY_COLOURS))
    palette = ["#e66101", "#5e3c99", "#b2abd2", "#fdb863", "#018571", "#80cdc1"]
    cats = []
    for i, (name, title) in enumerate(order):
        colour = _CATEGORY_COLOURS.get(name, palette[i % len(palette)])
        symbol = QgsMarkerSymbol.createSimple({"name": "circle", "color": colour, "size": "2.6",
                                               "outline_color": "#ffffff", "outline_width": "0.2"})
        cats.append(QgsRendererCategory(name, symbol, tr(title) if title else name))
    grey = QgsMarkerSymbol.createSimple({"name": "circle", "color": "#ffffff", "size": "1.8",
                                         "outline_color": "#707070"})
    cats.append(QgsRendererCategory(NO_TEXT_VALUE, grey, tr("no text")))
    layer.setRenderer(QgsCategorizedSymbolRenderer(primary_category_expression([n for n, _ in order]), cats))
    layer.triggerRepaint()


def style_store_posts_by_category(store_path: str | Path, project=None) -> list:
    """Colour the posts layers of a store by text category, with the store's own category list
    (the team's, in desk order) and a legend in the user's language; the posts layer is added
    first when the project has none. Returns the layers styled."""
    categories = store_categories(store_path)
    layers = store_layers(store_path, "posts", project) or [add_posts_layer(store_path, project)]
    for layer in layers:
        style_posts_by_category(layer, categories)
    return layers


def store_categories(store_path: str | Path) -> list[tuple[str, str]]:
    """(name, title) of the store's categories in desk order, what `style_posts_by_category` takes."""
    from ..core.text.categories import load_categories
    from ..pg_connections import open_store_target

    with open_store_target(str(store_path), read_only=True) as store:
        return [(c.name, c.title) for c in load_categories(store)]
