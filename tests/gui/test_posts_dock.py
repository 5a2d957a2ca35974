"""The "MIST Posts" dock: inputs, options, the task run and the report the analyst reads."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProject

DATA = Path(__file__).resolve().parents[1] / "data" / "posts"


def _sync(task) -> None:
    """Runs a task on the spot, as the task manager would, minus the thread."""
    ok = task.run()
    task.finished(ok)


def test_dock_imports_reports_and_adds_the_layer(tmp_path, monkeypatch):
    from mist_qgis import settings
    from mist_qgis.gui.posts_dock import PostsDock

    monkeypatch.setattr(settings, "set_value", lambda key, value: None)  # keep the test profile clean
    project = QgsProject()
    dock = PostsDock(_sync, project=project)
    dock.add_paths([str(DATA / "twitter_v1.jsonl"), str(DATA / "photos"), str(DATA / "binary.jsonl")])
    dock.add_paths([str(DATA / "photos")])  # listed once
    assert dock.paths() == [str(DATA / "twitter_v1.jsonl"), str(DATA / "photos"), str(DATA / "binary.jsonl")]
    dock.store.setText(str(tmp_path / "dock.gpkg"))
    dock.keep_authors.setChecked(False)
    dock.run_import()
    report = dock.report.toPlainText()
    assert "records read" in report and "twitter_v1.jsonl: twitter_v1" in report and "photos: photos" in report
    assert "binary.jsonl" in report and "binary" in report
    assert "twitter_v1.jsonl:6 — malformed JSON" in report
    assert dock.run_button.isEnabled() and not dock.cancel_button.isEnabled() and dock.progress.value() == 100
    layers = list(project.mapLayers().values())
    assert len(layers) == 1 and layers[0].featureCount() == 8 + 3  # the Latin-1 line imports with a note


def test_dock_says_what_is_missing_before_running(tmp_path):
    from mist_qgis.gui.posts_dock import PostsDock

    started = []
    dock = PostsDock(started.append, project=QgsProject())
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
    options = dock.options()
    assert options.format == "csv" and options.mapping == {"author": "Reporter"}


def test_cancel_reaches_the_running_task(tmp_path):
    from mist_qgis.gui.posts_dock import PostsDock

    held = []
    dock = PostsDock(held.append, project=QgsProject())
    dock.add_paths([str(DATA / "features.geojson")])
    dock.store.setText(str(tmp_path / "c.gpkg"))
    dock.run_import()
    task = held[0]
    assert not dock.run_button.isEnabled() and dock.cancel_button.isEnabled()
    dock.cancel_button.click()
    assert task.isCanceled()
    _sync(task)
    assert task.summary.status == "cancelled" and "cancelled" in dock.report.toPlainText()
    assert dock.run_button.isEnabled()


def test_formats_are_offered_by_what_they_are_and_keep_the_cli_names():
    """The dock shows each format by what it is, ending with the name the CLI and Processing take
    (Processing's enum is those names, in the same order); the chosen format reaches the import."""
    from qgis.core import QgsApplication

    from mist_qgis.core.posts.detect import FORMAT_CHOICES
    from mist_qgis.gui.posts_dock import PostsDock

    dock = PostsDock(lambda task: None, project=QgsProject())
    labels = [dock.format.itemText(i) for i in range(dock.format.count())]
    assert [dock.format.itemData(i) for i in range(dock.format.count())] == list(FORMAT_CHOICES)
    assert labels[0] == "Detect from the content (auto)"
    assert labels[FORMAT_CHOICES.index("photos")] == "Folder of geotagged photos (photos)"
    assert all(label.endswith(f"({name})") for label, name in zip(labels, FORMAT_CHOICES, strict=True))
    algorithm = QgsApplication.processingRegistry().algorithmById("mist:importposts")
    assert algorithm.parameterDefinition("FORMAT").options() == list(FORMAT_CHOICES)


def test_projected_coordinates_and_local_times_from_the_dock(tmp_path):
    """A UTM table imports at the right place once its CRS is chosen; a bad zone is one message."""
    import sqlite3

    from qgis.core import QgsCoordinateReferenceSystem

    from mist_qgis.gui.posts_dock import PostsDock

    started = []
    dock = PostsDock(started.append, project=QgsProject())
    dock.add_paths([str(DATA / "projected_utm50n.csv")])
    dock.store.setText(str(tmp_path / "utm.gpkg"))
    assert dock.options().crs is None and dock.options().naive_tz is None  # WGS 84 and UTC unless chosen
    dock.naive_tz.setText("Asia/Shangha")
    dock.run_import()
    assert started == [] and "unknown time zone 'Asia/Shangha'" in dock.report.toPlainText()
    dock.naive_tz.setText("Asia/Shanghai")
    dock.crs.setCrs(QgsCoordinateReferenceSystem("EPSG:32650"))
    assert dock.options().crs == "EPSG:32650"
    dock.start_task = _sync
    dock.run_import()
    report = dock.report.toPlainText()
    assert "2 imported" in report and "read as Asia/Shanghai" in report
    rows = sqlite3.connect(tmp_path / "utm.gpkg").execute(
        "SELECT post_id, timestamp FROM posts ORDER BY post_id").fetchall()
    assert rows[0][0] == "wh1" and rows[0][1].startswith("2020-07-06T00:15:00")
