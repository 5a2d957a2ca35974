"""The release zip: built by `make package`, checked, and the plugin starts from the unpacked copy."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_package_builds_and_the_packaged_plugin_starts(tmp_path):
    subprocess.run(
        ["make", "-s", "package", f"BUILD_DIR={tmp_path / 'build'}", f"DIST_DIR={tmp_path / 'dist'}"],
        cwd=REPO, check=True, capture_output=True, text=True,
    )
    (zip_path,) = (tmp_path / "dist").glob("mist_qgis-*.zip")
    plugins = tmp_path / "plugins"
    with zipfile.ZipFile(zip_path) as zf:
        assert not [n for n in zf.namelist() if "__pycache__" in n or n.endswith(".pyc")]
        zf.extractall(plugins)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(plugins)!r})
        sys.path.insert(1, {str(REPO)!r})  # for the test helper only
        import mist_qgis
        assert mist_qgis.__file__.startswith({str(plugins)!r}), mist_qgis.__file__
        from mist_qgis.paths import i18n_dir, icon_path, resources_dir
        assert str(resources_dir()).startswith({str(plugins)!r}) and icon_path().exists()
        assert list(i18n_dir().glob("*.qm"))
        from mist_qgis.headless import start_qgis
        start_qgis(gui=True)
        from tests.helpers.stub_iface import StubIface
        iface = StubIface()
        plugin = mist_qgis.classFactory(iface)
        plugin.initGui()
        assert iface.menus["&MIST"]
        plugin.unload()
        assert iface.menus == {{}}
        print("started")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("started")


def test_package_check_rejects_a_bad_zip(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("mist_qgis/__init__.py", "")
        zf.writestr("mist_qgis/__pycache__/x.pyc", "")
        zf.writestr("mist_qgis/metadata.txt", "[general]\nname=MIST\n")
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "check_package.py"), str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert "__pycache__" in out.stderr and "lacks version" in out.stderr and "missing LICENSE" in out.stderr
