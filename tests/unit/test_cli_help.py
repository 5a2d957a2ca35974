import subprocess
import sys


def test_help_lists_verbs_without_starting_qgis():
    out = subprocess.run([sys.executable, "-m", "mist_qgis", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "init" in out.stdout and "info" in out.stdout


def test_unknown_verb_is_a_usage_error():
    out = subprocess.run([sys.executable, "-m", "mist_qgis", "frobnicate"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
