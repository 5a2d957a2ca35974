"""Which optional Python packages are present, checked without importing them.

The plugin loads without its heavy dependencies; features that need one call `require()` on
first use and the user is told exactly what to install, online or from a wheelhouse folder.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from .errors import MistError

# The run-time set (requirements/runtime.txt), import name -> (distribution name, what needs it).
# torch, torchvision, kornia, transformers and sentence-transformers are not here: they are
# build-time tools of the export scripts in models/ (requirements/build.txt), never needed in QGIS.
OPTIONAL_PACKAGES: dict[str, tuple[str, str]] = {
    "numpy": ("numpy<2", "every raster and model step"),
    "onnxruntime": ("onnxruntime", "running every model: screening, embeddings, matchers, masks"),
    "tokenizers": ("tokenizers", "post text embeddings and image+text models"),
    "requests": ("requests", "fetching photos"),
    "shapely": ("shapely", "geometry operations"),
    "cv2": ("opencv-python-headless", "video frames and classical matching"),
    "PIL": ("pillow", "safe image decoding"),
    "onnx": ("onnx", "writing trained screening heads"),
    "sklearn": ("scikit-learn", "few-shot screening heads"),
    "imagehash": ("imagehash", "near-duplicate photos"),
    "scipy": ("scipy", "inundation extent and map smoothing"),
    "skimage": ("scikit-image", "semantic localization metrics"),
    "matplotlib": ("matplotlib", "quality plots and match views"),
    "orjson": ("orjson", "fast reading of JSON post exports"),
    "openpyxl": ("openpyxl", "Excel post tables"),
    "pillow_heif": ("pillow-heif", "phone photos in HEIC"),
}
# What *MIST › Install dependencies…* installs and then imports in a separate process to verify.
RUNTIME_MODULES: tuple[str, ...] = tuple(OPTIONAL_PACKAGES)


class MissingDependencyError(MistError):
    """Raised by `require`; its message is the install instruction shown to the user."""


@dataclass(frozen=True)
class DependencyStatus:
    module: str
    distribution: str
    purpose: str
    available: bool


def status() -> list[DependencyStatus]:
    return [
        DependencyStatus(module, dist, purpose, importlib.util.find_spec(module) is not None)
        for module, (dist, purpose) in OPTIONAL_PACKAGES.items()
    ]


def install_hint(distributions: list[str]) -> str:
    names = " ".join(f'"{d}"' for d in distributions)
    return (
        "In QGIS: MIST › Install dependencies… (online, or from a wheelhouse folder or zip).\n"
        f"Or install with: python3 -m pip install {names}\n"
        f"Offline, from a wheelhouse folder: python3 -m pip install --no-index "
        f"--find-links /path/to/wheelhouse {names}"
    )


def require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        dists = [OPTIONAL_PACKAGES.get(m, (m, ""))[0] for m in missing]
        purposes = sorted({OPTIONAL_PACKAGES.get(m, ("", "this step"))[1] for m in missing})
        raise MissingDependencyError(
            f"MIST needs {', '.join(missing)} for {', '.join(purposes)}.\n{install_hint(dists)}"
        )
