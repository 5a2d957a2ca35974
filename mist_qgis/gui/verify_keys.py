"""The Verify dock's key map: every key the dock answers to, and what it does, in one table.

F flood, N not flood, U unsure, 1-4 flood with a water depth class (ankle, knee, waist, above),
D the quick depth field, Right/Down next, Left/Up previous, M the match view, Ctrl+Z undo. Keys
with Ctrl or Alt (other than Ctrl+Z) stay QGIS's.
"""

from __future__ import annotations

from dataclasses import dataclass

from qgis.PyQt.QtCore import Qt

from ..core.verify.records import DEPTH_CLASSES


@dataclass(frozen=True)
class KeyCommand:
    """What a key asks for: an action name, with a verdict and depth for "verdict"."""

    action: str  # "verdict", "next", "previous", "depth_field", "match", "undo"
    verdict: str | None = None
    depth_m: float | None = None


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
UNDO = KeyCommand("undo")
VERDICT_KEYS = {"flood": "F", "not_flood": "N", "unsure": "U"}  # the letters shown on the buttons


def command_for(key: int, modifiers) -> KeyCommand | None:
    """The dock's command for a key press, or None when the key is not the dock's."""
    if key == Qt.Key.Key_Z and modifiers & Qt.KeyboardModifier.ControlModifier:
        return UNDO
    if modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
        return None
    return KEYMAP.get(key)
