"""The model registry as the plugin, Processing and the CLI see it: user folders from the QGIS
settings, the profile's model folder, then the repository's `models/build`."""

from __future__ import annotations

from pathlib import Path

from .core.models.registry import ModelRegistry, profile_folder

SETTING = "mist_qgis/model_folders"


def profile_models_dir() -> Path:
    """`<QGIS profile>/mist/models`: where imported packs and trained heads go."""
    from qgis.core import QgsApplication

    return profile_folder(QgsApplication.qgisSettingsDirPath())


def user_folders() -> list[str]:
    from qgis.core import QgsSettings

    value = QgsSettings().value(SETTING, [], type=list)
    return [str(v) for v in value if v]


def add_user_folder(folder: str | Path) -> None:
    from qgis.core import QgsSettings

    folders = user_folders()
    if str(folder) not in folders:
        QgsSettings().setValue(SETTING, folders + [str(folder)])


def remove_user_folder(folder: str | Path) -> None:
    from qgis.core import QgsSettings

    QgsSettings().setValue(SETTING, [f for f in user_folders() if f != str(folder)])


def registry() -> ModelRegistry:
    from qgis.core import QgsApplication

    return ModelRegistry.default(QgsApplication.qgisSettingsDirPath(), user_folders())
