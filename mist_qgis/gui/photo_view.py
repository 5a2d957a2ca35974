"""The large photo pane: fits the photo, zooms with the wheel (under the cursor) or +/-, pans by
dragging, and shows a clear placeholder with the reason when a photo cannot be shown."""

from __future__ import annotations

from qgis.PyQt.QtCore import QRectF, Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor, QFont, QPainter, QPixmap
from qgis.PyQt.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsTextItem, QGraphicsView

ZOOM_STEP = 1.25
MAX_ZOOM = 32.0


class PhotoView(QGraphicsView):
    """Shows one pixmap or one placeholder message."""

    painted = pyqtSignal()  # after each paint: lets the benchmark time "key -> photo on screen"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QColor(32, 32, 32))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._item: QGraphicsPixmapItem | None = None
        self._fit = True
        self.placeholder_text = ""
        self.identity = ""  # what is shown (media key), for tests and the benchmark

    # -- content ---------------------------------------------------------------------------

    def show_pixmap(self, pixmap: QPixmap, identity: str = "") -> None:
        scene = self.scene()
        scene.clear()
        self._item = scene.addPixmap(pixmap)
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        scene.setSceneRect(QRectF(pixmap.rect()))
        self.placeholder_text = ""
        self.identity = identity
        self.fit()

    def show_placeholder(self, title: str, reason: str = "", identity: str = "") -> None:
        scene = self.scene()
        scene.clear()
        self._item = None
        text = QGraphicsTextItem()
        text.setDefaultTextColor(QColor(230, 230, 230))
        font = QFont()
        font.setPointSize(12)
        text.setFont(font)
        text.setTextWidth(360)
        text.setPlainText(f"{title}\n\n{reason}".strip())
        scene.addItem(text)
        scene.setSceneRect(text.boundingRect().adjusted(-20, -20, 20, 20))
        self.placeholder_text = text.toPlainText()
        self.identity = identity
        self.resetTransform()
        self.centerOn(text)

    def has_photo(self) -> bool:
        return self._item is not None

    def bound(self):
        """The size photos are decoded at: the viewport in device pixels, in 256 px steps so a
        small resize does not invalidate every cached pixmap."""
        from qgis.PyQt.QtCore import QSize

        ratio = self.devicePixelRatioF()
        w = max(256, int(self.viewport().width() * ratio))
        h = max(256, int(self.viewport().height() * ratio))
        step = 256
        return QSize(-(-w // step) * step, -(-h // step) * step)

    # -- zoom and pan ----------------------------------------------------------------------

    def fit(self) -> None:
        self._fit = True
        if self._item is not None:
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def zoom(self, factor: float) -> None:
        if self._item is None:
            return
        current = self.transform().m11()
        factor = max(min(factor, MAX_ZOOM / current), 0.05 / current)
        self._fit = False
        self.scale(factor, factor)

    def wheelEvent(self, event) -> None:  # noqa: N802
        if self._item is None:
            return
        self.zoom(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self.fit()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(ZOOM_STEP)
        elif key == Qt.Key.Key_Minus:
            self.zoom(1 / ZOOM_STEP)
        elif key == Qt.Key.Key_0:
            self.fit()
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        self.painted.emit()
