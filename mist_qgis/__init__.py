"""MIST for QGIS: flood evidence from social-media posts.

Only `classFactory` lives here, and it imports nothing heavy: QGIS loads the plugin even when
torch or onnxruntime are missing, and the features that need them say so on first use.
"""

from .version import __version__

__all__ = ["__version__", "classFactory"]


def classFactory(iface):  # noqa: N802 (QGIS's name)
    from .plugin import MistPlugin

    return MistPlugin(iface)
