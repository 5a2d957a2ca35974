"""Marks a plugin enabled in a QGIS profile (the default one unless a profile folder is given), so
`make deploy` / `make qgis` load it."""

from __future__ import annotations

import configparser
import sys
from pathlib import Path

PROFILE = Path.home() / ".local/share/QGIS/QGIS3/profiles/default"
INI = PROFILE / "QGIS/QGIS3.ini"


def enable(plugin: str, ini: Path = INI) -> None:
    ini.parent.mkdir(parents=True, exist_ok=True)
    config = configparser.RawConfigParser()
    config.optionxform = str  # QGIS keys are case-sensitive
    if ini.exists():
        config.read(ini, encoding="utf-8")
    if not config.has_section("PythonPlugins"):
        config.add_section("PythonPlugins")
    config.set("PythonPlugins", plugin, "true")
    with ini.open("w", encoding="utf-8") as fh:
        config.write(fh, space_around_delimiters=False)


if __name__ == "__main__":
    enable(sys.argv[1], Path(sys.argv[2]) / "QGIS/QGIS3.ini" if len(sys.argv) > 2 else INI)
