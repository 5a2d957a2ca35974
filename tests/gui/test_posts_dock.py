"""The "MIST Posts" dock driven as an analyst drives it: inputs, options, the `mist:importposts`
run on QGIS's Processing task runner and the real task manager, and the report the analyst reads."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from qgis.core import QgsApplication, QgsProcessingAlgRunnerTask, QgsProject

from tests.helpers.dialogs import answer_input_dialog

DATA = Path(__file__).resolve().parents[1] / "data" / "posts"


def _task_manager(started: list):
    """The plugin's `start_task`: the task goes to QGIS's task manager; the list keeps it."""
    def start(task) -> None:
        started.append(task)
        QgsApplication.taskManager().addTask(task)
    return start


def _wait(qtbot, dock, watch=None) -> None:
    """Until the import has ended; `watch()` runs at each poll."""
    def ended() -> bool:
        if watch is not None:
            watch()
        return dock.import_run is None
    qtbot.waitUntil(ended, timeout=120000)


class _ChildRecord:
    """The reader processes an import started: their command lines and the threads that started
    them, recorded when the import closes them."""

    def __init__(self, monkeypatch, reader_process) -> None:
        self.started: list[tuple[list[str], str]] = []
        started = self.started

        class RecordedReader(reader_process.ProcessReader):
            def __init__(self, *args, **kwargs) -> None:
                self.started_on = threading.current_thread().name
                super().__init__(*args, **kwargs)

            def close(self) -> None:
                super().close()
                started.append((list(self._proc.args), self.started_on))

        monkeypatch.setattr(reader_process, "ProcessReader", RecordedReader)


def _dock(qtbot, start_task, project):
    from mist_qgis.gui.posts_dock import PostsDock

    dock = PostsDock(start_task, project=project)
    qtbot.addWidget(dock)
    return dock


def test_dock_imports_reports_and_adds_the_layer_once(qtbot, store_path, store_backend, monkeypatch):
    """On a GeoPackage and on a team store typed as a connection: the posts land in the store,
    the layer comes from OGR or the `postgres` provider, and the store becomes the project's."""
    from mist_qgis import settings
    from mist_qgis.core.store import open_store
    from mist_qgis.gui.active_store import active_store
    from mist_qgis.pg_connections import store_target

    monkeypatch.setattr(settings, "set_value", lambda key, value: None)  # keep the test profile clean
    project = QgsProject()
    started: list = []
    dock = _dock(qtbot, _task_manager(started), project)
    dock.add_paths([str(DATA / "twitter_v1.jsonl"), str(DATA / "photos"), str(DATA / "binary.jsonl")])
    dock.add_paths([str(DATA / "photos")])  # listed once
    assert dock.paths() == [str(DATA / "twitter_v1.jsonl"), str(DATA / "photos"), str(DATA / "binary.jsonl")]
    store = str(store_path)
    if store_backend == "postgis":
        answer_input_dialog(store)
        dock.store_menu.choose_connection()  # the menu's "Team store by connection…"
        assert dock.store.text() == store
    else:
        dock.store.setText(store)
    dock.keep_authors.setChecked(False)
    dock.run_import()
    assert not dock.run_button.isEnabled() and dock.cancel_button.isEnabled()
    _wait(qtbot, dock)
    assert len(started) == 1 and isinstance(started[0], QgsProcessingAlgRunnerTask)
    report = dock.report.toPlainText()
    assert "records read" in report and "twitter_v1.jsonl: twitter_v1" in report and "photos: photos" in report
    assert "binary.jsonl" in report and "binary" in report
    assert "twitter_v1.jsonl:6 — malformed JSON" in report
    assert dock.run_button.isEnabled() and not dock.cancel_button.isEnabled() and dock.progress.value() == 100
    layers = list(project.mapLayers().values())
    assert len(layers) == 1 and layers[0].featureCount() == 8 + 3  # the Latin-1 line imports with a note
    assert layers[0].providerType() == ("postgres" if store_backend == "postgis" else "ogr")
    assert layers[0].renderer().type() == "RuleRenderer" and layers[0].temporalProperties().isActive()
    assert active_store(project) == store_target(store)
    with open_store(store, create=False, read_only=True) as opened:
        assert opened.count("runs", "kind = 'import' AND status = 'done'") == 1
        assert opened.count("posts") == 8 + 3

    dock.inputs.clear()
    dock.add_paths([str(DATA / "twitter_v2_stream.jsonl")])
    dock.run_import()
    _wait(qtbot, dock)
    assert list(project.mapLayers().values()) == layers  # the same layer, refreshed, not a second one
    assert layers[0].featureCount() == 8 + 3 + 3 and "twitter_v2_stream.jsonl" in dock.report.toPlainText()


