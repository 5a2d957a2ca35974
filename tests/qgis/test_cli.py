"""The CLI end to end, as a user or a script calls it: in the test process (`run_cli`), and
checked against `python -m mist_qgis` in a process of its own (`run_cli_process`)."""

import json
import os

import pytest
from qgis.core import (
    QgsApplication,
    QgsProcessingAlgorithm,
    QgsProcessingProvider,
)

from mist_qgis.cli import VERBS, build_parser
from mist_qgis.core.store.schema import LATEST_VERSION
from tests.helpers.cli import run_cli as _cli
from tests.helpers.cli import run_cli_process


def test_init_then_info(tmp_path):
    store = str(tmp_path / "cli.gpkg")
    created = _cli("init", "--store", store)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["schema_version"] == LATEST_VERSION
    info = _cli("info", "--store", store)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["summary"]["counts"]["posts"] == 0


def test_user_mistake_is_one_line_no_traceback(tmp_path):
    out = _cli("info", "--store", str(tmp_path / "missing.gpkg"))
    assert out.returncode == 2
    assert out.stderr.startswith("mist: error:") and "does not exist" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    bad = tmp_path / "text.gpkg"
    bad.write_text("not a database")
    out = _cli("info", "--store", str(bad))
    assert out.returncode == 2 and "not an SQLite" in out.stderr and "Traceback" not in out.stderr
    out = _cli("--debug", "info", "--store", str(bad))
    assert out.returncode == 2 and out.stderr.rstrip().splitlines()[-1].startswith("mist: error:")
    assert "Traceback (most recent call last)" in out.stderr


@pytest.mark.parametrize("argv", [
    ["--debug", "info", "--store", "{tmp}/s.gpkg"],  # a whole run: QGIS and Processing started, Processing's log
    ["--help"], ["info", "--help"], [], ["frobnicate"], ["info", "--store", "{tmp}/missing.gpkg"],
    ["--debug", "info", "--store", "{tmp}/missing.gpkg"],
], ids=lambda argv: " ".join(argv) or "no verb")
def test_in_the_test_process_the_cli_exits_and_prints_as_the_program_does(argv, tmp_path):
    """The tests run verbs in their own process; that must give what the program gives."""
    from mist_qgis.core.store import open_store

    with open_store(tmp_path / "s.gpkg"):
        pass
    argv = [a.format(tmp=tmp_path) for a in argv]
    inside, program = _cli(*argv), run_cli_process(*argv)
    assert (inside.returncode, inside.stdout, inside.stderr) == (program.returncode, program.stdout, program.stderr)
    assert program.returncode in (0, 2) and (program.stdout or program.stderr)


def test_a_store_path_is_read_in_the_commands_folder_and_environment(tmp_path, monkeypatch):
    """`s.gpkg` is in the folder the command runs in, `~/s.gpkg` in the HOME it runs with."""
    monkeypatch.chdir(tmp_path)
    for folder in ("team", "home"):
        (tmp_path / folder).mkdir()
    created = _cli("init", "--store", "s.gpkg", cwd=tmp_path / "team")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["store"] == str(tmp_path / "team" / "s.gpkg")
    assert (tmp_path / "team" / "s.gpkg").is_file() and not (tmp_path / "s.gpkg").exists()
    home = os.environ.get("HOME")
    created = _cli("init", "--store", "~/s.gpkg", env={"HOME": str(tmp_path / "home")})
    assert json.loads(created.stdout)["store"] == str(tmp_path / "home" / "s.gpkg")
    assert os.environ.get("HOME") == home and os.getcwd() == str(tmp_path)


def _verb_parsers():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "verb")
    return [(verb, sub.choices[verb.name]) for verb in VERBS]


def _same_default(action, definition) -> bool:
    cli, alg = action.default, definition.defaultValue()
    if definition.type() == "enum" and definition.allowMultiple():
        return str(cli).split(",") == list(alg or [])
    if isinstance(alg, bool) or action.const is True:  # store_true: off unless given, as the algorithm
        return bool(cli) == bool(alg)
    if isinstance(cli, (int, float)) and not isinstance(cli, bool):
        return alg is not None and float(cli) == float(alg)
    return cli == alg


@pytest.mark.parametrize("verb,parser", _verb_parsers(), ids=lambda v: getattr(v, "name", ""))
def test_every_cli_option_is_its_algorithms_parameter_with_the_same_choices_and_default(verb, parser):
    """An option mapped onto a parameter must exist on the algorithm, offer exactly its choices (by
    name) and start from its default: the CLI and the Processing dialog cannot drift apart."""
    algorithm = QgsApplication.processingRegistry().algorithmById(verb.algorithm)
    assert algorithm is not None, verb.algorithm
    mapped = [a for a in parser._actions if hasattr(a, "parameter")]
    for action in mapped:
        definition = algorithm.parameterDefinition(action.parameter)
        assert definition is not None, f"{verb.name} {action.option_strings}: no {action.parameter}"
        if action.choices is not None:
            assert definition.type() == "enum" and definition.usesStaticStrings(), action.parameter
            assert list(action.choices) == definition.options(), action.parameter
        assert _same_default(action, definition), (
            f"{verb.name} {action.option_strings[-1]}: default {action.default!r} but "
            f"{verb.algorithm} {action.parameter} has {definition.defaultValue()!r}")
    enums = [d.name() for d in algorithm.parameterDefinitions() if d.type() == "enum"]
    assert {a.parameter for a in mapped if a.choices is not None or a.parameter in enums} >= set(enums) - {
        "QUERY_KIND", "COORDINATES"}  # these two are chosen by which query/flag is given, not by a value


