"""The run-time installer against real pip and real wheels built here (small pure-Python ones),
in a throwaway profile: what it picks, and how it refuses a bad wheelhouse leaving nothing behind."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mist_qgis.core import runtime_install as ri
from mist_qgis.core.errors import Cancelled
from mist_qgis.core.gpu import probe_nvidia_gpu

PY = sys.executable


def make_wheel(folder: Path, name: str, version: str, code: str = "", requires: tuple[str, ...] = (),
               tag: str = "py3-none-any") -> Path:
    """A real wheel of one module `name` (pip installs it like any other)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-{tag}.whl"
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": code or f"VERSION = {version!r}\n",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: {}\nVersion: {}\n{}".format(
            name, version, "".join(f"Requires-Dist: {r}\n" for r in requires)),
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n",
    }
    record = []
    with zipfile.ZipFile(path, "w") as zf:
        for arcname, text in files.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            zf.writestr(arcname, data)
            record.append(f"{arcname},sha256={digest},{len(data)}")
        zf.writestr(f"{info}/RECORD", "\n".join(record + [f"{info}/RECORD,,"]) + "\n")
    return path


@pytest.fixture
def kit(tmp_path):
    """Pins (mistprobe-a needs mistprobe-b), a wheelhouse holding both, and a clean profile."""
    pins = tmp_path / "requirements"
    pins.mkdir()
    (pins / "runtime.txt").write_text("mistprobe_a==1.0\n")
    (pins / "constraints.txt").write_text("mistprobe_a==1.0\nmistprobe_b==2.0\n")
    house = tmp_path / "wheelhouse"
    make_wheel(house, "mistprobe_a", "1.0", "import mistprobe_b\nVERSION = '1.0'\n", requires=("mistprobe_b>=2",))
    make_wheel(house, "mistprobe_b", "2.0")
    return pins, house, tmp_path / "profile"


def install(pins, source, profile, **kw):
    return ri.install_runtime(profile, "9.9.9", source, ri.OnnxChoice("onnxruntime", "", "test"),
                              interpreter=PY, pins_dir=pins, modules=("mistprobe_a", "mistprobe_b"), **kw)


def assert_nothing_installed(profile):
    root = ri.runtime_root(profile)
    assert not root.exists() or [p.name for p in root.iterdir()] == []
    assert ri.activate(profile, "9.9.9", []) is None


def test_installs_from_a_wheelhouse_folder_and_zip_and_activates_after_qgis_paths(kit, tmp_path):
    pins, house, profile = kit
    steps = []
    result = install(pins, ri.Source.wheelhouse(house), profile, progress=lambda f, m: steps.append(f))
    assert sorted(result.installed) == [("mistprobe_a", "1.0"), ("mistprobe_b", "2.0")]
    site = ri.site_dir(profile, "9.9.9")
    assert (site / "mistprobe_a.py").is_file()
    assert steps[-1] == 1.0 and steps == sorted(steps)
    path = ["/qgis/python", "/usr/lib/python3/dist-packages"]
    assert ri.activate(profile, "9.9.9", path) == site
    assert path == ["/qgis/python", "/usr/lib/python3/dist-packages", str(site)]  # appended, never first
    assert ri.installed_record(profile, "9.9.9")["installed"]

    zipped = tmp_path / "house.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for wheel in house.iterdir():
            zf.write(wheel, f"wheels/{wheel.name}")
    again = install(pins, ri.Source.wheelhouse(zipped), profile)
    assert sorted(again.installed) == sorted(result.installed)
    assert sorted(p.name for p in ri.runtime_root(profile).iterdir()) == ["9.9.9"]  # replaced, no leftovers


def test_a_wheelhouse_lacking_a_package_names_it_and_installs_nothing(kit):
    pins, house, profile = kit
    (house / "mistprobe_b-2.0-py3-none-any.whl").unlink()
    with pytest.raises(ri.InstallError) as err:
        install(pins, ri.Source.wheelhouse(house), profile)
    assert err.value.package.replace("-", "_").startswith("mistprobe_b")
    assert "wheelhouse" in err.value.reason
    assert_nothing_installed(profile)


def test_a_corrupt_wheel_is_named(kit):
    pins, house, profile = kit
    wheel = house / "mistprobe_b-2.0-py3-none-any.whl"
    wheel.write_bytes(wheel.read_bytes()[:200])
    with pytest.raises(ri.InstallError, match="damaged") as err:
        install(pins, ri.Source.wheelhouse(house), profile)
    assert err.value.package == "mistprobe_b"
    assert_nothing_installed(profile)


