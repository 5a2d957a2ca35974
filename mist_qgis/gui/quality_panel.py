"""The quality panel: the screening model against the verified photos (precision-recall curve,
confusion matrix at the analyst's threshold), verdicts over time, two analysts' agreement
(Cohen's kappa) with their conflicts, and the geolocation confidence against the analysts'
placement verdicts (reliability diagram of the model in use and of the latest refit). Plots are
drawn with matplotlib's Agg backend into pixmaps, imported only when the panel is first shown."""

from __future__ import annotations

import io

from qgis.PyQt.QtCore import Qt, QTimer, pyqtSignal
from qgis.PyQt.QtGui import QPixmap
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.geoloc import calibration
from ..core.store import Store, calibration_sql
from ..core.store import verify_sql as store_verify
from ..core.verify import agreement as agreement_mod
from ..core.verify import quality
from ..core.verify.records import VERDICTS
from ..i18n import tr

PLOT_DPI = 90


# Translated labels (Chinese) need a CJK font; matplotlib falls back through this list glyph by
# glyph and ends at its own DejaVu Sans where none of these is installed.
CJK_FONTS = ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Source Han Sans SC", "Droid Sans Fallback", "Microsoft YaHei", "PingFang SC"]


def _png(draw, width: float, height: float) -> bytes:
    """Draw on a new figure with fonts that cover translated labels; matplotlib's global
    settings (shared with QGIS and other plugins) are left as they were."""
    import matplotlib
    from matplotlib.figure import Figure

    installed = {f.name for f in matplotlib.font_manager.fontManager.ttflist}
    fonts = [f for f in CJK_FONTS if f in installed] or ["sans-serif"]
    with matplotlib.rc_context({"font.family": fonts}):
        fig = Figure(figsize=(width, height), dpi=PLOT_DPI)
        draw(fig)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()


def render_quality_png(evaluation: quality.Evaluation, threshold: float) -> bytes | None:
    """PR curve with the threshold marked, and the confusion matrix at that threshold."""
    curve = evaluation.pr_curve()
    if curve is None:
        return None
    return _png(lambda fig: _draw_quality(fig, evaluation, curve, threshold), 7.2, 3.2)


