"""Verdicts on the posts layer of the project, through its edit buffer, so QGIS undo works.

The store is written first, immediately (nothing is lost if QGIS crashes). When a posts layer of
the same store is in the project, the same four fields (verified, verified_by, verified_at,
water_depth_m) are changed in the layer's edit buffer as one edit command per verdict, and a
command that takes the verdict back out of the store rides along inside it. So QGIS's own undo
and redo (Ctrl+Z on the layer, the Undo panel) undo and redo the verdict in the store as well.

Choice: the dock puts the layer in edit mode when needed and never commits; saving the layer is
left to the analyst, and is harmless because it writes the values the store already holds. When
QGIS discards the layer's edits ("Toggle editing" -> discard), the verdicts stay in the store
(they were saved as they were made) and the layer shows them again after the reload: discarding
never loses an hour of verdicts; use undo to take one back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qgis.core import NULL, QgsProject, QgsProviderRegistry, QgsVectorLayer
from qgis.PyQt.QtCore import QDateTime, QMetaType, Qt
from qgis.PyQt.QtWidgets import QUndoCommand

from ..core.verify.records import PostVerification, VerdictReceipt
from ..i18n import tr


def find_posts_layer(store_path: Path, project: QgsProject | None = None) -> QgsVectorLayer | None:
    """The first vector layer of the project that shows the `posts` table of this store."""
    project = project or QgsProject.instance()
    target = Path(store_path).resolve()
    for layer in project.mapLayers().values():
        if not isinstance(layer, QgsVectorLayer) or layer.providerType() != "ogr":
            continue
        parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
        if parts.get("layerName") == "posts" and parts.get("path"):
            try:
                if Path(parts["path"]).resolve() == target:
                    return layer
            except OSError:
                continue
    return None


def _layer_value(layer: QgsVectorLayer, name: str, value):
    if value is None:
        return NULL
    field = layer.fields().field(name)
    if field.type() == QMetaType.Type.QDateTime and isinstance(value, str):  # QVariant.Type on Qt 5: same value
        stamp = QDateTime.fromString(value, Qt.DateFormat.ISODateWithMs)
        stamp.setTimeSpec(Qt.TimeSpec.UTC)
        return stamp
    return value


class _StoreVerdictCommand(QUndoCommand):
    """Rides inside the layer's edit command: undo/redo take the verdicts out of / back into the
    store. Its first redo (the push) does nothing: the store already has them."""

    def __init__(self, sync: LayerSync, batch: VerdictBatch) -> None:
        super().__init__(tr("MIST verdict"))
        self.sync = sync
        self.batch = batch
        self._pushed = False

    def redo(self) -> None:
        if not self._pushed:
            self._pushed = True
            return
        self.sync.on_layer_redo(self.batch)

    def undo(self) -> None:
        self.sync.on_layer_undo(self.batch)


class VerdictBatch:
    """Verdicts written by one key press (one or several selected photos)."""

    def __init__(self, receipts: list[VerdictReceipt]) -> None:
        self.receipts = receipts
        self.layer_index: int | None = None  # the layer's undo index right after this batch
        self.undone = False


class LayerSync:
    """Mirrors verdict batches into a posts layer's edit buffer; the owner gets callbacks when
    QGIS undoes or redoes one (`undo_store(batch)` / `redo_store(batch)`)."""

    def __init__(self, store_path: Path, undo_store: Callable[[VerdictBatch], None],
                 redo_store: Callable[[VerdictBatch], None]) -> None:
        self.store_path = Path(store_path)
        self._undo_store = undo_store
        self._redo_store = redo_store
        self.active = True
        self._rolling_back = False
        self._layer: QgsVectorLayer | None = None
        # Python must keep the commands it pushed: the stack owns the C++ side, but a collected
        # Python wrapper loses its undo()/redo() overrides. Dropped when QGIS clears the stack.
        self._commands: list[_StoreVerdictCommand] = []

    # -- the layer -------------------------------------------------------------------------

    def layer(self) -> QgsVectorLayer | None:
        if self._layer is not None:
            try:
                self._layer.id()
                if QgsProject.instance().mapLayer(self._layer.id()) is self._layer:
                    return self._layer
            except RuntimeError:  # deleted on the C++ side
                pass
            self._layer = None
        layer = find_posts_layer(self.store_path)
        if layer is not None:
            layer.beforeRollBack.connect(self._before_rollback)
            layer.afterRollBack.connect(self._after_rollback)
            layer.afterCommitChanges.connect(self._commands.clear)
            self._layer = layer
        return layer

    def _before_rollback(self) -> None:
        self._rolling_back = True

    def _after_rollback(self) -> None:
        self._rolling_back = False
        self._commands.clear()
        if self._layer is not None:
            self._layer.triggerRepaint()

    def refresh_display(self) -> None:
        """After store-only changes: make a layer that is not being edited re-read the file."""
        layer = self.layer()
        if layer is not None and not layer.isEditable():
            layer.reload()
            layer.triggerRepaint()

    # -- writing ---------------------------------------------------------------------------

    def apply(self, batch: VerdictBatch) -> bool:
        """Put a batch into the layer's edit buffer as one undoable command; False without a
        layer, or when the layer cannot be edited (it is then just redrawn from the store)."""
        states = [(r.verdict.post_fid, r.written) for r in batch.receipts]
        return self._edit(states, tr("MIST verdict"), batch)

    def revert(self, batch: VerdictBatch, states: list[tuple[int, PostVerification]]) -> bool:
        """Show store-side undo results in the layer (a plain edit command, no store command)."""
        return self._edit(states, tr("MIST undo verdict"), None)

    def _edit(self, states: list[tuple[int, PostVerification]], text: str, batch: VerdictBatch | None) -> bool:
        layer = self.layer()
        if layer is None:
            return False
        if not layer.isEditable() and not layer.startEditing():
            self.refresh_display()
            return False
        fields = layer.fields()
        indexes = {name: fields.indexOf(name) for name in PostVerification.FIELDS}
        if min(indexes.values()) < 0:
            self.refresh_display()
            return False
        layer.beginEditCommand(text)
        try:
            for post_fid, state in states:
                feature = layer.getFeature(post_fid)
                if not feature.isValid():
                    continue
                for name, value in zip(PostVerification.FIELDS, state.as_tuple(), strict=True):
                    layer.changeAttributeValue(post_fid, indexes[name], _layer_value(layer, name, value),
                                               feature.attribute(indexes[name]))
            if batch is not None:
                command = _StoreVerdictCommand(self, batch)
                self._commands.append(command)
                layer.undoStack().push(command)
        finally:
            layer.endEditCommand()
        if batch is not None:
            batch.layer_index = layer.undoStack().index()
        layer.triggerRepaint()
        return True

    def undo_on_layer(self, batch: VerdictBatch) -> bool:
        """Undo through the layer's stack when this batch is its latest command (True if done)."""
        layer = self.layer()
        if layer is None or not layer.isEditable() or batch.layer_index is None:
            return False
        stack = layer.undoStack()
        if stack.index() != batch.layer_index or not stack.canUndo():
            return False
        stack.undo()
        return batch.undone

    # -- callbacks from QGIS's undo stack --------------------------------------------------

    def on_layer_undo(self, batch: VerdictBatch) -> None:
        if not self.active or self._rolling_back or batch.undone:
            return
        self._undo_store(batch)

    def on_layer_redo(self, batch: VerdictBatch) -> None:
        if not self.active or not batch.undone:
            return
        self._redo_store(batch)

    def disconnect(self) -> None:
        self.active = False
        if self._layer is not None:
            try:
                self._layer.beforeRollBack.disconnect(self._before_rollback)
                self._layer.afterRollBack.disconnect(self._after_rollback)
                self._layer.afterCommitChanges.disconnect(self._commands.clear)
            except (RuntimeError, TypeError):
                pass
        self._layer = None
