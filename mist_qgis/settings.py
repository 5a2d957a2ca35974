"""Plugin settings under the `mist_qgis/` QgsSettings prefix, with their defaults in one place."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsSettings

PREFIX = "mist_qgis/"

DEFAULTS: dict[str, Any] = {
    "store_path": "",
    "recent_stores": [],
    "offline": False,
    "analyst": "",
    "keep_author_names": False,
    "allow_private_hosts": False,
}


def value(key: str) -> Any:
    default = DEFAULTS[key]
    return QgsSettings().value(PREFIX + key, default, type=type(default))


def set_value(key: str, new_value: Any) -> None:
    if key not in DEFAULTS:
        raise KeyError(f"unknown MIST setting {key!r}")
    QgsSettings().setValue(PREFIX + key, new_value)
