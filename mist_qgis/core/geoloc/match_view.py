"""The query/reference match view of a geolocated post, for the verification dock.

The dock resolves a `MatchSource` from the store on the GUI thread (plain paths and names), then
`render_match_view` re-matches the winning photo with its reference off the GUI thread and writes
the side-by-side PNG of `viewer.render_matches` into the media cache, so a second look is a file
read. The geolocation's own matcher (with the options of its run) is used; only when it cannot be
created here (weights or packages missing) is SIFT used instead, and the result says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import MistError

FALLBACK_MATCHER = "sift"
MATCHES_DIR = "matches"
# Views are drawn as the analyst looks; past this size the least recently drawn go first.
MAX_CACHE_BYTES = 512 << 20

# Why a view cannot be drawn; the dock turns each kind into a translated title.
QUERY_MISSING = "query_missing"
QUERY_UNUSABLE = "query_unusable"
REFERENCE_MISSING = "reference_missing"
REFERENCE_UNUSABLE = "reference_unusable"
MATCHER_UNAVAILABLE = "matcher_unavailable"
RENDER_FAILED = "render_failed"


@dataclass
class MatchSource:
    """What is needed to redraw one post's geolocation: its winning photo and reference."""

    post_fid: int
    media_fid: int
    ref_uid: str
    matcher: str
    mode: str
    match_fid: int | None = None  # the `matches` row of this photo/reference pair, when recorded
    query_path: str | None = None  # resolved cache file; None when the store refused the path
    query_error: str = ""
    ref_path: str | None = None
    confidence: float | None = None
    inliers: int | None = None
    run_params: dict[str, Any] = field(default_factory=dict)  # the geolocation run's options


@dataclass
class MatchView:
    """A rendered (or cached) view: the PNG and what the caption should say."""

    path: Path
    matcher: str  # the matcher that drew it
    requested: str  # the geolocation's matcher
    fallback_reason: str = ""  # why `requested` could not be used ('' when it was)
    matches: int | None = None
    inliers: int | None = None

    @property
    def fell_back(self) -> bool:
        return bool(self.fallback_reason)


class MatchViewError(MistError):
    """A view that cannot be drawn; `kind` is one of the module's reason constants."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def _safe_name(text: str) -> str:
    """A file-name part from untrusted text (a reference uid): readable, unique by hash."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:40].strip("._") or "ref"
    return f"{readable}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


def cache_file(media_dir: str | os.PathLike[str], source: MatchSource) -> Path:
    """`media_dir/matches/{post_fid}_{match_fid or ref}.png`: a new geolocation run writes new
    `matches` rows, so a redone geolocation never shows an old picture."""
    key = str(int(source.match_fid)) if source.match_fid is not None else _safe_name(source.ref_uid)
    return Path(media_dir) / MATCHES_DIR / f"{int(source.post_fid)}_{key}.png"


def _sidecar(png: Path) -> Path:
    return png.with_suffix(".json")