def _draw_quality(fig, evaluation: quality.Evaluation, curve, threshold: float) -> None:
    ax_pr, ax_cm = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
    ax_pr.step(curve.recall, curve.precision, where="post", color="#1e6edc")
    c = evaluation.confusion(threshold)
    if c.precision is not None and c.recall is not None:
        ax_pr.plot([c.recall], [c.precision], "o", color="#d62728", label=f"t = {threshold:.2f}")
        ax_pr.legend(loc="lower left")
    ax_pr.set_xlim(0, 1.02)
    ax_pr.set_ylim(0, 1.02)
    ax_pr.set_xlabel(tr("Recall"))
    ax_pr.set_ylabel(tr("Precision"))
    ax_pr.set_title(tr("AP {ap:.2f} ({pos} flood / {neg} not)").format(
        ap=curve.average_precision, pos=curve.n_positive, neg=curve.n_negative), fontsize=9)
    matrix = [[c.tp, c.fn], [c.fp, c.tn]]
    ax_cm.imshow(matrix, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax_cm.text(j, i, str(matrix[i][j]), ha="center", va="center", fontsize=12)
    ax_cm.set_xticks([0, 1], [tr("called flood"), tr("called not")])
    ax_cm.set_yticks([0, 1], [tr("verified flood"), tr("verified not")])
    ax_cm.set_title(tr("At threshold {t:.2f}").format(t=threshold), fontsize=9)


def render_counts_png(counts: dict[str, dict[str, int]]) -> bytes | None:
    """Stacked bars of verdicts per bucket (day or hour)."""
    if not counts:
        return None
    return _png(lambda fig: _draw_counts(fig, counts), 7.2, 2.4)


def _draw_counts(fig, counts: dict[str, dict[str, int]]) -> None:
    ax = fig.subplots()
    buckets = list(counts)
    bottom = [0] * len(buckets)
    colours = {"flood": "#1e6edc", "not_flood": "#888888", "unsure": "#d28c00"}
    for verdict in VERDICTS:
        values = [counts[b].get(verdict, 0) for b in buckets]
        ax.bar(range(len(buckets)), values, bottom=bottom, color=colours[verdict], label=verdict)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    step = max(1, len(buckets) // 8)
    ax.set_xticks(range(0, len(buckets), step), [b.replace("T", " ") for b in buckets[::step]], fontsize=7)
    ax.set_ylabel(tr("Verdicts"))
    ax.legend(fontsize=7)


def render_reliability_png(in_use: calibration.Reliability | None, refit: dict | None) -> bytes | None:
    """Reliability diagram: observed share of right placements against the confidence, per bin,
    for the model in use on the current verdicts and for the latest refit (out of fold)."""
    if in_use is None and not refit:
        return None
    return _png(lambda fig: _draw_reliability(fig, in_use, refit), 7.2, 3.0)


def _draw_reliability(fig, in_use: calibration.Reliability | None, refit: dict | None) -> None:
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], linestyle=":", color="#888888", label=tr("perfectly calibrated"))
    curves = []
    if in_use is not None:
        curves.append((in_use.confidence, in_use.accuracy, in_use.counts, "#d62728",
                       tr("in use, ECE {e:.3f}").format(e=in_use.ece)))
    if refit:
        curves.append((refit.get("confidence", []), refit.get("accuracy", []), refit.get("counts", []), "#1e6edc",
                       tr("refit (out of fold), ECE {e:.3f}").format(e=refit.get("ece", 0.0))))
    for conf, acc, counts, colour, label in curves:
        points = [(c, a, n) for c, a, n in zip(conf, acc, counts, strict=False) if c is not None and a is not None]
        if not points:
            continue
        ax.plot([p[0] for p in points], [p[1] for p in points], "o-", color=colour, label=label)
        for c, a, n in points:
            ax.annotate(str(n), (c, a), textcoords="offset points", xytext=(3, 3), fontsize=6, color=colour)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(tr("Confidence"))
    ax.set_ylabel(tr("Share judged right place"))
    ax.legend(loc="upper left", fontsize=7)


def _pixmap(png: bytes | None) -> QPixmap | None:
    if png is None:
        return None
    pixmap = QPixmap()
    pixmap.loadFromData(png, "PNG")
    return pixmap


def calibrated_threshold(model_tag: str) -> float | None:
    """The flood threshold a model's card carries (heads calibrate one), None when unknown."""
    if not model_tag:
        return None
    from ..model_folders import registry

    try:
        card = registry().resolve(model_tag).card
    except Exception:  # noqa: BLE001 - a model not in the registry (any more): keep the slider
        return None
    thresholds = card.thresholds or {}
    value = thresholds.get("flood", next(iter(thresholds.values()), None))
    return float(value) if value is not None else None