def test_store_menu_offers_qgis_connections_and_refuses_a_password(qtbot, pg_cluster, pg_store_url, monkeypatch):
    """The Posts dock's store menu is the Verify dock's: QGIS's saved PostgreSQL connections as
    `qgis:NAME`, a typed connection; one with a password is refused before anything runs and
    never reaches the project."""
    from qgis.core import QgsSettings

    from mist_qgis import settings
    from mist_qgis.gui.active_store import active_store
    from tests.helpers.pgcluster import PORT

    monkeypatch.setattr(settings, "set_value", lambda key, value: None)
    qgis_settings = QgsSettings()
    for key, value in {"host": str(pg_cluster.socket_dir), "port": str(PORT), "database": "mist"}.items():
        qgis_settings.setValue(f"PostgreSQL/connections/posts-dock-team/{key}", value)
    project = QgsProject()
    started: list = []
    dock = _dock(qtbot, started.append, project)
    try:
        dock.store_menu.fill()
        labels = [a.text() for a in dock.store_menu.actions()]
        assert labels[0] == "GeoPackage file…" and labels[-1] == "Team store by connection…"
        next(a for a in dock.store_menu.actions() if a.text() == "posts-dock-team").trigger()
        assert dock.store.text() == "qgis:posts-dock-team"

        secret = pg_store_url.replace("postgres@", "postgres:s3cret@")
        assert "s3cret" in secret
        answer_input_dialog(secret)
        dock.store_menu.choose_connection()
        assert dock.store.text() == "qgis:posts-dock-team" and "password" in dock.report.toPlainText()
        answer_input_dialog("not a connection")
        dock.store_menu.choose_connection()
        assert "Not a team store" in dock.report.toPlainText()

        dock.add_paths([str(DATA / "twitter_v1.jsonl")])
        dock.store.setText(secret)  # typed straight into the field
        dock.run_import()
        assert started == [] and "password" in dock.report.toPlainText()
        assert "s3cret" not in active_store(project)
    finally:
        qgis_settings.remove("PostgreSQL/connections/posts-dock-team")


def test_dock_says_what_is_missing_before_running(qtbot, tmp_path):
    started: list = []
    dock = _dock(qtbot, started.append, QgsProject())
    dock.store.setText("")
    dock.run_import()
    assert started == [] and "Add at least one file" in dock.report.toPlainText()
    assert "Choose a store" in dock.report.toPlainText()
    dock.add_paths([str(DATA / "generic.csv")])
    dock.store.setText(str(tmp_path / "x.gpkg"))
    dock.mapping.setText("lat=Latitude; colour=Message")
    dock.run_import()
    assert started == [] and "unknown field 'colour'" in dock.report.toPlainText()
    dock.mapping.setText("author=Reporter")
    dock.format.setCurrentIndex(dock.format.findData("csv"))
    assert dock.parameters()["FORMAT"] == "csv" and dock.parameters()["MAPPING"] == "author=Reporter"
    options = dock.options()
    assert options.format == "csv" and options.mapping == {"author": "Reporter"}


def test_a_refused_collection_is_reported_in_the_algorithms_words(qtbot, tmp_path):
    project = QgsProject()
    dock = _dock(qtbot, _task_manager([]), project)
    dock.add_paths([str(DATA / "not_posts.csv")])
    dock.store.setText(str(tmp_path / "f.gpkg"))
    dock.run_import()
    _wait(qtbot, dock)
    report = dock.report.toPlainText()
    assert report.startswith("Import failed") and "no location, text or photo" in report
    assert "Traceback" not in report and not project.mapLayers()
    assert dock.run_button.isEnabled() and not dock.cancel_button.isEnabled()


def test_cancel_button_reaches_the_import(qtbot, tmp_path):
    from mist_qgis.core.store import open_store

    held: list = []
    dock = _dock(qtbot, held.append, QgsProject())
    dock.add_paths([str(DATA / "features.geojson")])
    store = tmp_path / "c.gpkg"
    dock.store.setText(str(store))
    dock.run_import()
    assert not dock.run_button.isEnabled() and dock.cancel_button.isEnabled()
    dock.cancel_button.click()
    assert held[0].isCanceled() or dock.import_run.feedback.isCanceled()
    QgsApplication.taskManager().addTask(held[0])  # the task manager runs it now, cancelled
    _wait(qtbot, dock)
    assert dock.summary.status == "cancelled" and "cancelled (import again to complete)" in dock.report.toPlainText()
    assert "failed" not in dock.report.toPlainText().lower()
    assert dock.run_button.isEnabled() and not dock.cancel_button.isEnabled()
    with open_store(store, create=False, read_only=True) as opened:
        assert opened.count("runs", "kind = 'import' AND status = 'cancelled'") == 1


