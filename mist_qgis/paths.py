"""Where the plugin's files are, whether it runs from the repository or from an installed
plugin folder (where `make package` copies resources/ and the compiled translations inside)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[-1]


def resources_dir() -> Path:
    return _first_existing(PACKAGE_DIR / "resources", REPO_DIR / "resources")


def i18n_dir() -> Path:
    return _first_existing(PACKAGE_DIR / "i18n", REPO_DIR / "i18n")


def icon_path(name: str = "mist.svg") -> Path:
    return resources_dir() / "icons" / name


def style_path(name: str) -> Path:
    return resources_dir() / "styles" / name
