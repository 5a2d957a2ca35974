"""Every user-facing string in the code has a Chinese translation: the catalogue is updated from
the sources exactly as `make ts` does, into a copy, and nothing may come out unfinished."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("pylupdate5") is None, reason="pylupdate5 comes with make setup (pyqt5-dev-tools)")
def test_every_string_in_the_code_is_translated(tmp_path):
    catalogue = tmp_path / "mist_qgis_zh.ts"
    shutil.copy(REPO / "i18n" / "mist_qgis_zh.ts", catalogue)
    sources = sorted(str(p) for p in (REPO / "mist_qgis").rglob("*.py"))
    subprocess.run(["pylupdate5", "-noobsolete", *sources, "-ts", str(catalogue)], check=True,
                   capture_output=True)
    messages = ET.parse(catalogue).getroot().iter("message")
    missing = [m.findtext("source") for m in messages
               if m.find("translation").get("type") == "unfinished" or not (m.findtext("translation") or "").strip()]
    assert missing == [], f"run `make ts` and translate: {missing[:10]}"
    assert sum(1 for _ in ET.parse(catalogue).getroot().iter("message")) > 400
