"""Installed size of MIST's run-time set (requirements/runtime.txt), CPU and GPU builds of ONNX
Runtime, each installed by pip into a throwaway folder, against the developer venv (run-time +
build-time tools: PyTorch and its CUDA wheels).

    .venv/bin/python bench/bench_runtime_size.py [--wheelhouse build/wheelhouse] [--cpu-only]

The CPU set comes from the wheelhouse when it has everything (`make wheelhouse`), else from the
package index; the GPU set (onnxruntime-gpu with its CUDA and cuDNN wheels) from the index.
Ends with `size ratio: X` (venv MB / CPU runtime MB).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mist_qgis.core.runtime_install import GpuProbe, choose_onnxruntime, read_pins, runtime_requirements  # noqa: E402


def folder_mb(folder: Path) -> float:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total / 1e6


def install_size(gpu: bool, wheelhouse: Path | None) -> tuple[float, int]:
    """(MB, number of distributions) of the run-time set installed into an empty folder."""
    pins = read_pins(REPO / "requirements" / "runtime.txt")
    choice = choose_onnxruntime(GpuProbe(gpu, "measured"))
    requirements, _ = runtime_requirements(choice, pins, {})
    with tempfile.TemporaryDirectory(prefix="mist-size-") as tmp:
        target = Path(tmp) / "site"
        source = ["--no-index", "--find-links", str(wheelhouse)] if wheelhouse else []
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-compile", "--no-warn-conflicts", "--only-binary", ":all:", "--target", str(target),
                        *requirements,
                        "-c", str(REPO / "requirements" / "constraints.txt"), *source], check=True)
        dists = len(list(target.glob("*.dist-info")))
        return folder_mb(target), dists


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheelhouse", default=str(REPO / "build" / "wheelhouse"))
    parser.add_argument("--cpu-only", action="store_true", help="skip the GPU set (a large download)")
    args = parser.parse_args(argv)
    house = Path(args.wheelhouse)
    house = house if (house / "requirements-cpu.txt").is_file() else None

    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    venv_site = Path(sys.prefix).resolve() / "lib" / version / "site-packages"
    venv_mb = folder_mb(venv_site)
    cpu_mb, cpu_n = install_size(False, house)
    print(f"run-time set, CPU (onnxruntime):               {cpu_mb:8.0f} MB, {cpu_n} distributions")
    if not args.cpu_only:
        gpu_mb, gpu_n = install_size(True, None)
        print(f"run-time set, GPU (onnxruntime-gpu + CUDA):    {gpu_mb:8.0f} MB, {gpu_n} distributions")
    print(f"developer venv (run-time + torch build tools): {venv_mb:8.0f} MB  ({venv_site})")
    print(f"size ratio: {venv_mb / cpu_mb:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
