"""The "MIST Posts" dock: pick post collections (files or a photo folder), the format (auto by
default), an optional column mapping, the CRS of projected x/y columns, the time zone of times
without one, the store (a GeoPackage, or a team store on PostgreSQL: a connection saved in QGIS or
typed, never with a password in it) and whether to keep author names; run the import (the `mist:importposts`
algorithm on QGIS's Processing task runner: the task manager's progress bar and cancel) and read
its report (totals, per-file formats, skipped records with file, line and reason). The styled
posts layer is added (from the `postgres` provider on a team store), or refreshed if the project
has it, and the store becomes the project's when the run ends.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

from qgis.core import QgsCoordinateReferenceSystem
from qgis.gui import QgsDockWidget, QgsProjectionSelectionWidget
from qgis.PyQt.QtCore import Qt, pyqtSlot
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .. import settings
from ..core.stage import Status
from ..i18n import tr
from ..pg_connections import is_team_target
from ..post_formats import format_choices
from .active_store import NOTIFIER, active_store, set_active_store
from .dock_layout import scrolled
from .store_choice import StoreMenu, store_problem

FILE_FILTER = "Post collections (*.json *.jsonl *.ndjson *.geojson *.geojsonl *.geojsons *.csv *.tsv *.txt *.xlsx);;" \
              "All files (*)"


class PostsDock(QgsDockWidget):
    """Import posts into a store with `mist:importposts`. `start_task` hands a task to QGIS's task
    manager and keeps a reference until it ends (the plugin's `start_task`)."""

    def __init__(self, start_task: Callable, parent=None, project=None) -> None:
        super().__init__(tr("MIST Posts"), parent)
        self.setObjectName("MistPostsDock")
        self.start_task = start_task
        self.project = project
        self.import_run = None  # the AlgorithmTask of the import in progress
        self.summary = None  # the last import's ImportSummary
        body = QWidget(self)
        layout = QVBoxLayout(body)

        self.inputs = QListWidget(body)
        self.inputs.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.inputs.setToolTip(tr("Post collection files and photo folders to import"))
        layout.addWidget(self.inputs)
        row = QHBoxLayout()
        self.add_files_button = QPushButton(tr("Add files…"), body)
        self.add_folder_button = QPushButton(tr("Add photo folder…"), body)
        self.remove_button = QPushButton(tr("Remove"), body)
        for button in (self.add_files_button, self.add_folder_button, self.remove_button):
            row.addWidget(button)
        layout.addLayout(row)

        form = QFormLayout()
        self.format = QComboBox(body)
        for name, label in format_choices():
            self.format.addItem(label, name)
        form.addRow(tr("Format"), self.format)
        self.mapping = QLineEdit(body)
        self.mapping.setPlaceholderText(tr("optional, e.g. lat=Y_WGS84; lon=X_WGS84; text=content"))
        form.addRow(tr("Column mapping"), self.mapping)
        self.crs = QgsProjectionSelectionWidget(body)
        self.crs.setOptionVisible(QgsProjectionSelectionWidget.CrsOption.CrsNotSet, True)
        self.crs.setNotSetText(tr("Longitude/latitude (WGS 84)"))
        self.crs.setCrs(QgsCoordinateReferenceSystem())
        self.crs.setToolTip(tr("The CRS of projected x/y columns (Web Mercator, a UTM zone, a national grid); "
                               "they are transformed to WGS 84"))
        form.addRow(tr("Coordinates CRS"), self.crs)
        self.naive_tz = QLineEdit(body)
        self.naive_tz.setPlaceholderText(tr("UTC (Weibo: China time); e.g. Asia/Shanghai"))
        self.naive_tz.setToolTip(tr("The time zone of times written without one"))
        zones = QCompleter(sorted(available_time_zones()), self.naive_tz)
        zones.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        zones.setFilterMode(Qt.MatchFlag.MatchContains)
        self.naive_tz.setCompleter(zones)
        form.addRow(tr("Local times are in"), self.naive_tz)
        store_row = QHBoxLayout()
        self.store = QLineEdit(active_store(project), body)
        NOTIFIER.changed.connect(self.store.setText)
        self.store.setPlaceholderText(tr("store.gpkg (created if missing) or a team store"))
        self.store_button = QPushButton("…", body)
        self.store_menu = StoreMenu(self.store_button, lambda: self.store.text().strip(), new_file=True)
        self.store_menu.chosen.connect(self.store.setText)
        self.store_menu.refused.connect(lambda text: self._show_report(error_html([text])))
        self.store_button.setMenu(self.store_menu)
        store_row.addWidget(self.store)
        store_row.addWidget(self.store_button)
        form.addRow(tr("Store"), store_row)
        media_row = QHBoxLayout()
        self.media_root = QLineEdit(body)
        self.media_root.setPlaceholderText(tr("optional: folder the export's photo paths are relative to"))
        self.media_button = QPushButton("…", body)
        media_row.addWidget(self.media_root)
        media_row.addWidget(self.media_button)
        form.addRow(tr("Media root"), media_row)
        self.keep_authors = QCheckBox(tr("Keep author names (otherwise pseudonymised)"), body)
        self.keep_authors.setChecked(bool(settings.value("keep_author_names")))
        form.addRow("", self.keep_authors)
        layout.addLayout(form)

        run_row = QHBoxLayout()
        self.run_button = QPushButton(tr("Import"), body)
        self.cancel_button = QPushButton(tr("Cancel"), body)
        self.cancel_button.setEnabled(False)
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        layout.addLayout(run_row)
        self.progress = QProgressBar(body)
        self.progress.setRange(0, 100)
        layout.addWidget(self.progress)
        self.report = QTextBrowser(body)
        self.report.setOpenLinks(False)
        layout.addWidget(self.report, 1)
        self.setWidget(scrolled(body))

        self.add_files_button.clicked.connect(self._pick_files)
        self.add_folder_button.clicked.connect(self._pick_folder)
        self.remove_button.clicked.connect(self._remove_selected)
        self.media_button.clicked.connect(self._pick_media_root)
        self.run_button.clicked.connect(self.run_import)
        self.cancel_button.clicked.connect(self.cancel_import)

    # -- inputs ----------------------------------------------------------------------------

    def add_paths(self, paths: list[str]) -> None:
        present = {self.inputs.item(i).text() for i in range(self.inputs.count())}
        for path in paths:
            if path and path not in present:
                self.inputs.addItem(path)
                present.add(path)

    def paths(self) -> list[str]:
        return [self.inputs.item(i).text() for i in range(self.inputs.count())]

    def _pick_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, tr("Post collections"), "", FILE_FILTER)
        self.add_paths(files)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Folder of geotagged photos"))
        self.add_paths([folder])

    def _remove_selected(self) -> None:
        for item in self.inputs.selectedItems():
            self.inputs.takeItem(self.inputs.row(item))

    def _pick_media_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Media root"))
        if folder:
            self.media_root.setText(folder)

    # -- running ---------------------------------------------------------------------------

    def options(self):
        """ImportOptions from the widgets; ValueError with a message for the user if invalid."""
        from ..core.posts.columns import parse_mapping_text
        from ..core.posts.importer import ImportOptions
        from ..processing_provider.import_algorithm import crs_text

        return ImportOptions(
            format=self.format.currentData(), media_root=self.media_root.text().strip() or None,
            keep_author_names=self.keep_authors.isChecked(), mapping=parse_mapping_text(self.mapping.text()),
            crs=crs_text(self.crs.crs()), naive_tz=self.naive_tz.text().strip() or None,
        )

    def parameters(self) -> dict:
        """The `mist:importposts` parameters the widgets say (files and photo folders alike)."""
        return {
            "INPUTS": self.paths(), "STORE": self.store.text().strip(), "FORMAT": self.format.currentData(),
            "MEDIA_ROOT": self.media_root.text().strip(), "KEEP_AUTHORS": self.keep_authors.isChecked(),
            "MAPPING": self.mapping.text(), "CRS": self.crs.crs(), "NAIVE_TZ": self.naive_tz.text().strip(),
        }

    def run_import(self) -> None:
        """Check the inputs here (the report says what is missing before anything runs), then
        run `mist:importposts` on QGIS's Processing task runner."""
        from .algorithm_task import AlgorithmTask

        paths = self.paths()
        store = self.store.text().strip()
        problems = []
        if not paths:
            problems.append(tr("Add at least one file or photo folder."))
        if not store:
            problems.append(tr("Choose a store (a .gpkg file, created if missing, or a team store)."))
        elif problem := store_problem(store):
            problems.append(problem)
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            problems.append(tr("Not found: {path}").format(path=missing[0]))
        try:
            self.options()
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            self._show_report(error_html(problems))
            return
        self.import_run = AlgorithmTask("mist:importposts", self.parameters(), self.project, on_executed=self._done)
        self.import_run.feedback.progressChanged.connect(self._progress)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self._show_report(tr("Importing…"))
        self.import_run.start(self.start_task)

    @pyqtSlot(float)
    def _progress(self, value: float) -> None:
        """The algorithm's progress (not the task's, which ends at 100 even when cancelled); a Qt
        slot, so progress reported on the task's thread reaches the bar on this one."""
        self.progress.setValue(int(value))

    def cancel_import(self) -> None:
        if self.import_run is not None and not self.import_run.finished:
            self.import_run.cancel()

    def _done(self, run) -> None:
        """On the main thread when the run ends: the report, the posts layer added or refreshed,
        the store made the project's. A cancelled run still returns its summary (what it kept)."""
        from ..core.posts.importer import ImportSummary
        from ..qgis_ops.layers import add_posts_layer

        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.import_run = None
        summary = None
        if run.results.get("SUMMARY"):
            summary = ImportSummary.from_dict(json.loads(run.results["SUMMARY"]))
        error = None if summary is not None else run.error
        self.summary = summary
        store = run.parameters["STORE"]
        if summary is not None and (summary.imported or summary.unlocated or summary.duplicates):
            try:
                add_posts_layer(store, self.project)
            except ValueError as exc:
                error = str(exc)
        if summary is None and run.cancelled:  # cancelled before it read anything: nothing failed
            self._show_report(f"<p>{html.escape(error or '')}</p>")
        else:
            self._show_report(report_html(summary, error))
        if summary is not None and error is None and (is_team_target(store) or Path(store).is_file()):
            set_active_store(store, self.project)
        if summary is not None and summary.status == Status.DONE:
            self.progress.setValue(100)

    def _show_report(self, text: str) -> None:
        self.report.setHtml(text)

    def cleanup(self) -> None:
        """Cancel a running import (the plugin calls it on unload); what was read is kept."""
        self.cancel_import()


