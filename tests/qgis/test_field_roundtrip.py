"""The field loop end to end in QGIS: a package from a store with verified points and an
inundation run, its project opened headless (moved elsewhere first, as a phone does), the form
checked widget by widget, observations added through QGIS's own editing with the form's
defaults, and the package imported back as verified posts and references."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import processing
import pytest
from qgis.core import QgsExpressionContext, QgsGeometry, QgsPointXY, QgsProject, QgsVectorLayer, QgsVectorLayerUtils

from mist_qgis.core.field import layout
from mist_qgis.core.rasters.inundation import inundation_from_store
from mist_qgis.core.store import open_store
from mist_qgis.core.verify.records import Verdict
from mist_qgis.core.verify.verdicts import write_verdicts
from mist_qgis.paths import style_path
from mist_qgis.qgis_ops.layers import store_layer_source
from tests.helpers.cli import run_cli
from tests.helpers.field_kit import phone_photo
from tests.helpers.raster_testkit import write_dem
from tests.helpers.verify_store import build_store


@pytest.fixture
def field_store(store_path, tmp_path):
    with open_store(store_path) as store:
        data = build_store(store, n=4, photo_size=1400)
        write_verdicts(store, [Verdict(p, "flood", "ana", m, 0.5)
                           for p, m in zip(data.post_fids, data.media_fids, strict=True)])
        # a gentle slope in lon/lat around the posts (113.60-113.63, 34.700-34.715)
        x = np.arange(140, dtype=np.float32)
        dem = np.tile(0.05 * x, (80, 1)) + 10
        write_dem(tmp_path / "dem.tif", dem, epsg=4326, geotransform=(113.59, 0.0005, 0.0, 34.725, 0.0, -0.0005))
        inundation_from_store(store, tmp_path / "dem.tif", tmp_path / "rasters")
    return store_path


def _qgs_xml(qgz: Path) -> str:
    with zipfile.ZipFile(qgz) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith(".qgs"))).decode()


def test_round_trip_package_project_phone_and_back(field_store, tmp_path):
    built = tmp_path / "built"
    result = processing.run("mist:fieldpackage", {"STORE": str(field_store), "OUTPUT": str(built), "MAX_MB": 20})
    contents = json.loads(result["RESULT"])
    assert result["POINTS"] == 4 and result["PHOTOS"] == 4
    assert set(contents["layers"]) == {layout.VERIFIED_LAYER, layout.EXTENT_LAYER, layout.CONTOUR_LAYER,
                                       layout.ALERTS_LAYER, layout.FIELD_LAYER}
    assert layout.DEPTH_RASTER in contents["files"]
    xml = _qgs_xml(built / layout.PROJECT)
    sources = [s.split("<datasource>")[1].split("</datasource>")[0] for s in xml.split("<maplayer")[1:]]
    assert len(sources) == 6 and all(s.startswith("./") for s in sources), sources

    phone = tmp_path / "phone" / "mist"  # the package moved, as onto a phone
    shutil.copytree(built, phone)
    shutil.rmtree(built)
    project = QgsProject()
    assert project.read(str(phone / layout.PROJECT))
    layers = {layer.name(): layer for layer in project.mapLayers().values()}
    assert len(layers) == 6 and all(layer.isValid() for layer in layers.values())
    assert all(Path(layer.source().split("|")[0]).resolve().parent == phone.resolve() for layer in layers.values())
    assert layers["Verified flood points"].featureCount() == 4
    evidence = layers["Verified flood points"]
    shown = evidence.fields().field("photo").editorWidgetSetup()
    assert shown.type() == "ExternalResource" and shown.config()["DocumentViewer"] == 1
    assert evidence.editFormConfig().readOnly(evidence.fields().indexOf("photo"))
    assert all((phone / f["photo"]).is_file() for f in evidence.getFeatures())
    assert layers["Flood extent"].featureCount() > 0 and layers["Depth contours"].featureCount() > 0
    obs = layers["Field observations"]
    symbol_layers = obs.renderer().symbol().symbolLayers()
    angles = [sl.dataDefinedProperties().property(sl.PropertyAngle).expressionString() for sl in symbol_layers]
    assert any('"heading"' in a for a in angles), angles  # arrows turned by the heading
    fields = obs.fields()
    setup = {f.name(): fields.field(i).editorWidgetSetup() for i, f in enumerate(fields)}
    assert setup["verdict"].type() == "ValueMap"
    assert [list(d.values())[0] for d in setup["verdict"].config()["map"]] == ["flood", "not_flood", "unsure"]
    assert setup["depth_class"].type() == "ValueMap"
    assert [list(d.values())[0] for d in setup["depth_class"].config()["map"]] == ["ankle", "knee", "waist", "above"]
    assert setup["water_depth_m"].type() == "Range" and setup["water_depth_m"].config()["Max"] == 30.0
    assert setup["note"].type() == "TextEdit" and setup["note"].config()["IsMultiline"]
    photo = setup["photo"]
    assert photo.type() == "ExternalResource"
    assert photo.config()["RelativeStorage"] == 1 and photo.config()["DocumentViewer"] == 1
    assert setup["uuid"].type() == "Hidden"
    defaults = {f.name(): obs.defaultValueDefinition(i).expression() for i, f in enumerate(fields)}
    assert defaults["uuid"] == "uuid()" and "now()" in defaults["observed_at"]
    assert "@position_horizontal_accuracy" in defaults["gps_accuracy_m"]
    assert "DCIM/" in json.loads(obs.customProperty("QFieldSync/attachment_naming"))["photo"]
    assert project.readListEntry("QFieldSync", "/attachmentDirs")[0] == ["DCIM", "photos"]

    # the phone: two observations with photos saved under DCIM/, created with the form's defaults
    phone_photo(phone / "DCIM" / "gate.jpg", 0, lat=34.7102, lon=113.6151, heading=75.0)
    phone_photo(phone / "DCIM" / "nogps.jpg", 1)
    assert obs.startEditing()
    for lon, lat, rel, verdict, depth_class in ((113.6151, 34.7102, "DCIM/gate.jpg", "flood", "knee"),
                                                 (113.6160, 34.7110, "DCIM/nogps.jpg", "flood", "waist")):
        feature = QgsVectorLayerUtils.createFeature(obs, QgsGeometry.fromPointXY(QgsPointXY(lon, lat)), {
            fields.indexOf("verdict"): verdict, fields.indexOf("depth_class"): depth_class,
            fields.indexOf("photo"): rel, fields.indexOf("analyst"): "team-a"})
        assert feature["uuid"] and feature["observed_at"]  # filled by the defaults, as on the phone
        assert obs.addFeature(feature)
    assert obs.commitChanges(), obs.commitErrors()
    del project

    back = processing.run("mist:importfield", {"STORE": str(field_store), "FOLDER": str(phone)})
    summary = json.loads(back["RESULT"])
    assert (summary["imported"], summary["verdicts"], summary["references"], summary["flagged"]) == (2, 2, 1, 1)
    with open_store(field_store) as store:
        rows = store.query("SELECT verified, verified_by, water_depth_m, geo_source, direction FROM posts "
                           "WHERE platform = 'field' ORDER BY fid")
        refs = store.query('SELECT collection, heading, image_path FROM "references"')
    assert [(r["verified"], r["verified_by"], r["water_depth_m"]) for r in rows] == [
        ("flood", "team-a", 0.5), ("flood", "team-a", 1.0)]
    assert [(r["collection"], r["heading"]) for r in refs] == [("field", 75.0)]
    # the viewer: the store's references layer with MIST's style draws the new reference as an arrow
    # turned to its heading
    source, provider = store_layer_source(field_store, "references")
    refs_layer = QgsVectorLayer(source, "references", provider)
    assert refs_layer.isValid() and refs_layer.loadNamedStyle(str(style_path("references.qml")))[1]
    arrow = next(sl for sl in refs_layer.renderer().symbol().symbolLayers()
                 if sl.dataDefinedProperties().isActive(sl.PropertyAngle))
    context = QgsExpressionContext()
    context.setFields(refs_layer.fields())
    context.setFeature(next(refs_layer.getFeatures()))
    angle, _ = arrow.dataDefinedProperties().property(arrow.PropertyAngle).valueAsDouble(context, -1.0)
    assert angle == 75.0
    again = processing.run("mist:importfield", {"STORE": str(field_store), "FOLDER": str(phone)})
    assert json.loads(again["RESULT"])["duplicates"] == 2 and again["IMPORTED"] == 0


def test_cli_field_package_zip_and_a_hand_edited_project_refused(field_store, tmp_path):
    cmd = ["field-package", "--store", field_store, "--out", tmp_path / "team.zip", "--since", "2021-07-20T16:10+08:00",
           "--max-mb", "5", "--extent", "113.605,34.70,113.625,34.72"]
    done = run_cli(*cmd)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["points"] == 1 and Path(out["output"]).is_file()  # in the area: 08:07 and 08:14 UTC
    bad = run_cli(*cmd[:-2], "--extent", "1,2,3")
    assert bad.returncode == 2 and "XMIN,YMIN,XMAX,YMAX" in bad.stderr

    folder = tmp_path / "edited"
    with zipfile.ZipFile(tmp_path / "team.zip") as zf:
        zf.extractall(folder)
    qgz = folder / layout.PROJECT
    xml = _qgs_xml(qgz).replace(f"./{layout.GPKG}|layername={layout.FIELD_LAYER}",
                                f"/srv/elsewhere/{layout.GPKG}|layername={layout.FIELD_LAYER}")
    with zipfile.ZipFile(qgz, "w") as zf:
        zf.writestr("mist_field.qgs", xml)
    done = run_cli("import-field", "--store", field_store, folder)
    assert done.returncode == 2
    assert "mist_field.qgz" in done.stderr and "/srv/elsewhere" in done.stderr
