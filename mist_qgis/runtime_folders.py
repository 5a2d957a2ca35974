"""The run-time package folder of this QGIS profile and this MIST version, put on `sys.path`
when the plugin loads (see core/runtime_install.py)."""

from __future__ import annotations

from pathlib import Path


def profile_dir() -> str:
    from qgis.core import QgsApplication

    return QgsApplication.qgisSettingsDirPath()


def activate_runtime() -> Path | None:
    """Append the verified package folder, if any, after QGIS's own paths."""
    from .core.runtime_install import activate
    from .version import __version__

    return activate(profile_dir(), __version__)