def cached_view(media_dir: str | os.PathLike[str], source: MatchSource) -> MatchView | None:
    """The cached view when its PNG exists (cheap: two small file reads, fine on the GUI thread)."""
    png = cache_file(media_dir, source)
    if not png.is_file():
        return None
    view = MatchView(png, source.matcher, source.matcher)
    try:
        meta = json.loads(_sidecar(png).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return view
    if isinstance(meta, dict):
        view.matcher = str(meta.get("matcher") or source.matcher)
        view.fallback_reason = str(meta.get("fallback_reason") or "")
        for name in ("matches", "inliers"):
            value = meta.get(name)
            setattr(view, name, value if isinstance(value, int) else None)
    return view


def _options(source: MatchSource) -> tuple[dict, str]:
    """Matcher options and geometric model of the run that made the geolocation (defaults when
    the run's parameters are missing or unreadable)."""
    from .locate import GeolocateOptions

    known = {f.name: f.type for f in fields(GeolocateOptions)}
    params = {k: v for k, v in (source.run_params or {}).items()
              if k in known and (isinstance(v, (str, int, float, bool, type(None)))
                                 or (k == "model_folders" and isinstance(v, list)
                                     and all(isinstance(f, str) for f in v)))}
    try:
        options = GeolocateOptions(**{**params, "matcher": source.matcher})
        return options.matcher_options(), str(options.geometry or "fundamental")
    except (TypeError, ValueError):
        return GeolocateOptions(matcher=source.matcher).matcher_options(), "fundamental"


class MatcherPool:
    """Matchers created once per (name, options) and reused; thread-safe, so a worker thread can
    keep a LightGlue model loaded between views instead of reading its weights each time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matchers: dict[str, Any] = {}

    def get(self, name: str, options: dict) -> tuple[Any, str, str]:
        """(matcher, name used, fallback reason): the named matcher, else SIFT with the reason."""
        from .matchers import MatcherUnavailable, create

        with self._lock:
            key = json.dumps([name, options], sort_keys=True, default=str)
            if key in self._matchers:
                return self._matchers[key], name, ""
            try:
                matcher = create(name, **options)
            except (MatcherUnavailable, ValueError, TypeError) as exc:
                reason = str(exc) or type(exc).__name__
                if name == FALLBACK_MATCHER:
                    raise MatchViewError(MATCHER_UNAVAILABLE, reason) from exc
                try:
                    fallback = self._matchers.setdefault("sift", create(FALLBACK_MATCHER))
                except (MatcherUnavailable, ValueError, TypeError) as fallback_exc:
                    raise MatchViewError(MATCHER_UNAVAILABLE, f"{reason}; {FALLBACK_MATCHER}: {fallback_exc}") \
                        from fallback_exc
                return fallback, FALLBACK_MATCHER, reason
            self._matchers[key] = matcher
            return matcher, name, ""


def render_match_view(source: MatchSource, media_dir: str | os.PathLike[str],
                      pool: MatcherPool | None = None) -> MatchView:
    """Re-match the photo with its reference and write the PNG (atomically: a reader never sees a
    half-written file) plus a small JSON with the caption facts. Raises `MatchViewError`."""
    from .matchers import MatcherInputError
    from .photos import load_photo
    from .scoring import verify
    from .viewer import render_matches

    if source.query_path is None:
        raise MatchViewError(QUERY_MISSING, source.query_error or "the photo has no cached file")
    if not Path(source.query_path).is_file():
        raise MatchViewError(QUERY_MISSING, f"cached photo file not found: {Path(source.query_path).name}")
    if not source.ref_path or not Path(source.ref_path).is_file():
        raise MatchViewError(REFERENCE_MISSING, f"reference image not found: {source.ref_path or source.ref_uid}")
    query = load_photo(source.query_path)
    if not query.ok:
        raise MatchViewError(QUERY_UNUSABLE, query.reason)
    ref = load_photo(source.ref_path)
    if not ref.ok:
        raise MatchViewError(REFERENCE_UNUSABLE, ref.reason)
    options, geometry_method = _options(source)
    matcher, used, fallback_reason = (pool or MatcherPool()).get(source.matcher, options)
    try:
        match = matcher.match(query.image, ref.image)
        geometry = verify(match, geometry_method)
    except (MatcherInputError, ValueError, RuntimeError) as exc:
        raise MatchViewError(RENDER_FAILED, f"{type(exc).__name__}: {exc}") from exc
    png = cache_file(media_dir, source)
    tmp = png.with_name(f".{png.stem}.{uuid.uuid4().hex}.tmp.png")
    try:
        # no title drawn into the picture: shrunk into a dock it is unreadable, and the pane's caption
        # (from the sidecar below) says the same in text the analyst can read and copy
        render_matches(query.image, ref.image, match, geometry.inlier_mask, tmp)
        view = MatchView(png, used, source.matcher, fallback_reason, match.n, int(geometry.inliers))
        meta = {k: v for k, v in asdict(view).items() if k != "path"}
        _sidecar(png).write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, png)
    except (OSError, ValueError) as exc:
        raise MatchViewError(RENDER_FAILED, f"cannot write {png.name}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    prune_cache(png.parent, keep=png)
    return view


def prune_cache(folder: Path, max_bytes: int | None = None, keep: Path | None = None) -> int:
    """Delete the oldest drawn views until the folder holds at most three quarters of
    `max_bytes` (MAX_CACHE_BYTES); `keep` (the view just drawn) stays. Returns views deleted."""
    limit = MAX_CACHE_BYTES if max_bytes is None else max_bytes
    views = []
    total = 0
    for png in folder.glob("*.png"):
        try:
            stat = png.stat()
        except OSError:
            continue  # another thread pruned it first
        total += stat.st_size
        views.append((stat.st_mtime, png, stat.st_size))
    if total <= limit:
        return 0
    deleted = 0
    for _, png, size in sorted(views, key=lambda v: v[0]):
        if total <= limit * 3 // 4:
            break
        if keep is not None and png == keep:
            continue
        png.unlink(missing_ok=True)
        _sidecar(png).unlink(missing_ok=True)
        total -= size
        deleted += 1
    return deleted
