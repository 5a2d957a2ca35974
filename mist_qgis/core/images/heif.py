"""HEIC/HEIF photos, the default of phone cameras, through pillow-heif when it is installed.

Pillow reads AVIF itself. Every place that opens a photo a field team took calls `enable_heif()`
first; registering the opener once is enough.
"""

from __future__ import annotations

from functools import cache


@cache
def enable_heif() -> bool:
    """Let Pillow open HEIC/HEIF; False when pillow-heif is not installed."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return False
    register_heif_opener()  # idempotent, so two threads racing here is harmless
    return True