def test_large_import_reads_in_a_second_process_from_the_task_thread(qtbot, tmp_path, monkeypatch, caplog):
    """The reader process starts from a task manager thread, progress reaches the bar, and the
    layer arrives with every post; cancelling mid-way keeps the counts exact."""
    from mist_qgis.core.posts import reader_process
    from mist_qgis.core.store import open_store
    from tests.unit.test_posts_import import write_tweets

    monkeypatch.setattr(reader_process, "PARALLEL_MIN_BYTES", 1)  # any input is "large"
    caplog.set_level(logging.INFO, logger=reader_process.__name__)
    children = _ChildRecord(monkeypatch, reader_process)
    path = write_tweets(tmp_path / "many.jsonl", 6000)
    project = QgsProject()
    dock = _dock(qtbot, _task_manager([]), project)
    bar: list[int] = []
    dock.progress.valueChanged.connect(bar.append)
    dock.add_paths([str(path)])
    dock.store.setText(str(tmp_path / "p.gpkg"))
    dock.run_import()
    _wait(qtbot, dock)
    assert len(children.started) == 1, children.started
    command, thread = children.started[0]
    assert command[1:] == ["-m", "mist_qgis.core.posts.reader_process"]
    assert thread != threading.main_thread().name
    assert not [r for r in caplog.records if "reading in this process" in r.getMessage()]
    assert 0 < min(v for v in bar if v) < 100 and dock.progress.value() == 100
    layer = next(iter(project.mapLayers().values()))
    assert layer.featureCount() == 6000
    assert len(list(layer.getFeatures(layer.extent()))) == 4000  # the located ones, through the packed R-tree
    assert "imported" in dock.report.toPlainText() and "4000" in dock.report.toPlainText()

    larger = write_tweets(tmp_path / "larger.jsonl", 15000)  # three batches of at most 5000
    dock.inputs.clear()
    dock.add_paths([str(larger)])
    store = tmp_path / "c.gpkg"
    dock.store.setText(str(store))
    dock.run_import()
    # the first progress report, on the task's thread, presses Cancel
    dock.import_run.feedback.progressChanged.connect(lambda value: dock.cancel_import() if value > 0 else None)
    _wait(qtbot, dock)
    s = dock.summary
    assert s.status == "cancelled" and 0 < s.records_read < 15000
    assert s.imported + s.duplicates + s.unlocated + s.skipped == s.records_read
    assert "cancelled" in dock.report.toPlainText().lower()
    with open_store(store, create=False, read_only=True) as opened:
        assert opened.count("posts") == s.imported + s.unlocated


def test_formats_are_offered_by_what_they_are_and_keep_the_cli_names(qtbot):
    """The dock shows each format by what it is, ending with the name the CLI and Processing take
    (Processing's enum is those names, in the same order); the chosen format reaches the import."""
    from mist_qgis.core.posts.detect import FORMAT_CHOICES

    dock = _dock(qtbot, lambda task: None, QgsProject())
    labels = [dock.format.itemText(i) for i in range(dock.format.count())]
    assert [dock.format.itemData(i) for i in range(dock.format.count())] == list(FORMAT_CHOICES)
    assert labels[0] == "Detect from the content (auto)"
    assert labels[FORMAT_CHOICES.index("photos")] == "Folder of geotagged photos (photos)"
    assert all(label.endswith(f"({name})") for label, name in zip(labels, FORMAT_CHOICES, strict=True))
    algorithm = QgsApplication.processingRegistry().algorithmById("mist:importposts")
    assert algorithm.parameterDefinition("FORMAT").options() == list(FORMAT_CHOICES)


def test_projected_coordinates_and_local_times_from_the_dock(qtbot, tmp_path):
    """A UTM table imports at the right place once its CRS is chosen; a bad zone is one message."""
    import sqlite3

    from qgis.core import QgsCoordinateReferenceSystem


    started = []
    dock = _dock(qtbot, _task_manager(started), QgsProject())
    dock.add_paths([str(DATA / "projected_utm50n.csv")])
    dock.store.setText(str(tmp_path / "utm.gpkg"))
    assert dock.options().crs is None and dock.options().naive_tz is None  # WGS 84 and UTC unless chosen
    dock.naive_tz.setText("Asia/Shangha")
    dock.run_import()
    assert started == [] and "unknown time zone 'Asia/Shangha'" in dock.report.toPlainText()
    dock.naive_tz.setText("Asia/Shanghai")
    dock.crs.setCrs(QgsCoordinateReferenceSystem("EPSG:32650"))
    assert dock.options().crs == "EPSG:32650"
    dock.run_import()
    _wait(qtbot, dock)
    report = dock.report.toPlainText()
    assert "2 imported" in report and "read as Asia/Shanghai" in report
    rows = sqlite3.connect(tmp_path / "utm.gpkg").execute(
        "SELECT post_id, timestamp FROM posts ORDER BY post_id").fetchall()
    assert rows[0][0] == "wh1" and rows[0][1].startswith("2020-07-06T00:15:00")
