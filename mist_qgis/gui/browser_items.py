"""A "MIST" node in QGIS's Browser and Data Source Manager: the project's active store and the
stores used recently, each with only the layers a user opens (`Store.layer_tables`).

QGIS opens a GeoPackage with GDAL's `LIST_ALL_TABLES=YES`, so its own GeoPackage node lists every
bookkeeping table of a store too. The layer items here carry the same source MIST's layers use
(`qgis_ops.layers.store_layer_source`), so a layer added by double-click or drag arrives with the
default style MIST saved in the store, as any layer QGIS opens does.
"""

from __future__ import annotations

from qgis.core import (
    Qgis,
    QgsDataCollectionItem,
    QgsDataItem,
    QgsDataItemProvider,
    QgsDataProvider,
    QgsErrorItem,
    QgsLayerItem,
)
from qgis.PyQt import sip
from qgis.PyQt.QtGui import QIcon

from ..core.errors import MistError
from ..core.store import StoreError
from ..i18n import tr
from ..paths import icon_path
from ..pg_connections import display_name, open_store_target
from ..qgis_ops.layers import store_layer_source
from .active_store import NOTIFIER, active_store, recent_stores

PROVIDER_NAME = "MIST"
ROOT_PATH = "mist:"


def _owned_by_qgis(items: list, parent: QgsDataItem) -> list:
    """Children handed to QGIS in the order given (the Browser sorts by sort key). C++ owns them,
    and their parent's Python side keeps theirs (and so their `createChildren`) alive."""
    for i, item in enumerate(items):
        item.setSortKey(f"{i:04d}")
        sip.transferto(item, parent)
    return items


def _fast(item: QgsDataItem) -> None:
    """Children built on the main thread: listing stores reads settings, a store's layers one
    read-only query (what every dock does), and QGIS's settings and authentication manager are
    asked for a team store's connection."""
    flags = Qgis.BrowserItemCapability
    item.setCapabilitiesV2(Qgis.BrowserItemCapabilities(flags.Fast | flags.Fertile))  # 3.22: the | is an int


def _layer_type(geometry: str | None):
    kinds = Qgis.BrowserLayerType
    if geometry is None:
        return kinds.TableLayer
    return kinds.Line if "LINE" in geometry else kinds.Polygon if "POLYGON" in geometry else kinds.Point


class StoreLayerItem(QgsLayerItem):
    """One table of a store as a layer: double-click or drag adds it with the store's default style."""

    def __init__(self, parent: QgsDataItem, store: str, table: str, geometry: str | None) -> None:
        source, provider = store_layer_source(store, table)
        super().__init__(parent, table, f"{parent.path()}/{table}", source, _layer_type(geometry), provider)
        self.table = table
        self.setIcon(QgsLayerItem.iconForWkbType(_wkb_type(geometry)) if geometry else QgsLayerItem.iconTable())


def _wkb_type(geometry: str):
    from qgis.core import QgsWkbTypes

    return QgsWkbTypes.parseType(geometry)


class StoreItem(QgsDataCollectionItem):
    """A store: its user-facing layers, or one error item saying why it cannot be listed."""

    def __init__(self, parent: QgsDataItem, store: str, active: bool) -> None:
        name = display_name(store)
        if active:
            name = tr("{name} (active)").format(name=name)
        # the active store's item is another item (another path), so QGIS's refresh renames it
        role = "active" if active else "recent"
        super().__init__(parent, name, f"{ROOT_PATH}/{role}/{QgsDataItem.pathComponent(store)}", PROVIDER_NAME)
        self.store = store
        self.setToolTip(store)
        self.setIcon(QIcon(str(icon_path("store.svg"))))
        _fast(self)

    def sortKey(self):  # noqa: N802 (QGIS calls it by this name)
        """The active store first, then the most recently used: asked when the Browser sorts, so
        the items QGIS keeps across a refresh follow the new order too."""
        stores = recent_stores()
        return f"{stores.index(self.store) if self.store in stores else len(stores):04d}"

    def createChildren(self) -> list:  # noqa: N802
        try:
            with open_store_target(self.store, create=False, read_only=True) as store:
                tables = store.layer_tables()
            items = [StoreLayerItem(self, self.store, table, geometry) for table, geometry in tables]
        except (MistError, StoreError, OSError, ValueError) as exc:
            items = [QgsErrorItem(self, str(exc), f"{self.path()}/error")]
        return _owned_by_qgis(items, self)


class MistRootItem(QgsDataCollectionItem):
    """The "MIST" node."""

    def __init__(self) -> None:
        super().__init__(None, tr("MIST"), ROOT_PATH, PROVIDER_NAME)
        self.setIcon(QIcon(str(icon_path("mist.svg"))))
        self.setToolTip(tr("MIST stores: the active store and the ones used recently"))
        _fast(self)

    def createChildren(self) -> list:  # noqa: N802
        active = active_store()
        return _owned_by_qgis([StoreItem(self, store, store == active) for store in recent_stores(active)], self)


class MistItemProvider(QgsDataItemProvider):
    """Registered by the plugin in `initGui`; `unload` calls `close` and removes it (QGIS then
    drops the node from every Browser)."""

    def __init__(self) -> None:
        super().__init__()
        self._roots: list[MistRootItem] = []  # their Python side lives while QGIS shows them
        NOTIFIER.changed.connect(self._store_changed)

    def name(self) -> str:
        return PROVIDER_NAME

    def dataProviderKey(self) -> str:  # noqa: N802
        return PROVIDER_NAME

    def capabilities(self):
        flags = getattr(Qgis, "DataItemProviderCapability", None)
        return flags.NetworkSources if flags is not None else QgsDataProvider.DataCapability.Net  # QGIS 3.22

    def createDataItem(self, path: str, parent: QgsDataItem | None):  # noqa: N802
        """The root node (one per Browser model: the Browser panels, the Data Source Manager)."""
        if path:
            return None
        root = MistRootItem()
        self._roots = [r for r in self._roots if not sip.isdeleted(r)] + [root]
        return root

    def _store_changed(self, _store: str) -> None:
        """Every Browser lists the stores again when the project's active store changes. Asked
        through QGIS's own path (a root's `connectionsChanged`): each Browser model then refreshes
        the MIST node it shows, never one it has already let go."""
        self._roots = [r for r in self._roots if not sip.isdeleted(r)]
        for root in self._roots:
            root.refreshConnections(PROVIDER_NAME)

    def close(self) -> None:
        """Stop following the active store (before the registry deletes the provider)."""
        try:
            NOTIFIER.changed.disconnect(self._store_changed)
        except TypeError:  # not connected
            pass