class QualityPanel(QWidget):
    threshold_changed = pyqtSignal(float)
    show_item = pyqtSignal(int, int)  # post fid, media fid (0 for a post-level verdict)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.store: Store | None = None
        self._dirty = True
        inner = QWidget()
        layout = QVBoxLayout(inner)

        model_box = QGroupBox(tr("Screening model against verified photos"))
        form = QFormLayout(model_box)
        self.model_combo = QComboBox()
        self.model_combo.currentIndexChanged.connect(self._model_changed)
        form.addRow(tr("Model"), self.model_combo)
        slider_row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setValue(50)
        self.threshold_label = QLabel("0.50")
        self.slider.valueChanged.connect(self._threshold_moved)
        slider_row.addWidget(self.slider)
        slider_row.addWidget(self.threshold_label)
        form.addRow(tr("Threshold"), slider_row)
        self.metrics_label = QLabel()
        form.addRow(self.metrics_label)
        self.pr_label = QLabel()
        self.pr_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        form.addRow(self.pr_label)
        layout.addWidget(model_box)

        time_box = QGroupBox(tr("Verdicts over time"))
        time_layout = QVBoxLayout(time_box)
        self.bucket_combo = QComboBox()
        self.bucket_combo.addItem(tr("per day"), "day")
        self.bucket_combo.addItem(tr("per hour"), "hour")
        self.bucket_combo.currentIndexChanged.connect(self._schedule)
        time_layout.addWidget(self.bucket_combo)
        self.counts_label = QLabel()
        self.counts_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        time_layout.addWidget(self.counts_label)
        layout.addWidget(time_box)

        agree_box = QGroupBox(tr("Agreement between analysts"))
        agree_layout = QVBoxLayout(agree_box)
        pick = QHBoxLayout()
        self.analyst_a = QComboBox()
        self.analyst_b = QComboBox()
        for combo in (self.analyst_a, self.analyst_b):
            combo.currentIndexChanged.connect(self._schedule)
            pick.addWidget(combo)
        agree_layout.addLayout(pick)
        self.kappa_label = QLabel()
        self.kappa_label.setWordWrap(True)
        agree_layout.addWidget(self.kappa_label)
        self.conflicts = QTableWidget(0, 4)
        self.conflicts.setHorizontalHeaderLabels([tr("Post"), tr("Photo"), tr("Analyst A"), tr("Analyst B")])
        self.conflicts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.conflicts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.conflicts.cellDoubleClicked.connect(self._conflict_clicked)
        agree_layout.addWidget(self.conflicts)
        layout.addWidget(agree_box)

        calib_box = QGroupBox(tr("Geolocation confidence against placement verdicts"))
        calib_layout = QVBoxLayout(calib_box)
        self.matcher_combo = QComboBox()
        self.matcher_combo.currentIndexChanged.connect(self._schedule)
        calib_layout.addWidget(self.matcher_combo)
        self.calibration_text = QLabel()
        self.calibration_text.setWordWrap(True)
        calib_layout.addWidget(self.calibration_text)
        self.reliability_label = QLabel()
        self.reliability_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        calib_layout.addWidget(self.reliability_label)
        layout.addWidget(calib_box)
        layout.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.refresh)

    # -- data ------------------------------------------------------------------------------

    @property
    def threshold(self) -> float:
        return self.slider.value() / 100.0

    def set_store(self, store: Store | None) -> None:
        self.store = store
        self.reload_choices()

    def reload_choices(self) -> None:
        """Re-read the models and analysts of the store (keeping the current choices)."""
        models = store_verify.models(self.store) if self.store else []
        names = [a for a, _ in agreement_mod.analysts(self.store)] if self.store else []
        matchers = calibration_sql.judged_matchers(self.store) if self.store else []
        model_before = self.model_combo.currentText()
        for combo, items in ((self.model_combo, models), (self.analyst_a, names), (self.analyst_b, names),
                             (self.matcher_combo, matchers)):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            if current in items:
                combo.setCurrentText(current)
            combo.blockSignals(False)
        if self.analyst_b.count() > 1 and self.analyst_b.currentText() == self.analyst_a.currentText():
            self.analyst_b.setCurrentIndex(1 if self.analyst_a.currentIndex() == 0 else 0)
        if self.model_combo.currentText() != model_before:
            self._model_changed()
        self._schedule()

    def _model_changed(self, *_args) -> None:
        """A model's own calibrated threshold (a trained head's) is where the slider starts."""
        threshold = calibrated_threshold(self.model_combo.currentText())
        if threshold is not None:
            self.slider.setValue(round(threshold * 100))
        self._schedule()

    def _schedule(self) -> None:
        self._dirty = True
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._dirty:
            self._timer.start()

    def _threshold_moved(self, value: int) -> None:
        self.threshold_label.setText(f"{value / 100:.2f}")
        self.threshold_changed.emit(value / 100.0)
        self._schedule()

    def refresh(self) -> None:
        """Recompute and redraw everything (cheap: verified photos are few)."""
        self._dirty = False
        if self.store is None:
            for label in (self.pr_label, self.counts_label):
                label.clear()
            self.metrics_label.setText(tr("No store open."))
            self.reliability_label.clear()
            self.calibration_text.clear()
            return
        model = self.model_combo.currentText()
        if model:
            labels = store_verify.model_labels(self.store, model)
            label = "flood" if "flood" in labels or not labels else labels[0]
            ev = quality.evaluate(self.store, model, label)
            c = ev.confusion(self.threshold)
            fmt = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
            self.metrics_label.setText(
                tr("{n} verified photos scored · precision {p} · recall {r} · F1 {f}").format(
                    n=len(ev.scores), p=fmt(c.precision), r=fmt(c.recall), f=fmt(c.f1)))
            pixmap = _pixmap(render_quality_png(ev, self.threshold))
            if pixmap is None:
                self.pr_label.setText(tr("Needs verified flood and not-flood photos scored by this model."))
            else:
                self.pr_label.setPixmap(pixmap)
        else:
            self.metrics_label.setText(tr("No screening results in this store yet."))
            self.pr_label.clear()
        counts = quality.counts_over_time(self.store, self.bucket_combo.currentData() or "day")
        pixmap = _pixmap(render_counts_png(counts))
        if pixmap is None:
            self.counts_label.setText(tr("No verdicts yet."))
        else:
            self.counts_label.setPixmap(pixmap)
        self._refresh_agreement()
        self._refresh_calibration()

    def _refresh_calibration(self) -> None:
        matcher = self.matcher_combo.currentText()
        self.reliability_label.clear()
        if not matcher:
            self.calibration_text.setText(tr(
                "No placement verdicts yet: judge placements in the Match view (Right place / Wrong place)."))
            return
        state = calibration.calibration_state(self.store, matcher)
        lines = [tr("{n} placement verdicts ({k} right place).").format(n=state.verdicts, k=state.correct)]
        if state.shortfall:
            lines.append(state.shortfall + ".")
        latest = state.latest
        if latest is not None:
            lines.append(tr("Refit version {v} on {n} verdicts: ECE {b:.3f} -> {a:.3f} (out of fold); {use}.").format(
                v=latest["version"], n=latest["verdicts"], b=latest["ece_before"] or 0.0,
                a=latest["ece_after"] or 0.0, use=tr("in use") if latest["accepted"] else tr("not used")))
        else:
            lines.append(tr("Not refitted yet: the shipped confidence is in use."))
        self.calibration_text.setText("\n".join(lines))
        refit = (latest or {}).get("reliability", {}).get("after") if latest else None
        pixmap = _pixmap(render_reliability_png(state.in_use, refit))
        if pixmap is not None:
            self.reliability_label.setPixmap(pixmap)

    def _refresh_agreement(self) -> None:
        a, b = self.analyst_a.currentText(), self.analyst_b.currentText()
        self.conflicts.setRowCount(0)
        if not a or not b or a == b:
            self.kappa_label.setText(tr("Agreement needs verdicts from two analysts."))
            return
        result = agreement_mod.agreement(self.store, a, b)
        if result.kappa is None:
            text = tr("{n} photos judged by both; kappa undefined: {reason}").format(
                n=result.n_items, reason=result.reason)
        else:
            text = tr("{n} photos judged by both · agreement {o:.0%} · Cohen's kappa {k:.2f} · {c} conflicts").format(
                n=result.n_items, o=result.observed, k=result.kappa, c=len(result.conflicts))
        self.kappa_label.setText(text)
        self.conflicts.setRowCount(len(result.conflicts))
        for i, c in enumerate(result.conflicts):
            cells = [str(c.post_fid), str(c.media_fid or ""), c.verdict_a, c.verdict_b]
            for j, value in enumerate(cells):
                self.conflicts.setItem(i, j, QTableWidgetItem(value))

    def _conflict_clicked(self, row: int, _column: int) -> None:
        post = self.conflicts.item(row, 0)
        media = self.conflicts.item(row, 1)
        if post is not None:
            self.show_item.emit(int(post.text()), int(media.text()) if media and media.text() else 0)
