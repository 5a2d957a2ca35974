"""HEIC/HEIF photos, the default of phone cameras, through pillow-heif when it is installed.

Pillow reads AVIF itself. Every place that opens a photo a field team took calls `enable_heif()`
first; registering the opener is idempotent and cheap.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_state: dict[str, bool] = {}


def enable_heif() -> bool:
    """Let Pillow open HEIC/HEIF; False when pillow-heif is not installed."""
    with _lock:
        if "heif" not in _state:
            try:
                from pillow_heif import register_heif_opener
            except ImportError:
                _state["heif"] = False
            else:
                register_heif_opener()
                _state["heif"] = True
        return _state["heif"]
