"""Run a script or module with the build-time packages made unimportable, as on a machine that has
only MIST's run-time dependencies:

    python tests/helpers/without_torch.py scripts/demo.py --work build/demo
    python tests/helpers/without_torch.py -m mist_qgis.cli ...
    python tests/helpers/without_torch.py -c "code"

Any import of torch, torchvision, kornia, transformers or sentence-transformers (or a submodule),
and any `importlib.util.find_spec` for them, raises ModuleNotFoundError naming the package.
"""

from __future__ import annotations

import os
import runpy
import sys
from importlib.abc import MetaPathFinder

BUILD_ONLY = ("torch", "torchvision", "kornia", "transformers", "sentence_transformers")


class BuildOnlyBlocker(MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001
        if fullname.split(".")[0] in BUILD_ONLY:
            raise ModuleNotFoundError(f"No module named {fullname!r} (build-time only: blocked)", name=fullname)
        return None


def install() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in BUILD_ONLY:
            raise RuntimeError(f"{name} was imported before the blocker was installed")
    sys.meta_path.insert(0, BuildOnlyBlocker())


def main() -> None:
    install()
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    # sys.path[0] as `python -m/-c/SCRIPT` would set it, not this helper's folder
    sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[1])) if sys.argv[1] not in ("-m", "-c") else os.getcwd()
    if sys.argv[1] == "-m":
        sys.argv = sys.argv[2:]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    elif sys.argv[1] == "-c":
        code = sys.argv[2]
        sys.argv = ["-c", *sys.argv[3:]]
        exec(compile(code, "<without_torch>", "exec"), {"__name__": "__main__"})
    else:
        sys.argv = sys.argv[1:]
        runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
