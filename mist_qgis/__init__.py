"""MIST for QGIS: flood evidence from social-media posts.

Only `classFactory` lives here, and it imports nothing heavy: QGIS loads the plugin even when
torch or onnxruntime are missing, and the features that need them say so on first use.
"""

from .version import __version__

__all__ = ["__version__", "classFactory"]


def classFactory(iface):  # noqa: N802 (QGIS's name)
    # The packages *MIST › Install dependencies…* put in this profile, after QGIS's own paths.
    from .runtime_folders import activate_runtime

    activate_runtime()
    from .plugin import MistPlugin

    return MistPlugin(iface)
