"""Post collections: the record every reader yields, and one reader per input format."""

from .record import GEO_SOURCES, MediaRef, PostRecord

__all__ = ["GEO_SOURCES", "MediaRef", "PostRecord"]