class _Boom(QgsProcessingAlgorithm):
    def name(self):
        return "boom"

    def displayName(self):  # noqa: N802
        return "boom"

    def createInstance(self):  # noqa: N802
        return _Boom()

    def initAlgorithm(self, config=None):  # noqa: N802
        pass

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        return {"RATIO": 1 / 0}


class _BoomProvider(QgsProcessingProvider):
    def id(self):
        return "misttest"

    def name(self):
        return "misttest"

    def loadAlgorithms(self):  # noqa: N802
        self.addAlgorithm(_Boom())


def test_a_crashing_algorithm_is_an_internal_failure_and_a_refusal_is_the_users(tmp_path):
    from mist_qgis.core.errors import MistError
    from mist_qgis.headless import AlgorithmError, AlgorithmFailed, run_algorithm

    provider = _BoomProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    try:
        with pytest.raises(AlgorithmFailed) as failed:
            run_algorithm("misttest:boom", {})
        assert not isinstance(failed.value, MistError)
        assert "ZeroDivisionError" in str(failed.value) and "Traceback" in failed.value.detail
    finally:
        QgsApplication.processingRegistry().removeProvider(provider)
    text = tmp_path / "text.gpkg"
    text.write_text("not a database")
    with pytest.raises(AlgorithmError, match="not an SQLite"):
        run_algorithm("mist:storeinfo", {"STORE": str(text)})


def _examples(tmp_path):
    """One valid command line per verb (real files where the CLI checks them)."""
    from mist_qgis.core.store import open_store

    store, field = tmp_path / "s.gpkg", tmp_path / "field.gpkg"
    for path in (store, field):
        with open_store(path):
            pass
    f = {n: tmp_path / n for n in ("posts.jsonl", "m.onnx", "p.jpg", "v.csv", "refs.csv", "truth.geojson",
                                   "dem.tif", "r.tif", "t.onnx", "regions.geojson")}
    for path in f.values():
        path.write_bytes(b"x")
    s, o = str(store), str(tmp_path / "out")
    return {
        "init": ["--store", s], "info": ["--store", s], "push": [str(field), "--store", s],
        "checkout": ["--store", s, "--out", str(tmp_path / "checkout.gpkg")],
        "import": [str(f["posts.jsonl"]), "--store", s],
        "fetch-media": ["--store", s], "watch": [str(f["posts.jsonl"]), "--store", s],
        "models": [], "predict": ["--model", str(f["m.onnx"]), str(f["p.jpg"])],
        "classify": ["--store", s, "--model", str(f["m.onnx"])],
        "import-verifications": ["--store", s, str(f["v.csv"])],
        "train-head": ["--store", s], "next-to-verify": ["--store", s, "--model", str(f["m.onnx"])],
        "screen-text": ["--store", s], "train-text-head": ["--store", s, "--out", o],
        "next-posts": ["--store", s, "--heads", str(tmp_path)], "text-categories": ["--store", s],
        "import-references": ["--store", s, "--input", str(f["refs.csv"])],
        "geolocate": ["--store", s, "--retrieval-model", "emb@1", "--retrieval-k", "5"],
        "locate-retrieval": ["--store", s, "--model", "emb@1", "--k", "5", "--rasters", o],
        "evaluate-geolocation": ["--store", s, "--truth", str(f["truth.geojson"])],
        "refit-confidence": ["--store", s, "--matcher", "sift"],
        "export-verified": ["--store", s, "--out", str(tmp_path / "v.gpkg")],
        "density": ["--store", s, "--out", o], "inundation": ["--store", s, "--dem", str(f["dem.tif"]), "--out", o],
        "selo": ["--raster", str(f["r.tif"]), "--image-model", str(f["m.onnx"]), "--out", str(tmp_path / "m.tif"),
                 "--text", "flood", "--text-model", str(f["t.onnx"])],
        "evaluate-selo": ["--probmap", str(f["r.tif"]), "--regions", str(f["regions.geojson"])],
        "field-package": ["--store", s, "--out", str(tmp_path / "field.zip")],
        "import-field": ["--store", s, str(tmp_path)],
    }


def test_every_verb_passes_only_parameters_its_algorithm_has(tmp_path):
    examples = _examples(tmp_path)
    assert sorted(examples) == sorted(v.name for v in VERBS)
    parser = build_parser()
    for verb in VERBS:
        args = parser.parse_args([verb.name, *examples[verb.name]])
        algorithm = QgsApplication.processingRegistry().algorithmById(verb.algorithm)
        names = {d.name() for d in algorithm.parameterDefinitions()}
        unknown = set(verb.parameters(args)) - names
        assert not unknown, f"{verb.name} passes {unknown} that {verb.algorithm} does not have"
        for name, value in verb.parameters(args).items():
            definition = algorithm.parameterDefinition(name)
            if definition.type() == "enum":
                assert definition.checkValueIsAcceptable(value), (verb.name, name, value)


def test_a_relative_store_path_reaches_every_algorithm_as_the_same_absolute_path(tmp_path, monkeypatch):
    """One store check for every verb: `--store s.gpkg` means the file in the current folder."""
    examples = _examples(tmp_path)
    monkeypatch.chdir(tmp_path)
    parser = build_parser()
    checked = 0
    for verb in VERBS:
        argv = ["s.gpkg" if a == str(tmp_path / "s.gpkg") else a for a in examples[verb.name]]
        if "s.gpkg" not in argv:
            continue
        args = parser.parse_args([verb.name, *argv])
        assert verb.parameters(args)["STORE"] == str(tmp_path / "s.gpkg"), verb.name
        checked += 1
    assert checked == 25  # every verb with --store (models, predict, selo, evaluate-selo have none)
