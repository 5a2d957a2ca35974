"""Verdicts from the Verify dock: written to the store, undone from the store, and the map told.

The controller owns the undo history, and undo goes one way: the dock asks the controller, the
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


class VerdictController(QObject):
    """Writes and undoes verdict batches on one store; tells the world through signals."""

    written = pyqtSignal(object)   # VerdictBatch
    undone = pyqtSignal(object)    # VerdictBatch
    failed = pyqtSignal(str)       # a message for the analyst
    conflicted = pyqtSignal(object, object)  # VerdictConflict, the verdicts not written

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store: Store | None = None
        self.store_target = ""  # how the project's layers name the store (a file or a team store)
        self.history: list[VerdictBatch] = []

    def set_store(self, store: Store | None, target: str = "") -> None:
        self.store = store
        self.store_target = target
        self.history.clear()

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
        batch = VerdictBatch(receipts)
        self.history.append(batch)
        del self.history[:-MAX_UNDO]
        refresh_store_layers(self.store_target)
        self.written.emit(batch)
        return batch

    def undo(self) -> VerdictBatch | None:
        """Take the latest batch back out of the store; None when there is nothing to undo."""
        if self.store is None or not self.history:
            return None
        batch = self.history.pop()
        try:
            for receipt in reversed(batch.receipts):
                undo_verdict(self.store, receipt)
        except (VerdictError, StoreError, sqlite3.Error) as exc:
            self.failed.emit(tr("Cannot undo: {error}").format(error=exc))
        refresh_store_layers(self.store_target)
        self.undone.emit(batch)
        return batch
