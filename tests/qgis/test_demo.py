"""The demo cannot silently break: the committed sample, a reduced demo run (tiny backbone built
here, the SIFT matcher), the flood map PNG, and the Processing model in resources/.

The full demo (EfficientNet-Lite0, DISK + LightGlue from `make models`), with the build-time
packages unimportable, runs in the slow tests.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.modelkit import make_colour_model

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "sample"
MODEL_FILE = REPO / "resources" / "mist_demo.model3"
STAGES = ["store", "import", "fetch", "verdicts", "backbone", "head", "screen", "text", "references", "geolocate",
          "evaluate", "density", "inundation", "export", "map", "field"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the sample ----------------------------------------------------------------------------------


def test_sample_is_small_complete_and_matches_its_checksums():
    # *.aux.xml: statistics QGIS saves beside a raster it opened (not sample data)
    files = [p for p in SAMPLE.rglob("*") if p.is_file() and not p.name.endswith(".aux.xml")]
    assert sum(p.stat().st_size for p in files) < 3 * 1024 * 1024
    sums = dict(line.split("  ", 1)[::-1] for line in (SAMPLE / "SHA256SUMS").read_text().splitlines())
    listed = {rel for rel in sums}
    present = {p.relative_to(SAMPLE).as_posix() for p in files} - {"SHA256SUMS", "README.md"}
    assert listed == present
    assert all(_sha256(SAMPLE / rel) == digest for rel, digest in sums.items())
    sources = (SAMPLE / "SOURCES.md").read_text(encoding="utf-8")
    for photo in [*(SAMPLE / "media").glob("*.jpg"), *(SAMPLE / "references").glob("*.jpg")]:
        assert f"`{photo.parent.name}/{photo.name}`" in sources, f"{photo.name} has no source and licence"
    assert "written for the demo" in (SAMPLE / "README.md").read_text(encoding="utf-8")


def test_sample_text_files_are_what_the_script_writes(tmp_path):
    """The committed sample is the script's output (photos and the DEM depend on library versions;
    the posts, tables and roads must match byte for byte)."""
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_sample.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True, timeout=120)
    for name in ("posts.jsonl", "roads.geojson", "references.csv", "truth.csv", "truth.geojson", "verifications.csv"):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_sample_gives_every_stage_work():
    lines = (SAMPLE / "posts.jsonl").read_text(encoding="utf-8").splitlines()
    records, broken = [], 0
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            broken += 1
    assert broken == 1
    assert any(r.get("coordinates") and r["coordinates"]["coordinates"][1] > 90 for r in records)
    assert any("id_str" not in r for r in records)
    assert sum(1 for r in records if "retweeted_status" in r) == 1
    ids = [r.get("id_str") for r in records if r.get("id_str")]
    assert len(ids) - len(set(ids)) == 1  # one record harvested twice
    urls = [m["media_url_https"] for r in records for m in r.get("extended_entities", {}).get("media", [])]
    names = {u.rsplit("/", 1)[-1] for u in urls}
    on_disk = {p.name for p in (SAMPLE / "media").iterdir()}
    assert len(names - on_disk) == 1  # one photo the field team no longer has
    assert all(u.startswith("https://") for u in urls)
    with_gps = [r for r in records if r.get("coordinates")]
    place_only = [r for r in records if not r.get("coordinates") and r.get("place")]
    nothing = [r for r in records if not r.get("coordinates") and not r.get("place")]
    assert with_gps and place_only and nothing
    with open(SAMPLE / "truth.csv", encoding="utf-8") as fh:
        truth = {r["post_id"] for r in csv.DictReader(fh)}
    with open(SAMPLE / "verifications.csv", encoding="utf-8") as fh:
        verdicts = list(csv.DictReader(fh))
    assert truth and truth <= set(ids)
    assert {v["post_id"] for v in verdicts} <= set(ids)
    assert {v["verdict"] for v in verdicts} == {"flood", "not_flood"}
    assert sum(1 for v in verdicts if v["water_depth_m"]) >= 4


def test_sample_dem_is_a_projected_float_grid_with_nodata():
    from osgeo import gdal, osr

    ds = gdal.Open(str(SAMPLE / "dem.tif"))
    band = ds.GetRasterBand(1)
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    assert srs.GetAuthorityCode(None) == "32649"
    assert (ds.RasterXSize, ds.RasterYSize) == (240, 240) and ds.GetGeoTransform()[1] == 2.5
    assert band.DataType == gdal.GDT_Float32 and band.GetNoDataValue() == -9999.0
    z = band.ReadAsArray()
    valid = z[z != -9999.0]
    assert valid.min() < 97.0 < 99.0 < valid.max()  # a basin below the water level, ground above it


# -- the reduced demo ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reduced_demo(tmp_path_factory):
    """The whole demo with a tiny colour backbone and SIFT, in a temporary work folder."""
    from mist_qgis.demo.pipeline import Demo, DemoConfig
    from mist_qgis.demo.runner import StageRunner

    root = tmp_path_factory.mktemp("demo")
    backbone = make_colour_model(root / "colour.onnx")
    runner = StageRunner()
    config = DemoConfig(sample=SAMPLE, work=root / "work", backbone=str(backbone), matcher="sift", top_k=2,
                        map_dpi=90)
    ok = Demo(config, runner).run_all()
    return ok, runner, config


def test_reduced_demo_runs_every_stage(reduced_demo):
    ok, runner, _ = reduced_demo
    table = runner.table()
    assert ok, table
    assert [r.name for r in runner.reports] == STAGES
    assert all(r.status == "ok" for r in runner.reports)
    lines = table.splitlines()
    for stage in STAGES:
        assert any(line.startswith(stage + " ") for line in lines), stage
    assert lines[-1].startswith("total") and lines[-1].endswith("all stages ok")
    assert "colour@1, onnxruntime CPUExecutionProvider" in table
    assert "sift" in table


def test_reduced_demo_store_holds_what_each_stage_made(reduced_demo):
    from mist_qgis.core.store import open_store
    from mist_qgis.demo.pipeline import store_counts

    _, runner, config = reduced_demo
    by = {r.name: r for r in runner.reports}
    assert by["import"].counts == {"records_read": 31, "imported": 21, "unlocated": 6, "duplicates": 1,
                                   "skipped": 3, "reposts": 1}
    assert by["fetch"].counts["ok"] == 17 and by["fetch"].counts["left_pending"] == 1
    assert by["fetch"].counts["duplicates"] == 3
    assert by["verdicts"].counts == {"written": 11, "skipped": 0}
    assert by["geolocate"].counts["moved"] >= 2
    evaluate = by["evaluate"].counts
    assert evaluate["mean_after_m"] < evaluate["mean_before_m"]
    assert by["inundation"].counts["points_used"] == 5 and by["inundation"].counts["flooded_area_m2"] > 10_000
    counts = store_counts(config.store)
    assert counts["counts"]["posts"] == 27
    assert by["text"].counts == {"screened": 26, "text_only": 8, "with_photo": 18, "no_text": 1}
    assert counts["counts"]["unlocated_posts"] == 3  # no place name and no geotag: honestly left unplaced
    assert counts["geo_sources"]["image_match"] >= 2 and counts["geo_sources"]["gps"] >= 11
    assert counts["verified"] == {"flood": 6, "not_flood": 5}
    with open_store(config.store) as store:
        labels = {r[0] for r in store.query("SELECT DISTINCT cls_label FROM posts WHERE cls_label IS NOT NULL")}
        assert labels <= {"flood", "not_flood"} and labels
        issues = {r["stage"] for r in store.query("SELECT DISTINCT stage FROM issues")}
        text_only = {r[0]: (r[1], r[2]) for r in store.query(
            "SELECT substr(text, 1, 6), text_categories, text_category_source FROM posts WHERE media_url IS NULL")}
    assert "urgent_help" in text_only["救命！我们被"][0].split(",") and text_only["救命！我们被"][1] == "keyword rule"
    assert "misinformation" in text_only["That '"][0].split(",")
    assert text_only["🙏🙏🌊 ht"] == (None, "no text")
    assert {"import", "fetchmedia", "geocode_text"} <= issues
    assert (config.rasters / "density_all.tif").is_file()
    assert (config.rasters / "inundation_depth.tif").is_file() and (config.rasters / "inundation_extent.gpkg").is_file()
    assert config.verified_points.is_file()


def test_demo_map_shows_text_only_posts_by_category(reduced_demo):
    from qgis.core import QgsCoordinateReferenceSystem

    from mist_qgis.demo.flood_map import build_layers
    from mist_qgis.demo.pipeline import demo_map_inputs

    _, _, config = reduced_demo
    layers = build_layers(demo_map_inputs(config), QgsCoordinateReferenceSystem("EPSG:4326"))
    text_layer = next(layer for layer in layers.legend if layer.name() == "Text-only posts by category")
    cats = {f["post_id"]: f["text_categories"] for f in text_layer.getFeatures()}
    assert len(cats) >= 5 and all(cats.values())
    assert text_layer.renderer().type() == "categorizedSymbol" and text_layer.labelsEnabled()


def test_the_flood_stays_in_the_connected_valley(reduced_demo):
    """The basin behind the ridge is lower than the water but must stay dry."""
    import numpy as np
    from osgeo import gdal

    from mist_qgis.demo.pipeline import dry_low_ground

    _, _, config = reduced_demo
    ds = gdal.Open(str(config.rasters / "inundation_depth.tif"))
    depth = ds.GetRasterBand(1).ReadAsArray()
    wet_rows = np.nonzero((depth > 0).any(axis=1))[0]
    # Lotus Street runs along v = 250 m, i.e. rows 140 (north edge at 600 m, 2.5 m cells); the basin is at row 28.
    assert wet_rows.min() > 100 and wet_rows.max() < 180
    x, y, ground, level = dry_low_ground(SAMPLE / "dem.tif", config.rasters / "inundation_depth.tif")
    assert ground < level and ground < 97.0
    assert 743500 < x < 743650 and 3848720 < y < 3848840  # the basin at local (380, 530)


def test_reduced_demo_map_is_a_drawn_png(reduced_demo):
    from qgis.PyQt.QtGui import QImage

    from mist_qgis.demo.flood_map import distinct_colours

    _, runner, config = reduced_demo
    image = QImage(str(config.map_png))
    assert not image.isNull()
    report = next(r for r in runner.reports if r.name == "map")
    assert (image.width(), image.height()) == (report.counts["width"], report.counts["height"])
    assert image.width() > image.height() > 500  # A4 landscape
    assert distinct_colours(image) > 500
    # the water-depth ramp's darkest blue is drawn inside the map frame
    blues = sum(1 for y in range(0, image.height(), 3) for x in range(0, image.width() * 2 // 3, 3)
                if _is_deep_blue(image.pixel(x, y)))
    assert blues > 50


def test_reduced_demo_ends_with_a_field_package_qgis_opens(reduced_demo):
    import json

    from qgis.core import QgsProject

    _, runner, config = reduced_demo
    assert runner.reports[-1].name == "field"
    manifest = json.loads((config.field_package / "mist_field_manifest.json").read_text())
    project = QgsProject()
    assert project.read(str(config.field_package / "mist_field.qgz"))
    layers = list(project.mapLayers().values())
    assert manifest["points"] > 0 and len(layers) >= 5 and all(layer.isValid() for layer in layers)
    assert "flood_extent" in manifest["layers"] and "water_depth.tif" in manifest["files"]


def _is_deep_blue(argb: int) -> bool:
    r, g, b = (argb >> 16) & 255, (argb >> 8) & 255, argb & 255
    return b > 90 and b > r + 50 and b > g + 20


def test_the_demo_never_empties_a_folder_it_did_not_make(tmp_path):
    from mist_qgis.demo.pipeline import Demo, DemoConfig
    from mist_qgis.demo.runner import StageRunner

    keep = tmp_path / "precious.txt"
    keep.write_text("mine")
    runner = StageRunner()
    assert not Demo(DemoConfig(sample=SAMPLE, work=tmp_path), runner).run_all()
    assert runner.reports[0].status == "failed" and "not empty" in runner.reports[0].summary
    assert keep.read_text() == "mine"


def test_a_failing_stage_stops_the_demo_with_its_reason(tmp_path):
    from mist_qgis.demo.pipeline import Demo, DemoConfig
    from mist_qgis.demo.runner import StageRunner

    runner = StageRunner()
    ok = Demo(DemoConfig(sample=tmp_path / "no-sample", work=tmp_path / "work"), runner).run_all()
    assert not ok
    by = {r.name: r for r in runner.reports}
    assert by["store"].status == "ok" and by["import"].status == "failed"
    assert "FAILED" in by["import"].summary
    assert all(by[name].status == "not run" for name in STAGES[2:])
    assert runner.table().splitlines()[-1].endswith("FAILED")


# -- the Processing model ------------------------------------------------------------------------------


def _model():
    from qgis.core import QgsProcessingModelAlgorithm

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODEL_FILE))
    return model


def test_model_loads_and_every_step_is_a_registered_algorithm_with_known_parameters():
    from qgis.core import QgsApplication

    model = _model()
    ok, problems = model.validate()
    assert ok, problems
    registry = QgsApplication.processingRegistry()
    children = model.childAlgorithms()
    assert {c.algorithmId() for c in children.values()} == {
        "mist:importposts", "mist:fetchmedia", "mist:importverifications", "mist:classifymedia", "mist:trainhead",
        "mist:importreferences", "mist:geolocatephotos", "mist:postdensity", "mist:inundation", "mist:exportverified"}
    for child in children.values():
        algorithm = registry.algorithmById(child.algorithmId())
        assert algorithm is not None, child.algorithmId()
        known = {d.name() for d in algorithm.parameterDefinitions()}
        assert set(child.parameterSources()) <= known, (child.childId(), set(child.parameterSources()) - known)
    inputs = {d.name() for d in model.parameterDefinitions() if not d.isDestination()}
    assert {"store", "posts", "media", "verdicts", "references", "gazetteer", "dem", "backbone", "matcher"} <= inputs
    # the steps run in the demo's order
    assert model.dependsOnChildAlgorithms("export") >= {"importposts", "fetchmedia", "trainhead", "geolocate",
                                                        "inundation"}


def test_model_script_rebuilds_the_committed_model(tmp_path):
    """resources/mist_demo.model3 is what scripts/make_demo_model.py writes."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import make_demo_model
    finally:
        sys.path.remove(str(REPO / "scripts"))
    rebuilt = make_demo_model.build_model()
    committed = _model()
    assert sorted(rebuilt.childAlgorithms()) == sorted(committed.childAlgorithms())
    for child_id, child in rebuilt.childAlgorithms().items():
        other = committed.childAlgorithm(child_id)
        assert child.algorithmId() == other.algorithmId()
        assert sorted(child.parameterSources()) == sorted(other.parameterSources()), child_id


