"""The "Match" pane of the verify dock: the query photo beside the reference that geolocated it,
inlier lines green, other matches red.

Drawing re-runs the matcher (seconds with LightGlue), so it happens in a one-thread pool; the
pane shows a placeholder meanwhile and drops any result for a post the analyst has already left.
The PNG lands in the media cache (`core.geoloc.match_view.cache_file`), so a second look, or a
look after the analyst came back, is a plain file read.
"""

from __future__ import annotations

from pathlib import Path

from qgis.PyQt.QtCore import QObject, QRunnable, Qt, QThreadPool, pyqtSignal
from qgis.PyQt.QtGui import QPixmap
from qgis.PyQt.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..core.geoloc.match_view import (
    MATCHER_UNAVAILABLE,
    QUERY_MISSING,
    QUERY_UNUSABLE,
    REFERENCE_MISSING,
    REFERENCE_UNUSABLE,
    MatcherPool,
    MatchSource,
    MatchView,
    MatchViewError,
    cache_file,
    cached_view,
    render_match_view,
)
from ..i18n import QT_TR_NOOP, tr
from .photo_view import PhotoView

FAILURE_TITLES = {
    QUERY_MISSING: QT_TR_NOOP("The photo that located this post is missing"),
    QUERY_UNUSABLE: QT_TR_NOOP("The photo that located this post cannot be matched"),
    REFERENCE_MISSING: QT_TR_NOOP("The reference image is missing"),
    REFERENCE_UNUSABLE: QT_TR_NOOP("The reference image cannot be matched"),
    MATCHER_UNAVAILABLE: QT_TR_NOOP("No matcher can run here"),
}


class _Signals(QObject):
    done = pyqtSignal(str, object, str, str)  # png path, MatchView or None, failure kind, detail


class _RenderJob(QRunnable):
    def __init__(self, source: MatchSource, media_dir: Path, pool: MatcherPool, signals: _Signals) -> None:
        super().__init__()
        self.source, self.media_dir, self.pool, self.signals = source, media_dir, pool, signals
        self.png = str(cache_file(media_dir, source))
        self.setAutoDelete(False)  # the pane keeps it until done, so tryTake stays safe

    def run(self) -> None:
        try:
            view = render_match_view(self.source, self.media_dir, self.pool)
        except MatchViewError as exc:
            self.signals.done.emit(self.png, None, exc.kind, exc.detail)
        except Exception as exc:  # noqa: BLE001 - a matcher bug must reach the analyst as a reason, not kill the thread
            self.signals.done.emit(self.png, None, "", f"{type(exc).__name__}: {exc}")
        else:
            self.signals.done.emit(self.png, view, "", "")


