"""The CLI's help and exit statuses, without starting QGIS."""

import importlib
import subprocess
import sys

import pytest

from mist_qgis.cli import EXIT_FAILED, EXIT_USAGE, VERBS, Verb, build_parser, main

WORKFLOW = ["init", "info", "push", "checkout", "import", "fetch-media", "models", "predict", "classify",
            "import-verifications", "train-head", "next-to-verify", "screen-text", "train-text-head", "next-posts",
            "text-categories", "import-references", "geolocate", "locate-retrieval", "evaluate-geolocation",
            "refit-confidence",
            "export-verified", "density", "inundation", "selo", "evaluate-selo", "watch", "field-package",
            "import-field"]


def test_help_lists_every_verb_in_workflow_order_without_starting_qgis():
    code = ("import sys, runpy\nsys.argv = ['mist_qgis', '--help']\ntry:\n"
            "    runpy.run_module('mist_qgis', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('QGIS' if 'qgis.core' in sys.modules else 'NO-QGIS')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0
    assert [v.name for v in VERBS] == WORKFLOW
    listed = [line.split()[0] for line in out.stdout.splitlines() if line.startswith("    ") and line.split()
              and not line.startswith("     ")]
    assert listed == WORKFLOW
    assert out.stdout.rstrip().endswith("NO-QGIS")


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v.name)
def test_each_verb_has_its_own_help(verb, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([verb.name, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m mist_qgis {verb.name}") and verb.help in " ".join(out.split())


def test_unknown_verb_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "invalid choice" in err and "frobnicate" in err and "Traceback" not in err


def test_predict_on_a_missing_image_is_one_line_and_exit_2(tmp_path, capsys):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"")
    assert main(["predict", "--model", str(model), str(tmp_path / "missing.jpg")]) == EXIT_USAGE
    assert capsys.readouterr().err == f"mist: error: image {tmp_path / 'missing.jpg'} does not exist\n"


def test_an_internal_failure_exits_1_with_its_line_and_keeps_the_traceback(monkeypatch, capsys):
    def broken(args):
        return {"RATIO": 1 / 0}

    cli_main = importlib.import_module("mist_qgis.cli.main")  # the module, not the function of that name
    monkeypatch.setattr(cli_main, "VERBS", [Verb("boom", "a verb with a bug", "mist:none", lambda p: None, broken)])
    assert main(["boom"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith("mist: internal error: division by zero (traceback in ") and len(err.splitlines()) == 1
    log = err.split("traceback in ")[1].split(";")[0]
    with open(log, encoding="utf-8") as fh:
        text = fh.read()
    assert "ZeroDivisionError" in text and "in broken" in text
    assert main(["--debug", "boom"]) == EXIT_FAILED
    assert "Traceback (most recent call last)" in capsys.readouterr().err
