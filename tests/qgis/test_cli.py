"""The CLI end to end in a separate process, exactly as a user or a script calls it."""

import json
import subprocess
import sys


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "mist_qgis", *args], capture_output=True, text=True, timeout=180)


def test_init_then_info(tmp_path):
    store = str(tmp_path / "cli.gpkg")
    created = _cli("init", "--store", store)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["schema_version"] >= 2
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