class MatchPane(QWidget):
    """A zoomable view of the match PNG with a caption; `show_source` is the one entry point."""

    rendered = pyqtSignal(str)  # png path of a view now on screen (tests, benchmark)
    placement_judged = pyqtSignal(str)  # "correct" or "wrong": the analyst's verdict on the placement

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.view = PhotoView()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        judge = QHBoxLayout()
        self.right_button = QPushButton(tr("Right place"))
        self.right_button.setToolTip(tr("The reference shows where this photo was taken: the placement is right. "
                                        "These verdicts refit the geolocation confidence."))
        self.wrong_button = QPushButton(tr("Wrong place"))
        self.wrong_button.setToolTip(tr("The reference shows another place: the placement is wrong. "
                                        "These verdicts refit the geolocation confidence."))
        self.right_button.clicked.connect(lambda: self.placement_judged.emit("correct"))
        self.wrong_button.clicked.connect(lambda: self.placement_judged.emit("wrong"))
        self.placement_label = QLabel()
        judge.addWidget(self.right_button)
        judge.addWidget(self.wrong_button)
        judge.addWidget(self.placement_label, 1)
        layout.addLayout(judge)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._matchers = MatcherPool()
        self._signals = _Signals(self)
        self._signals.done.connect(self._done)
        self._jobs: dict[str, _RenderJob] = {}  # PNG -> job queued or being drawn
        self.wanted: str = ""  # the PNG the pane should show now ('' = none)
        self.failure = ""  # the reason shown when the view could not be drawn
        self._heading = ""  # caption line about the post shown

    def set_placement_verdict(self, verdict: str | None) -> None:
        """Show the current verdict on the placement (None: not judged yet)."""
        text = {"correct": tr("Placement judged right"), "wrong": tr("Placement judged wrong")}.get(
            verdict or "", tr("Placement not judged yet"))
        self.placement_label.setText(text)

    def clear(self, title: str = "", reason: str = "") -> None:
        self.wanted = ""
        self.failure = ""
        self._heading = ""
        self.caption.clear()
        self.view.show_placeholder(title, reason)

    def show_source(self, source: MatchSource, media_dir: Path) -> None:
        """Show the cached view at once, else draw it in the background."""
        png = str(cache_file(media_dir, source))
        if png == self.wanted and (self.view.has_photo() or png in self._jobs or self.failure):
            return  # already on screen, on its way, or failed (coming back to the post retries)
        self.wanted = png
        self.failure = ""
        self._heading = self._source_caption(source)
        cached = cached_view(media_dir, source)
        if cached is not None and self._show(cached):
            return
        self.caption.setText(self._heading)
        self.view.show_placeholder(tr("Drawing the match…"), tr(
            "Matching photo {media} with reference {ref} ({matcher}). This can take a few seconds; you can "
            "keep verifying.").format(media=source.media_fid, ref=source.ref_uid, matcher=source.matcher), png)
        if png in self._jobs:
            return
        for other, job in list(self._jobs.items()):  # drop queued views of posts the analyst has left
            if self._pool.tryTake(job):
                del self._jobs[other]
        job = _RenderJob(source, Path(media_dir), self._matchers, self._signals)
        self._jobs[png] = job
        self._pool.start(job)

    def _done(self, png: str, view: object, kind: str, detail: str) -> None:
        self._jobs.pop(png, None)
        if png != self.wanted:
            return  # the analyst moved on; the PNG stays cached for later
        if isinstance(view, MatchView):
            if self._show(view):
                return
            kind, detail = "", tr("The PNG was written but cannot be read: {path}").format(path=png)
        title = tr(FAILURE_TITLES[kind]) if kind in FAILURE_TITLES else tr("The match view could not be drawn")
        self.failure = f"{title}: {detail}"
        self.view.show_placeholder(title, detail, png)

    def _show(self, view: MatchView) -> bool:
        pixmap = QPixmap(str(view.path))
        if pixmap.isNull():
            return False
        self.view.show_pixmap(pixmap, str(view.path))
        self.caption.setText(f"{self._heading}\n{self._view_caption(view)}".strip())
        self.rendered.emit(str(view.path))
        return True

    def _source_caption(self, source: MatchSource) -> str:
        text = tr("Post {post}: photo {media} ↔ reference {ref}, geolocated with {matcher}").format(
            post=source.post_fid, media=source.media_fid, ref=source.ref_uid, matcher=source.matcher)
        if source.confidence is not None:
            text += tr(", confidence {c:.2f}").format(c=source.confidence)
        return text

    def _view_caption(self, view: MatchView) -> str:
        if view.fell_back:
            text = tr("Drawn with {used}: the geolocation's matcher {requested} cannot be created here ({why})."
                      ).format(used=view.matcher, requested=view.requested, why=view.fallback_reason)
        else:
            text = tr("Drawn with {used}, the matcher of the geolocation.").format(used=view.matcher)
        if view.matches is not None and view.inliers is not None:
            text += " " + tr("{n} matches, {k} inliers (green); other matches red.").format(
                n=view.matches, k=view.inliers)
        return text

    def busy(self) -> bool:
        return bool(self._jobs)

    def shutdown(self) -> None:
        self._pool.clear()
        self._pool.waitForDone(10000)
        self._jobs.clear()