def test_model_script_writes_the_same_bytes_every_time(tmp_path):
    """Two runs of the script (two processes, so two hash seeds) write byte-identical files,
    with each element's attributes in name order; the committed model is in that order too."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import make_demo_model
    finally:
        sys.path.remove(str(REPO / "scripts"))
    outputs = []
    for n in (1, 2):
        out = tmp_path / f"run{n}.model3"
        done = subprocess.run([sys.executable, str(REPO / "scripts" / "make_demo_model.py"), "--out", str(out)],
                              capture_output=True, text=True, timeout=300, cwd=REPO)
        assert done.returncode == 0, done.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    text = outputs[0].decode("utf-8")
    assert '<Option name="active" type="bool" value="true"/>' in text
    committed = (REPO / "resources" / "mist_demo.model3").read_text(encoding="utf-8")
    assert make_demo_model.sorted_attributes(committed) == committed
    assert make_demo_model.sorted_attributes('<a z="1" b="&quot;x&gt;"/><c y="2" a="3">') == \
        '<a b="&quot;x&gt;" z="1"/><c a="3" y="2">'


@pytest.mark.slow
def test_model_runs_on_the_sample(tmp_path):
    import processing

    backbone = make_colour_model(tmp_path / "colour.onnx")
    dem = tmp_path / "dem.tif"
    shutil.copyfile(SAMPLE / "dem.tif", dem)
    outputs = {"density:Density rasters": str(tmp_path / "density"),
               "inundation:Inundation depth and extent": str(tmp_path / "inundation"),
               "export:Verified flood points": str(tmp_path / "verified.gpkg")}
    result = processing.run(_model(), {
        "store": str(tmp_path / "store.gpkg"), "posts": [str(SAMPLE / "posts.jsonl")], "media": str(SAMPLE / "media"),
        "verdicts": str(SAMPLE / "verifications.csv"), "backbone": str(backbone),
        "references": str(SAMPLE / "references.csv"), "gazetteer": str(SAMPLE / "roads.geojson"),
        "name_field": "name", "matcher": "sift", "min_confidence": 0.8, "dem": str(dem), "allow_no_skill": True,
        **outputs})
    children = result["CHILD_RESULTS"]
    assert children["importposts"]["IMPORTED"] == 21
    assert json.loads(children["geolocate"]["RESULT"])["moved"] >= 2
    assert children["inundation"]["FLOODED_AREA_M2"] > 10_000
    assert children["export"]["POINTS"] == 6
    assert (tmp_path / "inundation" / "inundation_depth.tif").is_file()


@pytest.mark.slow
def test_full_demo_with_the_real_models_and_no_build_tools(tmp_path):
    """`make demo` as a user without PyTorch has it: the real models from `make models`, and torch,
    torchvision, kornia, transformers and sentence-transformers unimportable in the demo process."""
    subprocess.run(["make", "-s", "models/build/efficientnet-lite0.onnx", "models/build/disk.onnx",
                    "models/build/lightglue-disk.onnx"], cwd=REPO, check=True, capture_output=True, timeout=900)
    out = subprocess.run([sys.executable, str(REPO / "tests" / "helpers" / "without_torch.py"),
                          str(REPO / "scripts" / "demo.py"), "--work", str(tmp_path / "demo"), "--quiet"],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all stages ok" in out.stdout and "disk-lightglue" in out.stdout and "onnxruntime" in out.stdout
    assert "efficientnet-lite0@1" in out.stdout
    assert (tmp_path / "demo" / "flood_map.png").stat().st_size > 100_000
