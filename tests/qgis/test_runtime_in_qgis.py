"""The field path, end to end: the plugin zip in a clean QGIS profile, *Install dependencies…*'s
installer run from a local wheelhouse by QGIS's own Python, then the pipeline (import, fetch
offline, screen, geolocate with SIFT, density, inundation, export, map) in QGIS's own Python with
that profile's packages, without the developer venv and without PyTorch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from mist_qgis.core.runtime_install import canonical

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = REPO / "build" / "wheelhouse"
BACKBONE = REPO / "models" / "build" / "efficientnet-lite0.onnx"


def qgis_python_env(profile_root: Path) -> dict[str, str]:
    """QGIS's Python as QGIS starts it: its own paths only (the QGIS under test), no venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    venv = Path(sys.prefix)
    env["PYTHONPATH"] = os.pathsep.join(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                        if p and not Path(p).resolve().is_relative_to(venv.resolve()))
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(venv)))
    env["QGIS_CUSTOM_CONFIG_PATH"] = str(profile_root)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


@pytest.mark.slow
def test_plugin_zip_installs_its_runtime_from_a_wheelhouse_and_runs_the_pipeline_in_qgis_python(tmp_path):
    if not (WHEELHOUSE / "requirements-cpu.txt").is_file():
        subprocess.run(["make", "-s", "wheelhouse"], cwd=REPO, check=True)
    if not BACKBONE.is_file():
        subprocess.run(["make", "-s", "models"], cwd=REPO, check=True)
    subprocess.run(["make", "-s", "package", f"BUILD_DIR={tmp_path / 'build'}", f"DIST_DIR={tmp_path / 'dist'}"],
                   cwd=REPO, check=True, capture_output=True, text=True)
    (zip_path,) = (tmp_path / "dist").glob("mist_qgis-*.zip")
    profile_root = tmp_path / "qgis-config"
    plugins = profile_root / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(plugins)
    python = sys._base_executable  # the interpreter QGIS embeds (Debian's python3), not the venv's
    env = qgis_python_env(profile_root)

    common = f"""
        import importlib.util, json, sys
        sys.path.insert(0, {str(plugins)!r})
        from mist_qgis.headless import start_qgis
        start_qgis(gui=True)
        import mist_qgis
        assert mist_qgis.__file__.startswith({str(plugins)!r}), mist_qgis.__file__
        assert importlib.util.find_spec("torch") is None, "the developer venv leaked in"
    """
    install = textwrap.dedent(common + f"""
        from mist_qgis.core import runtime_install as ri
        from mist_qgis.runtime_folders import activate_runtime, profile_dir
        assert activate_runtime() is None  # a clean profile has nothing yet
        from mist_qgis.core.gpu import probe_nvidia_gpu
        choice = ri.choose_onnxruntime(probe_nvidia_gpu())
        result = ri.install_runtime(profile_dir(), mist_qgis.__version__, ri.Source.wheelhouse({str(WHEELHOUSE)!r}),
                                    choice)
        print(json.dumps(result.to_dict()))
    """)
    done = subprocess.run([python, "-c", install], env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    folder = Path(result["folder"])
    assert folder.is_relative_to(profile_root) and (folder / "install.json").is_file()
    assert "CPUExecutionProvider" in result["providers"]
    installed = {canonical(name) for name, _ in result["installed"]}
    assert "onnxruntime" in installed and "numpy" not in installed  # QGIS's numpy is kept
    assert "numpy" in result["reused"] and not installed & set(result["reused"])  # nothing shadowed
    assert not installed & {"torch", "torchvision", "kornia", "transformers", "sentence-transformers"}

    work = tmp_path / "demo"
    pipeline = textwrap.dedent(common + f"""
        sys.path.insert(1, {str(REPO)!r})  # for the test helper only
        from tests.helpers.stub_iface import StubIface
        from mist_qgis.runtime_folders import profile_dir
        from mist_qgis.core.runtime_install import site_dir
        site = site_dir(profile_dir(), mist_qgis.__version__)
        assert importlib.util.find_spec("onnxruntime") is None  # not before the plugin loads
        plugin = mist_qgis.classFactory(StubIface())  # as QGIS loads the plugin
        assert sys.path[-1] == str(site), sys.path[-3:]
        import numpy, onnxruntime
        assert not numpy.__file__.startswith(str(site)), numpy.__file__  # QGIS's numpy, its ABI
        from mist_qgis.headless import init_processing
        init_processing()
        from mist_qgis.demo.pipeline import Demo, DemoConfig
        from mist_qgis.demo.runner import StageRunner
        runner = StageRunner(lambda line: print(line, file=sys.stderr, flush=True))
        from pathlib import Path
        config = DemoConfig(sample=Path({str(REPO / "resources" / "sample")!r}), work=Path({str(work)!r}),
                            backbone={str(BACKBONE)!r}, matcher="sift")
        ok = Demo(config, runner).run_all()
        blocked = [m for m in ("torch", "torchvision", "kornia", "transformers", "sentence_transformers")
                   if m in sys.modules]
        print(json.dumps({{"ok": ok, "table": runner.table(), "blocked": blocked,
                           "onnxruntime": onnxruntime.__file__}}))
    """)
    done = subprocess.run([python, "-c", pipeline], env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["ok"], outcome["table"] + done.stderr[-2000:]
    assert outcome["blocked"] == []
    assert outcome["onnxruntime"].startswith(str(folder))
    assert (work / "flood_map.png").is_file()