def available_time_zones() -> set[str]:
    """The time zone database's names (empty where Python has no database: typing still works)."""
    import zoneinfo

    try:
        return zoneinfo.available_timezones()
    except Exception:  # noqa: BLE001 (a missing database only loses the completion list)
        return set()


def error_html(problems: list[str]) -> str:
    """What keeps a run from starting, one line each, in red."""
    return "<p style='color:#a00'>" + "<br/>".join(html.escape(p) for p in problems) + "</p>"


def report_html(summary, error: str | None) -> str:
    """The import report: totals, per-file formats, files not imported, the first issues."""
    esc = html.escape
    if error:
        return f"<p style='color:#a00'><b>{esc(tr('Import failed'))}</b>: {esc(error)}</p>"
    if summary is None:
        return ""
    parts = [f"<p><b>{esc(summary.message)}</b></p>", "<table>"]
    for key in ("records_read", "imported", "unlocated", "duplicates", "skipped", "reposts"):
        parts.append(f"<tr><td>{esc(key.replace('_', ' '))}</td><td align='right'>{getattr(summary, key)}</td></tr>")
    parts.append("</table>")
    if summary.files:
        parts.append("<p>" + "<br/>".join(
            f"{esc(Path(f['path']).name)}: {esc(f['format'])}" for f in summary.files) + "</p>")
    if summary.files_skipped:
        parts.append("<p style='color:#a00'>" + "<br/>".join(
            f"{esc(Path(f['path']).name)}: {esc(f['reason'])}" for f in summary.files_skipped) + "</p>")
    if summary.issues:
        rows = "".join(
            f"<li>{esc(Path(i['source']).name)}:{i['line'] or '-'} — {esc(i['reason'])}</li>" for i in summary.issues)
        more = summary.skipped + summary.notes - len(summary.issues)
        parts.append(f"<ul>{rows}</ul>")
        if more > 0:
            parts.append(f"<p>{esc(tr('… and {n} more in the store’s issues table').format(n=more))}</p>")
    return "".join(parts)
