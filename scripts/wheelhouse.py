"""Collect the run-time set as wheels into one folder (and optionally a zip), for offline installs
with *MIST › Install dependencies…* or for measuring the runtime's size.

    .venv/bin/python scripts/wheelhouse.py --out build/wheelhouse [--gpu] [--zip wheelhouse.zip]
        [--python-version 3.12 --platform win_amd64]

The wheels are for the Python that runs this script unless --python-version/--platform say
otherwise (the field laptop's QGIS Python). pip's own wheel comes along, so a QGIS whose Python
has no pip can still install from the folder.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mist_qgis.core.runtime_install import (  # noqa: E402
    GpuProbe,
    Source,
    choose_onnxruntime,
    clean_env,
    present_in,
    read_pins,
    resolve,
    runtime_requirements,
)


def download(out: Path, gpu: bool, extra_args: list[str], like: str | None = None) -> None:
    """The run-time pins with the CPU or GPU onnxruntime: as tested (a fresh Python), or as the
    installer resolves them against the packages the Python `like` already has (a QGIS's)."""
    out.mkdir(parents=True, exist_ok=True)
    pins = read_pins(REPO / "requirements" / "runtime.txt")
    choice = choose_onnxruntime(GpuProbe(gpu, "asked for the GPU build" if gpu else "asked for the CPU build"))
    present = present_in(like) if like else {}
    requirements, constraints = runtime_requirements(choice, pins, present)
    tag = f"{'gpu' if gpu else 'cpu'}{'-like-' + Path(like).name if like else ''}"
    reqs = out / f"requirements-{tag}.txt"
    reqs.write_text("\n".join(requirements) + "\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
           "--only-binary", ":all:", "-d", str(out), *extra_args]
    if like:  # exactly what the installer would fetch for that Python (its own packages kept)
        with tempfile.TemporaryDirectory() as scratch:
            plan = resolve(like, requirements, constraints, Source.index(), None, Path(scratch), clean_env())
        subprocess.run([*pip, "--no-deps", *(f"{name}=={version}" for name, version in plan)], check=True)
    else:
        subprocess.run([*pip, "-r", str(reqs), "-c", str(REPO / "requirements" / "constraints.txt")], check=True)
    import pip as pip_module

    subprocess.run([*pip, "--no-deps", f"pip=={pip_module.__version__}"], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "build" / "wheelhouse"))
    parser.add_argument("--gpu", action="store_true", help="also the GPU build of onnxruntime with its CUDA wheels")
    parser.add_argument("--zip", metavar="FILE", help="also pack the wheels into one zip")
    parser.add_argument("--python-version", help="wheels for this Python (e.g. 3.12), not this one")
    parser.add_argument("--platform", help="wheels for this platform tag (e.g. win_amd64)")
    parser.add_argument("--like", metavar="PYTHON",
                        help="also the versions the installer picks for this QGIS Python (e.g. /usr/bin/python3), "
                             "whose own numpy and Pillow it keeps")
    args = parser.parse_args(argv)
    extra = []
    if args.python_version:
        extra += ["--python-version", args.python_version]
    if args.platform:
        extra += ["--platform", args.platform]
    out = Path(args.out)
    for gpu in (False, True) if args.gpu else (False,):
        download(out, gpu, extra)
        if args.like:
            download(out, gpu, extra, args.like)
    wheels = sorted(out.glob("*.whl"))
    if args.zip:
        with zipfile.ZipFile(args.zip, "w", zipfile.ZIP_STORED) as zf:
            for wheel in wheels:
                zf.write(wheel, wheel.name)
    size = sum(w.stat().st_size for w in wheels)
    print(f"wheelhouse: {len(wheels)} wheels, {size / 1e6:.0f} MB in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
