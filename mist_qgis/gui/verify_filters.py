"""The Verify dock's filter bar: verdict (or the posts without photos), ordering, text, score
range, duplicates, and which map state the queue follows (extent, selection, temporal controller)."""

from __future__ import annotations

from qgis.PyQt.QtCore import QTimer, pyqtSignal
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QLabel, QLineEdit, QWidget

from ..core.verify.records import UNVERIFIED, BBox, Ordering, QueueFilter
from ..i18n import QT_TR_NOOP, tr

TEXT_POSTS = "text_posts"  # the queue shows posts without photos, to categorise by their text
ORDERINGS = [
    (Ordering.IMPORT, QT_TR_NOOP("Import order")), (Ordering.NEWEST, QT_TR_NOOP("Newest first")),
    (Ordering.OLDEST, QT_TR_NOOP("Oldest first")), (Ordering.SCORE_HIGH, QT_TR_NOOP("Score: high to low")),
    (Ordering.SCORE_LOW, QT_TR_NOOP("Score: low to high")), (Ordering.MOST_USEFUL, QT_TR_NOOP("Most useful next")),
]
VERDICT_FILTERS = [
    (None, QT_TR_NOOP("All photos")), (frozenset({UNVERIFIED}), QT_TR_NOOP("Not verified")),
    (frozenset({"flood"}), QT_TR_NOOP("Flood")), (frozenset({"not_flood"}), QT_TR_NOOP("Not flood")),
    (frozenset({"unsure"}), QT_TR_NOOP("Unsure")), ("mine", QT_TR_NOOP("Not judged by me")),
    (TEXT_POSTS, QT_TR_NOOP("Posts without photos")),
]
SETTLE_MS = 250


class VerifyFilters(QWidget):
    """The filter widgets; `changed` fires once the analyst stops typing or clicking."""

    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.verdict_filter = QComboBox()
        for _value, label in VERDICT_FILTERS:
            self.verdict_filter.addItem(tr(label))
        self.ordering_combo = QComboBox()
        for _value, label in ORDERINGS:
            self.ordering_combo.addItem(tr(label))
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(tr("search post text"))
        self.search_edit.setClearButtonEnabled(True)
        self.score_min = QDoubleSpinBox()
        self.score_max = QDoubleSpinBox()
        for spin, special in ((self.score_min, tr("min")), (self.score_max, tr("max"))):
            spin.setRange(-0.01, 1.0)
            spin.setSingleStep(0.05)
            spin.setDecimals(2)
            spin.setSpecialValueText(special)
            spin.setValue(-0.01)
        self.hide_duplicates = QCheckBox(tr("Hide duplicates"))
        self.hide_duplicates.setChecked(True)
        self.follow_extent = QCheckBox(tr("Map extent"))
        self.follow_selection = QCheckBox(tr("Map selection"))
        self.follow_time = QCheckBox(tr("Time controller"))
        self.sync_map = QCheckBox(tr("Select on map"))
        self.sync_map.setChecked(True)
        grid.addWidget(self.verdict_filter, 0, 0)
        grid.addWidget(self.ordering_combo, 0, 1)
        grid.addWidget(self.search_edit, 0, 2, 1, 2)
        grid.addWidget(QLabel(tr("Score")), 0, 4)
        grid.addWidget(self.score_min, 0, 5)
        grid.addWidget(self.score_max, 0, 6)
        grid.addWidget(self.hide_duplicates, 1, 0)
        grid.addWidget(self.follow_extent, 1, 1)
        grid.addWidget(self.follow_selection, 1, 2)
        grid.addWidget(self.follow_time, 1, 3)
        grid.addWidget(self.sync_map, 1, 4, 1, 2)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SETTLE_MS)
        self.timer.timeout.connect(self.changed)
        for signal in (self.verdict_filter.currentIndexChanged, self.ordering_combo.currentIndexChanged,
                       self.search_edit.textChanged, self.score_min.valueChanged, self.score_max.valueChanged,
                       self.hide_duplicates.toggled):
            signal.connect(self.timer.start)

    def text_posts(self) -> bool:
        """The queue shows posts without photos (categorised by text) rather than photos."""
        return VERDICT_FILTERS[self.verdict_filter.currentIndex()][0] == TEXT_POSTS

    def show_text_posts(self, on: bool = True) -> None:
        """Switch the queue to the posts without photos, or back to all photos (without waiting
        for the settle timer)."""
        blocked = self.verdict_filter.blockSignals(True)
        try:
            self.verdict_filter.setCurrentIndex([v for v, _ in VERDICT_FILTERS].index(TEXT_POSTS) if on else 0)
        finally:
            self.verdict_filter.blockSignals(blocked)

    def ordering(self) -> Ordering:
        return ORDERINGS[self.ordering_combo.currentIndex()][0]

    def queue_filter(
        self, analyst: str, post_fids: frozenset[int] | None, time_window, extent: BBox | None,
    ) -> QueueFilter:
        """The queue filter for these widgets plus what the map contributes (the caller decides
        whether the map is followed: pass None for anything not followed)."""
        verdicts = VERDICT_FILTERS[self.verdict_filter.currentIndex()][0]
        window = time_window or (None, None)
        return QueueFilter(
            verdicts=None if verdicts in ("mine", TEXT_POSTS) else verdicts,
            not_verified_by=analyst if verdicts == "mine" and analyst else None,
            score_min=self.score_min.value() if self.score_min.value() >= 0 else None,
            score_max=self.score_max.value() if self.score_max.value() >= 0 else None,
            time_from=window[0], time_to=window[1], bbox=extent,
            text=self.search_edit.text(), hide_duplicates=self.hide_duplicates.isChecked(),
            post_fids=post_fids,
        )

    def stop(self) -> None:
        self.timer.stop()
