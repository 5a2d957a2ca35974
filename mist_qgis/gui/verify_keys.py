"""The Verify dock's key map: every key the dock answers to, and what it does, in one table.

F flood, N not flood, U unsure, 1-4 flood with a water depth class (ankle, knee, waist, above),
D the quick depth field, Right/Down next, Left/Up previous, M the match view, Ctrl+Z undo. Keys
with Ctrl or Alt (other than Ctrl+Z) stay QGIS's.

Posts without photos (the queue's "Posts without photos" mode): 1-9 switch the team's categories
on and off in list order (a post may hold several), 0 "none of these", arrows and Ctrl+Z as above.
"""

from __future__ import annotations

from dataclasses import dataclass

from qgis.PyQt.QtCore import Qt

from ..core.verify.records import DEPTH_CLASSES


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
