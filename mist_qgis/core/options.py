"""Every choice a user makes from a fixed list, with its default: the one home for them.

Core validates against these lists; Processing builds its enum parameters from them (by name:
`usesStaticStrings`, so a model or a script passes "idw", never a position); the CLI builds its
`choices=` and defaults from them. A test checks, verb by verb, that the CLI and Processing agree.
Nothing here imports more than the standard library, so the CLI can build its parser quickly.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import MistError


class OptionError(MistError, ValueError):
    """A value that is not one of an option list's names."""


@dataclass(frozen=True)
class Choices:
    """An option list: the names core, the CLI and Processing use, in this order, and the default."""

    what: str
    names: tuple[str, ...]
    default: str

    def __post_init__(self) -> None:
        if self.default not in self.names:
            raise AssertionError(f"{self.what}: default {self.default!r} is not one of {self.names}")

    def __iter__(self):
        return iter(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __len__(self) -> int:
        return len(self.names)

    def check(self, name: str | None) -> str:
        """`name` if it is one of the names (None gives the default); else a one-line OptionError."""
        if name is None:
            return self.default
        if name not in self.names:
            raise OptionError(f"unknown {self.what} {name!r}; choose one of {', '.join(self.names)}")
        return name


# -- posts and references ---------------------------------------------------------------------------
POST_FORMATS = Choices(
    "post format", ("auto", "twitter_v1", "twitter_v2", "weibo", "crisismmd", "csv", "geojson", "photos"), "auto")
REFERENCE_FORMATS = Choices("reference format", ("auto", "csv", "success", "geojson", "photos"), "auto")

# -- models and heads -------------------------------------------------------------------------------
HEAD_FEATURES = Choices("feature set", ("image", "text", "image+text"), "image")
LABEL_SCHEMES = Choices("label scheme", ("verdict", "depth", "note"), "verdict")
HEAD_KINDS = Choices("head kind", ("logreg", "mlp"), "logreg")

# -- text screening ---------------------------------------------------------------------------------
TEXT_FEATURE_SETS = Choices("text feature set", ("char-ngram", "minilm", "multilingual"), "char-ngram")
# who gave a post its categories: keyword rules, text heads or an analyst (analysts' win)
CATEGORY_SOURCES = Choices("category source", ("keyword", "head", "analyst"), "keyword")

# -- live monitoring --------------------------------------------------------------------------------
LIVE_LEARN_EVERY = 50  # retrain the watch's head after this many new verdicts (0: it does not learn)
LIVE_PHOTO_RETRIES = 3  # a photo whose fetch failed for a passing reason is tried again this often
LIVE_RETRY_BACKOFF_S = 30.0  # first wait before a retry, doubled for each further one

# -- geolocation ------------------------------------------------------------------------------------
MATCHERS = Choices("matcher", ("disk-lightglue", "aliked-lightglue", "loftr", "sift"), "disk-lightglue")

# -- verification and export ------------------------------------------------------------------------
VERDICTS = Choices("verdict", ("flood", "not_flood", "unsure"), "flood")
EXPORT_FORMATS = Choices("export format", ("auto", "gpkg", "geojson", "csv"), "auto")

# -- rasters ----------------------------------------------------------------------------------------
DENSITY_KINDS = Choices("density kind", ("all", "predicted", "verified"), "all")
DENSITY_SLICES = Choices("time slice", ("none", "hour", "day"), "none")
INUNDATION_METHODS = Choices("interpolation method", ("idw", "nearest"), "idw")
CONNECTIVITY = Choices("pixel connectivity", ("4", "8"), "4")
SELO_VERSIONS = Choices("SeLo version", ("v1", "v2"), "v1")
SELO_QUERIES = Choices("SeLo query", ("text", "photos", "store_photos", "boxes", "head"), "text")
REGION_COORDINATES = Choices("region coordinates", ("map", "pixel"), "map")