def test_a_wheel_for_another_python_is_named(kit):
    pins, house, profile = kit
    (house / "mistprobe_b-2.0-py3-none-any.whl").unlink()
    make_wheel(house, "mistprobe_b", "2.0", tag="cp27-cp27mu-manylinux1_x86_64")
    with pytest.raises(ri.InstallError, match="another Python") as err:
        install(pins, ri.Source.wheelhouse(house), profile)
    assert err.value.package == "mistprobe-b"
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" in err.value.reason
    assert_nothing_installed(profile)


def test_a_package_that_installs_but_does_not_import_is_never_put_in_place(kit):
    pins, house, profile = kit
    (house / "mistprobe_b-2.0-py3-none-any.whl").unlink()
    make_wheel(house, "mistprobe_b", "2.0", "raise ImportError('needs a newer numpy')\n")
    with pytest.raises(ri.InstallError, match="cannot be loaded") as err:
        install(pins, ri.Source.wheelhouse(house), profile)
    assert "newer numpy" in err.value.reason
    assert_nothing_installed(profile)


def test_cancel_leaves_nothing(kit):
    pins, house, profile = kit
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 1  # after the plan, during pip

    with pytest.raises(Cancelled):
        install(pins, ri.Source.wheelhouse(house), profile, cancelled=cancelled)
    assert_nothing_installed(profile)


def test_an_unfinished_folder_is_never_activated(tmp_path):
    site = ri.site_dir(tmp_path, "9.9.9")
    site.mkdir(parents=True)
    assert ri.activate(tmp_path, "9.9.9", []) is None  # no marker: an interrupted or copied install


def test_onnxruntime_build_follows_the_gpu_probe():
    here = probe_nvidia_gpu()
    if shutil.which("nvidia-smi") is None:
        assert not here.usable and "driver" in here.reason
    cpu = ri.choose_onnxruntime(ri.GpuProbe(False, "no NVIDIA driver is installed"))
    assert (cpu.distribution, cpu.extras, cpu.gpu) == ("onnxruntime", "", False)
    assert "CPU" in cpu.reason and "no NVIDIA driver" in cpu.reason
    gpu = ri.choose_onnxruntime(ri.GpuProbe(True, "NVIDIA GPU with a working driver: RTX", ("RTX",)))
    assert (gpu.distribution, gpu.gpu) == ("onnxruntime-gpu", True) and "cuda" in gpu.extras
    assert ri.choose_onnxruntime(ri.GpuProbe(True, "x"), force_cpu=True).distribution == "onnxruntime"


def test_requirements_keep_what_qgis_has():
    pins = {"numpy": ("numpy", "1.26.4"), "onnxruntime-gpu": ("onnxruntime-gpu", "1.31.1"),
            "shapely": ("shapely", "2.2.0")}
    cpu = ri.OnnxChoice("onnxruntime", "", "")
    fresh, none = ri.runtime_requirements(cpu, pins, {})
    assert fresh == ["numpy==1.26.4", "onnxruntime==1.31.1", "shapely==2.2.0"] and none == []
    reqs, cons = ri.runtime_requirements(cpu, pins, {"numpy": "1.24.2"})
    assert reqs == ["numpy", "onnxruntime==1.31.1", "shapely<=2.2.0"]
    assert cons == ["numpy==1.24.2"]
    gpu = ri.runtime_requirements(ri.OnnxChoice("onnxruntime-gpu", "cuda,cudnn", ""), pins, {})[0]
    assert "onnxruntime-gpu[cuda,cudnn]==1.31.1" in gpu


def test_a_qgis_python_without_pip_installs_with_the_pip_wheel_of_the_wheelhouse(kit, tmp_path):
    pip_wheel = sorted((Path(__file__).resolve().parents[2] / "build" / "wheelhouse").glob("pip-*.whl"))
    if not pip_wheel:
        pytest.skip("no build/wheelhouse (make wheelhouse; setup and CI make it)")
    pins, house, profile = kit
    bare = tmp_path / "bare"  # a Python without pip, as Debian's without python3-pip
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = str(bare / "bin" / "python")
    with pytest.raises(ri.InstallError, match="has no pip"):
        ri.pip_command(python, None)
    shutil.copy(pip_wheel[-1], house)
    assert ri.pip_command(python, str(house))[1].endswith(".whl/pip")
    result = ri.install_runtime(profile, "9.9.9", ri.Source.wheelhouse(house), ri.OnnxChoice("onnxruntime", "", "t"),
                                interpreter=python, pins_dir=pins, modules=("mistprobe_a",))
    assert sorted(result.installed) == [("mistprobe_a", "1.0"), ("mistprobe_b", "2.0")]
