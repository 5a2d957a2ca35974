"""The post's text categories in the verification dock: what keyword rules, heads and analysts
said, and check boxes for the analyst to set the post's categories (several may hold). Saving
writes the analyst's categories to the store through `writer` (the dock's verdict controller, so
Ctrl+Z takes them back); they become training labels of the text heads. With `numbered`, each box
shows the key that switches it (1-9, the team's list order)."""

from __future__ import annotations

from collections.abc import Callable

from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QCheckBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from ..core.store import Store
from ..core.store import text_sql as store_text
from ..core.text.categories import DEFAULT_CATEGORIES, load_categories
from ..i18n import QT_TR_NOOP, tr

COLUMNS = 4
# The default category titles and the sources, for translation (the store's list may add others).
_TRANSLATED = (
    QT_TR_NOOP("urgent help needed"), QT_TR_NOOP("relief and rescue information"),
    QT_TR_NOOP("infrastructure damage"), QT_TR_NOOP("caution and advice"), QT_TR_NOOP("misinformation"),
    QT_TR_NOOP("not relevant"), QT_TR_NOOP("flood"), QT_TR_NOOP("not flood"), QT_TR_NOOP("keyword rule"),
    QT_TR_NOOP("head"), QT_TR_NOOP("analyst"), QT_TR_NOOP("head + keyword rule"),
)


class TextCategoriesPanel(QGroupBox):
    """Shows and sets one post's categories; `analyst` is asked for at save time."""

    saved = pyqtSignal(int)  # post fid

    def __init__(self, analyst: Callable[[], str], writer: Callable[[int, list[str], str], bool],
                 numbered: bool = False, parent=None) -> None:
        super().__init__(tr("Text categories"), parent)
        self._analyst = analyst
        self._writer = writer
        self._numbered = numbered
        self._store: Store | None = None
        self._post_fid: int | None = None
        self.current = QLabel()
        self.current.setWordWrap(True)
        self.boxes: dict[str, QCheckBox] = {}
        self.grid = QGridLayout()
        self.save_button = QPushButton(tr("Set categories"))
        self.save_button.clicked.connect(self.save)
        self.message = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addLayout(self.grid)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(self.message, 1)
        layout.addLayout(row)
        self._rebuild(DEFAULT_CATEGORIES)  # the usual list from the start: the dock's layout stays put
        self.setEnabled(False)

    def show_post(self, store: Store | None, post_fid: int | None) -> None:
        """Show a post's categories (the store's category list as check boxes)."""
        self._store, self._post_fid = store, post_fid
        self.message.clear()
        if store is None or post_fid is None:
            self.current.setText(tr("No post selected."))
            self.setEnabled(False)
            return
        try:
            categories = load_categories(store)
            rows = store_text.post_categories(store, post_fid)
            summary = store.query("SELECT text_categories, text_category_source, text_confidence FROM posts "
                                  "WHERE fid = ?", (post_fid,))
        except Exception as exc:  # a store without text screening (older schema): say so, never crash
            self.current.setText(tr("Text categories are not available: {e}").format(e=exc))
            self.setEnabled(False)
            return
        self._rebuild(categories)
        titles = {c.name: c.title for c in categories}
        analyst = {r["category"] for r in rows if r["source"] == "analyst"}
        shown = set(filter(None, (summary[0][0] or "").split(","))) if summary else set()
        for name, box in self.boxes.items():
            box.setChecked(name in (analyst or shown))
        source = summary[0][1] if summary else None
        if source is None:
            self.current.setText(tr("Not screened yet."))
        elif source == store_text.NO_TEXT:
            self.current.setText(tr("No text (not counted as a negative)."))
        else:
            names = ", ".join(tr(titles.get(n, n)) for n in sorted(shown)) or tr("none")
            conf = summary[0][2]
            self.current.setText(tr("{names} — from {source}{confidence}").format(
                names=names, source=tr(source),
                confidence="" if conf is None else tr(", confidence {c:.2f}").format(c=conf)))
        self.setEnabled(not store.read_only)

    def _rebuild(self, categories) -> None:
        if list(self.boxes) == [c.name for c in categories]:
            return
        for box in self.boxes.values():
            self.grid.removeWidget(box)
            box.deleteLater()
        self.boxes = {}
        for i, c in enumerate(categories):
            box = QCheckBox(f"{i + 1} {tr(c.title)}" if self._numbered and i < 9 else tr(c.title))
            box.setObjectName(c.name)
            self.grid.addWidget(box, i // COLUMNS, i % COLUMNS)
            self.boxes[c.name] = box

    def checked(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.isChecked()]

    def toggle(self, index: int) -> bool:
        """Switch the index-th category of the list and save at once (a category key)."""
        boxes = list(self.boxes.values())
        if not self.isEnabled() or not 0 <= index < len(boxes):
            return False
        boxes[index].toggle()
        if not self.save():
            boxes[index].toggle()
            return False
        return True

    def clear_and_save(self) -> bool:
        """"None of these": no category holds for the post (an answer, not a skip)."""
        if not self.isEnabled():
            return False
        for box in self.boxes.values():
            box.setChecked(False)
        return self.save()

    def save(self) -> bool:
        """Write the checked categories as the analyst's; False (with a message) if it cannot."""
        analyst = self._analyst().strip()
        if self._store is None or self._post_fid is None:
            return False
        if not analyst:
            self.message.setText(tr("Type your name in the Analyst field first."))
            return False
        if not self._writer(self._post_fid, self.checked(), analyst):
            return False
        self.message.setText(tr("Saved."))
        self.show_post(self._store, self._post_fid)
        self.message.setText(tr("Saved."))
        self.saved.emit(self._post_fid)
        return True
