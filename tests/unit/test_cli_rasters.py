"""The raster verbs map their arguments onto the algorithms' parameters by name, and refuse
mistakes early. (That every option exists on its algorithm with the same choices and defaults is
checked for every verb in tests/qgis/test_cli.py.)"""

from __future__ import annotations

import pytest

from mist_qgis.cli import CliError, build_parser


def _params(argv):
    args = build_parser().parse_args(argv)
    return args._verb.algorithm, args._verb.parameters(args)


def test_inundation_and_density_arguments(tmp_path):
    store = tmp_path / "s.gpkg"
    store.write_bytes(b"")
    dem = tmp_path / "dem.tif"
    dem.write_bytes(b"")
    alg, p = _params(["inundation", "--store", str(store), "--dem", str(dem), "--out", str(tmp_path / "o"),
                      "--method", "nearest", "--connectivity", "8", "--allow-deep"])
    assert alg == "mist:inundation"
    assert p["METHOD"] == "nearest" and p["CONNECTIVITY"] == "8" and p["ALLOW_DEEP"] and p["MAX_DISTANCE"] == 500.0
    alg, p = _params(["density", "--store", str(store), "--out", str(tmp_path), "--kind", "predicted",
                      "--slice", "day", "--radius", "250"])
    assert alg == "mist:postdensity" and p["KIND"] == "predicted" and p["SLICES"] == "day" and p["RADIUS"] == 250
    with pytest.raises(CliError, match="does not exist"):
        _params(["inundation", "--store", str(tmp_path / "nope.gpkg"), "--dem", str(dem), "--out", "o"])


def test_selo_and_evaluate_arguments(tmp_path):
    raster, model, text = (tmp_path / n for n in ("r.tif", "i.onnx", "t.onnx"))
    for f in (raster, model, text):
        f.write_bytes(b"")
    base = ["selo", "--raster", str(raster), "--image-model", str(model), "--out", str(tmp_path / "m.tif")]
    alg, p = _params(base + ["--text", "flooded road", "--text-model", str(text), "--version", "v2"])
    assert alg == "mist:selo" and p["QUERY_KIND"] == "text" and p["TEXT"] == "flooded road" and p["VERSION"] == "v2"
    with pytest.raises(CliError, match="--text-model"):
        _params(base + ["--text", "flooded road"])
    _, p = _params(base + ["--head", str(raster), "--label-field", "cls"])
    assert p["QUERY_KIND"] == "head" and p["LABEL_FIELD"] == "cls"
    with pytest.raises(SystemExit):
        build_parser().parse_args(base)  # a query is required
    alg, p = _params(["evaluate-selo", "--probmap", str(raster), "--regions", str(raster), "--pixel-coordinates"])
    assert alg == "mist:evaluateselo" and p["COORDINATES"] == "pixel"
    with pytest.raises(CliError, match="--annotations"):
        _params(["evaluate-selo", "--probmap", str(raster)])


def test_inundation_help_says_how_water_connects_and_how_distance_is_measured(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["inundation", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--connectivity {4,8} water flows between cells sharing an edge (4) or also a corner (8) (default 4)" in text
    assert "ground metres from evidence" in text
