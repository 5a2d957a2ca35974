"""The Verify dock's key map: every key the dock answers to, and what it does, in one table.

F flood, N not flood, U unsure, 1-4 flood with a water depth class (ankle, knee, waist, above),
D the quick depth field, Right/Down next, Left/Up previous, M the match view, Ctrl+Z undo. Keys
with Ctrl or Alt (other than Ctrl+Z) stay QGIS's. Outside the dock, QGIS's Edit menu has
"Undo verdict", and QGIS's own Ctrl+Z takes back the latest verdict too (`WindowUndo`) whenever
QGIS's Undo has nothing to undo itself.

Posts without photos (the queue's "Posts without photos" mode): 1-9 switch the team's categories
on and off in list order (a post may hold several), 0 "none of these", arrows and Ctrl+Z as above.
"""

from __future__ import annotations

from dataclasses import dataclass

from qgis.PyQt.QtCore import QEvent, QObject, Qt
from qgis.PyQt.QtGui import QKeySequence
from qgis.PyQt.QtWidgets import QAction

from ..core.verify.records import DEPTH_CLASSES
from ..i18n import tr


@dataclass(frozen=True)
class KeyCommand:
    """What a key asks for: an action name, with a verdict and depth for "verdict"."""

    action: str  # "verdict", "next", "previous", "depth_field", "match", "undo", "category", "no_category"
    verdict: str | None = None
    depth_m: float | None = None
    category: int | None = None  # "category": the position in the team's category list


_DEPTH_KEYS = (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4)
KEYMAP: dict[int, KeyCommand] = {
    Qt.Key.Key_F: KeyCommand("verdict", "flood"),
    Qt.Key.Key_N: KeyCommand("verdict", "not_flood"),
    Qt.Key.Key_U: KeyCommand("verdict", "unsure"),
    **{key: KeyCommand("verdict", "flood", metres)
       for key, metres in zip(_DEPTH_KEYS, DEPTH_CLASSES.values(), strict=True)},
    Qt.Key.Key_Right: KeyCommand("next"), Qt.Key.Key_Down: KeyCommand("next"),
    Qt.Key.Key_Left: KeyCommand("previous"), Qt.Key.Key_Up: KeyCommand("previous"),
    Qt.Key.Key_D: KeyCommand("depth_field"),
    Qt.Key.Key_M: KeyCommand("match"),
}
CATEGORY_KEYS = (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5, Qt.Key.Key_6,
                 Qt.Key.Key_7, Qt.Key.Key_8, Qt.Key.Key_9)
TEXT_KEYMAP: dict[int, KeyCommand] = {
    **{key: KeyCommand("category", category=i) for i, key in enumerate(CATEGORY_KEYS)},
    Qt.Key.Key_0: KeyCommand("no_category"),
    Qt.Key.Key_Right: KeyCommand("next"), Qt.Key.Key_Down: KeyCommand("next"),
    Qt.Key.Key_Left: KeyCommand("previous"), Qt.Key.Key_Up: KeyCommand("previous"),
}
UNDO = KeyCommand("undo")
VERDICT_KEYS = {"flood": "F", "not_flood": "N", "unsure": "U"}  # the letters shown on the buttons


def command_for(key: int, modifiers, text_posts: bool = False) -> KeyCommand | None:
    """The dock's command for a key press, or None when the key is not the dock's; `text_posts`:
    the queue shows posts without photos."""
    if key == Qt.Key.Key_Z and modifiers & Qt.KeyboardModifier.ControlModifier:
        return UNDO
    if modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
        return None
    return (TEXT_KEYMAP if text_posts else KEYMAP).get(key)



def is_undo(event) -> bool:
    """Ctrl+Z alone (Ctrl+Shift+Z is redo)."""
    mods = event.modifiers()
    return event.key() == Qt.Key.Key_Z and bool(mods & Qt.KeyboardModifier.ControlModifier) and not (
        mods & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier))


QGIS_UNDO = "mActionUndo"  # the object name of QGIS's Edit › Undo in its main window


class WindowUndo(QObject):
    """QGIS's Undo outside the dock: "Undo verdict" in QGIS's Edit menu, and QGIS's Ctrl+Z with
    the map canvas focused or a layer of the dock's store active.

    QGIS's Edit › Undo is disabled unless the active layer is being edited (its shortcut then
    never fires), and the posts layer is never put in edit mode for a verdict. So the dock's own
    action sits under it in the Edit menu, enabled while the dock has something to undo, and it
    holds Ctrl+Z only while that applies: QGIS's Undo disabled and a layer of the store active.
    Two enabled actions on one shortcut would silence both, so QGIS's Undo getting enabled (a
    layer being edited) takes the shortcut back at once, and without QGIS's Undo to watch the
    action never holds it. The map canvas keeps Ctrl+Z from window
    shortcuts (its map tool accepts the key), so a filter on the canvas, and on the main window
    for keys no shortcut took, does the same."""

    def __init__(self, dock, iface) -> None:
        super().__init__(dock)
        self.dock, self.iface = dock, iface
        self.canvas = iface.mapCanvas() if hasattr(iface, "mapCanvas") else None
        window = iface.mainWindow()
        self.watched = [w for w in (window, self.canvas) if w is not None]
        for widget in self.watched:
            widget.installEventFilter(self)
        self.qgis_undo = window.findChild(QAction, QGIS_UNDO) if window is not None else None
        self.action = QAction(tr("Undo verdict"), window)
        self.action.setObjectName("MistUndoVerdict")
        self.action.setToolTip(tr("Take back the latest verdict of the MIST Verify dock"))
        self.action.triggered.connect(dock.undo)
        self.menu = iface.editMenu() if hasattr(iface, "editMenu") else None
        if self.menu is not None:
            actions = self.menu.actions()
            after = actions.index(self.qgis_undo) + 1 if self.qgis_undo in actions else len(actions)
            self.menu.insertAction(actions[after] if after < len(actions) else None, self.action)
        if window is not None:
            window.addAction(self.action)  # its shortcut works wherever the window has focus
        dock.verdicts.history_changed.connect(self.update)
        if self.qgis_undo is not None:
            self.qgis_undo.changed.connect(self.update)
        if hasattr(iface, "currentLayerChanged"):
            iface.currentLayerChanged.connect(self.update)
        self.update()

    def update(self, *_args) -> None:
        """Enabled while the dock can undo; Ctrl+Z only while QGIS's own Undo has nothing."""
        self.action.setEnabled(bool(self.dock.verdicts.history))
        takes_key = (self.action.isEnabled() and self.qgis_undo is not None and not self.qgis_undo.isEnabled()
                     and self._layer_is_the_stores())
        self.action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo) if takes_key else QKeySequence())

    def remove(self) -> None:
        for widget in self.watched:
            widget.removeEventFilter(self)
        if self.qgis_undo is not None:
            self.qgis_undo.changed.disconnect(self.update)
        if hasattr(self.iface, "currentLayerChanged"):
            self.iface.currentLayerChanged.disconnect(self.update)
        if self.menu is not None:
            self.menu.removeAction(self.action)
        if self.action.parent() is not None:
            self.action.parent().removeAction(self.action)
        self.action.deleteLater()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() != QEvent.Type.KeyPress or not is_undo(event):
            return False
        if not (self.dock.verdicts.history and (watched is self.canvas or self._layer_is_the_stores())):
            return False
        self.dock.undo()
        event.accept()
        return True

    def _layer_is_the_stores(self) -> bool:
        layer = self.iface.activeLayer() if hasattr(self.iface, "activeLayer") else None
        return layer is not None and self.dock.shows_layer(layer)
