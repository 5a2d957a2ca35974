"""Verdicts and post categories from the Verify dock: written to the store, undone from the store,
and the map told.

The controller owns the one undo history (photo verdicts and the categories analysts give posts,
with or without photos, in the order they were made), and undo goes one way: the dock asks the controller, the
controller takes the verdicts back out of the store (core restores the post's previous fields)
and says so with a signal; the dock and the layers follow the signal. The posts layer is never
put in edit mode: it re-reads the store and repaints after every verdict and every undo, so
QGIS never asks to save "MIST posts" and discarding nothing can lose a verdict.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from qgis.PyQt.QtCore import QObject, pyqtSignal

from ..core.store import Store, StoreError
from ..core.text.analyst import CategoryReceipt, set_post_categories, undo_post_categories
from ..core.text.categories import CategoryError
from ..core.verify.records import Verdict, VerdictConflict, VerdictError, VerdictReceipt
from ..core.verify.verdicts import undo_verdict, write_verdicts
from ..i18n import tr
from ..qgis_ops.layers import refresh_store_layers

MAX_UNDO = 1000


@dataclass
class VerdictBatch:
    """The verdicts of one key press or click (one or several selected photos)."""

    receipts: list[VerdictReceipt]

    @property
    def media_fids(self) -> list[int]:
        return [r.verdict.media_fid for r in self.receipts if r.verdict.media_fid is not None]


@dataclass
class CategoryBatch:
    """One change of a post's categories by an analyst (a key press or "Set categories")."""

    receipt: CategoryReceipt

    @property
    def post_fid(self) -> int:
        return self.receipt.post_fid


class VerdictController(QObject):
    """Writes and undoes verdict batches and category changes on one store; tells the world
    through signals."""

    written = pyqtSignal(object)   # VerdictBatch
    undone = pyqtSignal(object)    # VerdictBatch
    categories_written = pyqtSignal(object)  # CategoryBatch
    categories_undone = pyqtSignal(object)   # CategoryBatch
    failed = pyqtSignal(str)       # a message for the analyst
    conflicted = pyqtSignal(object, object)  # VerdictConflict, the verdicts not written
    history_changed = pyqtSignal()  # something became undoable, or nothing is any more

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store: Store | None = None
        self.store_target = ""  # how the project's layers name the store (a file or a team store)
        self.history: list[VerdictBatch | CategoryBatch] = []

    def set_store(self, store: Store | None, target: str = "") -> None:
        self.store = store
        self.store_target = target
        self.history.clear()
        self.history_changed.emit()

    def apply(self, verdicts: list[Verdict], seen: Mapping[tuple[int, int | None], int] | None = None,
              ) -> VerdictBatch | None:
        """Write verdicts in one transaction (all or none); None when nothing was written. With
        `seen` (what the analyst had in view), a colleague's verdict that landed since is not
        overwritten: `conflicted` fires and nothing is written."""
        if self.store is None or not verdicts:
            return None
        try:
            receipts = write_verdicts(self.store, verdicts, seen=seen)
        except VerdictConflict as exc:
            self.conflicted.emit(exc, verdicts)
            return None
        except VerdictError as exc:
            self.failed.emit(str(exc))
            return None
        except (StoreError, sqlite3.Error) as exc:
            self.failed.emit(tr("The verdict could not be saved: {error}").format(error=exc))
            return None
        return self._remember(VerdictBatch(receipts), self.written)

    def set_categories(self, post_fid: int, categories: list[str], analyst: str) -> CategoryBatch | None:
        """Save an analyst's categories for a post (undoable); None when nothing was written."""
        if self.store is None:
            return None
        try:
            receipt = set_post_categories(self.store, post_fid, categories, analyst)
        except CategoryError as exc:
            self.failed.emit(str(exc))
            return None
        except (StoreError, sqlite3.Error) as exc:
            self.failed.emit(tr("The categories could not be saved: {error}").format(error=exc))
            return None
        return self._remember(CategoryBatch(receipt), self.categories_written)

    def _remember(self, batch: VerdictBatch | CategoryBatch, signal) -> VerdictBatch | CategoryBatch:
        """Keep a written batch for undo, repaint the store's layers and say so."""
        self.history.append(batch)
        del self.history[:-MAX_UNDO]
        refresh_store_layers(self.store_target)
        signal.emit(batch)
        self.history_changed.emit()
        return batch

    def undo(self) -> VerdictBatch | CategoryBatch | None:
        """Take the latest batch back out of the store; None when there is nothing to undo."""
        if self.store is None or not self.history:
            return None
        batch = self.history.pop()
        self.history_changed.emit()
        categories = isinstance(batch, CategoryBatch)
        try:
            if categories:
                undo_post_categories(self.store, batch.receipt)
            else:
                for receipt in reversed(batch.receipts):
                    undo_verdict(self.store, receipt)
        except (VerdictError, StoreError, sqlite3.Error) as exc:
            self.failed.emit(tr("Cannot undo: {error}").format(error=exc))
        refresh_store_layers(self.store_target)
        (self.categories_undone if categories else self.undone).emit(batch)
        return batch
