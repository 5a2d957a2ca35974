"""Retrieval geolocation (the Img2Loc idea, offline): the image embeddings of every photo the
store already places with a trusted location, and of every reference image (street-level
imagery at known positions), go into a vector index; an unlocated photo's k nearest neighbours
give a location probability raster, a point estimate and the radius that holds 68% of the
probability.

The index lives beside the store: `STORE.gpkg.faiss` (a faiss index) and `STORE.gpkg.faiss.json`
(the embedding model tag, the dimension and the entries in index order, each marked by its
source: ["photo", media fid] or ["reference", reference fid]). `sync` adds only entries not yet
indexed; it rebuilds when the model tag or dimension changes (vectors of two models are never
mixed) or when an indexed photo lost its trusted location or a reference was removed. Up to
`EXACT_MAX_VECTORS` the index is exact (faiss flat inner product, equal to a numpy dot product);
above it an HNSW graph, which needs no training and accepts incremental adds (an exact index that
grows past the limit is rebuilt as a graph once).

Combination with a place named in the text (`combine_with_text`): neighbours within the place's
radius are kept and re-ranked by similarity; when none falls inside, the text's place alone is
used (the retrieval is then evidence against the text, and is reported as such).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import MistError
from ..models.vectors import l2_rows
from ..store import gpkg
from ..store import models_sql as sql
from .candidates import LocalMetric

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ..store import Store
    from .records import CoarseLocation, ReferenceRow

TRUSTED_GEO_SOURCES = ("gps", "exif")  # a device's own position; text, place and match moves are not trusted
EXACT_MAX_VECTORS = 50_000
HNSW_M = 32
HNSW_EF_SEARCH = 128
DEFAULT_K = 10
KERNEL_SIGMA_M = 150.0  # smallest kernel width (also at least each neighbour's own accuracy)
MAX_GRID_CELLS = 256  # per side of the probability raster
MIN_CELL_M = 10.0
MASS = 0.68
SIMILARITY_TEMPERATURE = 0.05
INDEX_FORMAT = 2  # 2: entries marked by source (photos and references)
PHOTO = "photo"  # a post's photo with a trusted location
REFERENCE = "reference"  # a reference image


class RetrievalError(MistError):
    """The retrieval index cannot be built or queried as asked."""


@dataclass(frozen=True)
class Neighbour:
    """An indexed photo or reference near the query: `media_fid`/`post_fid` for a photo,
    `ref_fid` for a reference (`source` says which)."""

    media_fid: int | None
    post_fid: int | None
    lon: float
    lat: float
    similarity: float
    accuracy_m: float | None = None
    source: str = PHOTO
    ref_fid: int | None = None


@dataclass
class SyncResult:
    indexed: int
    added: int
    rebuilt: bool
    reason: str = ""


@dataclass
class LocationEstimate:
    lon: float
    lat: float
    radius_m: float
    epsg: int
    neighbours: list[Neighbour] = field(default_factory=list)
    raster_path: str | None = None


def index_base(store: Store) -> Path:
    """Where a store's index lives: beside a GeoPackage store; in this computer's photo cache of
    a team store, which has no file of its own (the index is rebuilt from the store when absent)."""
    if store.path is not None:
        return Path(store.path)
    folder = Path(store.media_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "retrieval"


def default_raster_dir(store: Store) -> Path:
    """Where the probability rasters go when no folder is given: the store's photo cache."""
    return Path(store.media_dir) / "retrieval"


def index_paths(store_path: str | Path) -> tuple[Path, Path]:
    p = Path(store_path)
    return p.with_name(p.name + ".faiss"), p.with_name(p.name + ".faiss.json")


def trusted_photos(store: Store, model_tag: str, media_fids: Sequence[int] | None = None,
                   ) -> dict[int, tuple[int, float, float, float | None]]:
    """media fid -> (post fid, lon, lat, accuracy) of photos with this model's embedding whose post
    has a trusted location (only among `media_fids` when given)."""
    marks = ",".join("?" for _ in TRUSTED_GEO_SOURCES)
    rows = sql.rows_among(
        store,
        "SELECT m.fid AS media_fid, p.fid AS post_fid, p.geom AS geom, p.geo_accuracy_m AS acc "
        "FROM media m JOIN posts p ON p.fid = m.post_fid JOIN embeddings e ON e.media_fid = m.fid "
        f"WHERE e.model = ? AND p.geom IS NOT NULL AND p.geo_source IN ({marks})",
        (model_tag, *TRUSTED_GEO_SOURCES), "m.fid", media_fids,
    )
    out = {}
    for r in rows:
        if gpkg.is_empty(r["geom"]):
            continue
        lon, lat = gpkg.point_xy(r["geom"])
        out[int(r["media_fid"])] = (int(r["post_fid"]), float(lon), float(lat), r["acc"])
    return out


Key = tuple[str, int]  # (source, fid)


def indexable(store: Store, model_tag: str, keys: Iterable[Key] | None = None,
              ) -> dict[Key, tuple[int | None, float, float, float | None]]:
    """Everything the index holds for a model: (PHOTO, media fid) -> (post fid, lon, lat,
    accuracy) of trusted photos, (REFERENCE, reference fid) -> (None, lon, lat, accuracy) of
    located references with this model's embedding. With `keys`, only those of these entries
    (what a search returned), read fresh: a run may change which posts are trusted."""
    photos = refs = None
    if keys is not None:
        keys = list(keys)
        photos = [fid for source, fid in keys if source == PHOTO]
        refs = [fid for source, fid in keys if source == REFERENCE]
    out: dict[Key, tuple[int | None, float, float, float | None]] = {
        (PHOTO, fid): v for fid, v in trusted_photos(store, model_tag, photos).items()}
    rows = sql.rows_among(store, 'SELECT r.fid, r.geom, r.accuracy_m FROM "references" r JOIN reference_embeddings e '
                       "ON e.ref_fid = r.fid WHERE e.model = ? AND r.geom IS NOT NULL", (model_tag,), "r.fid", refs)
    for r in rows:
        if gpkg.is_empty(r["geom"]):
            continue
        lon, lat = gpkg.point_xy(r["geom"])
        out[(REFERENCE, int(r["fid"]))] = (None, float(lon), float(lat), r["accuracy_m"])
    return out


def _vectors(store: Store, model_tag: str, keys: list[Key]) -> tuple[list[Key], np.ndarray | None]:
    """The vectors of these entries (photos first, then references), with their keys in that order."""
    photos = [fid for source, fid in keys if source == PHOTO]
    refs = [fid for source, fid in keys if source == REFERENCE]
    out_keys: list[Key] = []
    blocks = []
    if photos:
        fids, matrix = sql.load_embeddings(store, model_tag, photos)
        out_keys += [(PHOTO, int(f)) for f in fids]
        blocks.append(matrix)
    if refs:
        fids, matrix = sql.load_reference_embeddings(store, model_tag, refs)
        out_keys += [(REFERENCE, int(f)) for f in fids]
        blocks.append(matrix)
    blocks = [b for b in blocks if len(b)]
    if not blocks:
        return [], None
    if len({b.shape[1] for b in blocks}) > 1:
        raise RetrievalError(f"photo and reference embeddings of {model_tag} have different sizes")
    return out_keys, np.vstack(blocks)


def _normalise(matrix: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(l2_rows(np.asarray(matrix, dtype=np.float32)))


def new_index(dim: int, expected: int):
    """The faiss index the store builds for `expected` vectors: exact up to EXACT_MAX_VECTORS, HNSW
    above (bench/bench_index.py measures this same construction)."""
    import faiss

    if expected > EXACT_MAX_VECTORS:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index, "hnsw"
    return faiss.IndexFlatIP(dim), "flat"


class RetrievalIndex:
    """The persisted index of one store: load, sync with the store, search."""

    def __init__(self, store_path: str | Path) -> None:
        self.index_path, self.meta_path = index_paths(store_path)
        self.model: str | None = None
        self.dim = 0
        self.kind = "flat"
        self.keys: list[Key] = []
        self._index = None
        self._load()

    @property
    def ids(self) -> list[int]:
        """Media fids of the indexed photos, in index order."""
        return [fid for source, fid in self.keys if source == PHOTO]

    @property
    def reference_ids(self) -> list[int]:
        """Reference fids of the indexed references, in index order."""
        return [fid for source, fid in self.keys if source == REFERENCE]

    def _load(self) -> None:
        if not (self.index_path.is_file() and self.meta_path.is_file()):
            return
        import faiss

        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            index = faiss.read_index(str(self.index_path))
        except (OSError, ValueError, RuntimeError):
            return  # unreadable: rebuilt on the next sync
        keys = meta.get("keys", [])
        if meta.get("format") != INDEX_FORMAT or index.ntotal != len(keys) or not all(
                isinstance(k, list) and len(k) == 2 and k[0] in (PHOTO, REFERENCE) for k in keys):
            return  # another format: rebuilt on the next sync
        self.model, self.dim, self.kind = meta["model"], int(meta["dim"]), meta.get("kind", "flat")
        self.keys = [(str(k[0]), int(k[1])) for k in keys]
        self._index = index

    def __len__(self) -> int:
        return len(self.keys)

    def save(self) -> None:
        import faiss

        tmp = self.index_path.with_name(self.index_path.name + ".tmp")
        faiss.write_index(self._index, str(tmp))
        tmp.replace(self.index_path)
        meta = {"format": INDEX_FORMAT, "model": self.model, "dim": self.dim, "kind": self.kind,
                "keys": [list(k) for k in self.keys]}
        tmp_meta = self.meta_path.with_name(self.meta_path.name + ".tmp")
        tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
        tmp_meta.replace(self.meta_path)

    def sync(self, store: Store, model_tag: str) -> SyncResult:
        """Bring the index up to date with the store's trusted photos and references for `model_tag`."""
        entries = indexable(store, model_tag)
        reason = ""
        if self._index is None:
            reason = "no index yet"
        elif self.model != model_tag:
            reason = f"embedding model changed from {self.model} to {model_tag}"
        else:
            gone = [k for k in self.keys if k not in entries]
            if gone:
                lost = sum(1 for s, _ in gone if s == PHOTO)
                reason = (f"{lost} indexed photos lost their trusted location" if lost
                          else f"{len(gone)} indexed references were removed")
        indexed = set(self.keys)
        if not reason and self.kind == "flat" and len(entries) > EXACT_MAX_VECTORS:
            reason = f"grew past {EXACT_MAX_VECTORS:,} entries: the exact index becomes an HNSW graph"
        new = sorted(k for k in entries if k not in indexed) if not reason else sorted(entries)
        keys, matrix = _vectors(store, model_tag, new)
        if keys and reason == "" and matrix.shape[1] != self.dim:
            reason = f"embedding size changed from {self.dim} to {matrix.shape[1]}"
            keys, matrix = _vectors(store, model_tag, sorted(entries))
        if reason:
            dim = int(matrix.shape[1]) if keys else 0
            self._index, self.kind = new_index(max(dim, 1), len(keys))
            self.model, self.dim, self.keys = model_tag, dim, []
        if keys:
            self._index.add(_normalise(matrix))
            self.keys.extend(keys)
        if reason or keys:
            self.save()
        return SyncResult(len(self.keys), len(keys), bool(reason), reason)

    def search(self, vector: np.ndarray, k: int = DEFAULT_K, exclude: set[Key] | None = None
               ) -> list[tuple[Key, float]]:
        """((source, fid), cosine similarity) of the k nearest indexed entries, most similar first."""
        if self._index is None or not self.keys:
            return []
        q = _normalise(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        if q.shape[1] != self.dim:
            raise RetrievalError(f"query embedding has {q.shape[1]} values; the index holds {self.dim}")
        extra = len(exclude or ())
        sims, idx = self._index.search(q, min(len(self.keys), k + extra))
        out = [(self.keys[i], float(s)) for s, i in zip(sims[0], idx[0], strict=True)
               if i >= 0 and self.keys[i] not in (exclude or ())]
        return out[:k]


def exact_search(matrix: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The numpy reference: (indices, similarities) of the top k by cosine similarity."""
    m = _normalise(matrix)
    q = _normalise(np.asarray(query, dtype=np.float32).reshape(1, -1))[0]
    sims = m @ q
    k = min(k, len(sims))
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top], kind="stable")]
    return top, sims[top]


def neighbours_for_photo(store: Store, index: RetrievalIndex, media_fid: int, k: int = DEFAULT_K
                         ) -> list[Neighbour]:
    """The k nearest trusted photos and references of one photo (never itself nor photos of its
    own post)."""
    if index.model is None:
        raise RetrievalError("the retrieval index is empty; build it first")
    fids, matrix = sql.load_embeddings(store, index.model, [media_fid])
    if not len(fids):
        raise RetrievalError(f"media {media_fid} has no {index.model} embedding; run the embedding step first")
    own_post = store.query("SELECT post_fid FROM media WHERE fid = ?", (media_fid,))
    same_post = {int(r[0]) for r in store.query("SELECT fid FROM media WHERE post_fid = ?",
                                                 (own_post[0][0],))} if own_post else {media_fid}
    hits = index.search(matrix[0], k, exclude={(PHOTO, fid) for fid in same_post})
    entries = indexable(store, index.model, [key for key, _ in hits])
    out = []
    for (source, fid), sim in hits:
        if (source, fid) in entries:
            post_fid, lon, lat, acc = entries[(source, fid)]
            if source == PHOTO:
                out.append(Neighbour(fid, post_fid, lon, lat, sim, acc))
            else:
                out.append(Neighbour(None, None, lon, lat, sim, acc, REFERENCE, fid))
    return out


def neighbour_weights(neighbours: list[Neighbour], temperature: float = SIMILARITY_TEMPERATURE) -> np.ndarray:
    """Softmax of the cosine similarities at `temperature`, summing to 1: a neighbour 0.1 less
    similar than the best weighs e^-2 as much (raw similarities of one backbone all sit near each
    other, so they would weigh a wrong place almost as much as the right one)."""
    s = np.array([n.similarity for n in neighbours], dtype=np.float64)
    w = np.exp((s - s.max()) / temperature)
    return w / w.sum()


@dataclass
class ProbabilityGrid:
    probability: np.ndarray  # rows north to south, sums to 1
    x0: float  # west edge (metres, local UTM)
    y0: float  # north edge
    cell_m: float
    epsg: int

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = self.probability.shape
        xs = self.x0 + (np.arange(cols) + 0.5) * self.cell_m
        ys = self.y0 - (np.arange(rows) + 0.5) * self.cell_m
        return np.meshgrid(xs, ys)


def probability_grid(neighbours: list[Neighbour], sigma_m: float = KERNEL_SIGMA_M) -> tuple[ProbabilityGrid,
                                                                                             LocalMetric]:
    """Similarity-weighted Gaussian kernels over the neighbours' positions in the local UTM zone."""
    if not neighbours:
        raise RetrievalError("no neighbours: the index holds no photo with a trusted location")
    w = neighbour_weights(neighbours)
    lon0 = float(np.dot(w, [n.lon for n in neighbours]))
    lat0 = float(np.dot(w, [n.lat for n in neighbours]))
    metric = LocalMetric(lon0, lat0)
    xy = np.array([metric._fwd.transform(n.lon, n.lat) for n in neighbours], dtype=np.float64)
    # Scott's rule for a 2-D kernel density: neighbours that disagree widen every kernel, so a
    # spread-out set gives a flat raster and a large radius, never a confident point.
    centre = w @ xy
    spread = math.sqrt(float(w @ ((xy - centre) ** 2).sum(axis=1)) / 2.0)
    bandwidth = max(sigma_m, spread * len(neighbours) ** (-1.0 / 6.0))
    sig = np.array([max(bandwidth, float(n.accuracy_m or 0.0)) for n in neighbours])
    pad = 3.0 * float(sig.max())
    xmin, ymin = xy.min(axis=0) - pad
    xmax, ymax = xy.max(axis=0) + pad
    cell = max(MIN_CELL_M, max(xmax - xmin, ymax - ymin) / MAX_GRID_CELLS)
    cols = int(math.ceil((xmax - xmin) / cell))
    rows = int(math.ceil((ymax - ymin) / cell))
    grid = ProbabilityGrid(np.zeros((rows, cols)), float(xmin), float(ymin + rows * cell), cell, metric.epsg)
    gx, gy = grid.centres()
    for (x, y), wi, si in zip(xy, w, sig, strict=True):
        kern = np.exp(-((gx - x) ** 2 + (gy - y) ** 2) / (2.0 * si * si)) / (2.0 * math.pi * si * si)
        grid.probability += wi * kern
    grid.probability /= grid.probability.sum()
    return grid, metric


def estimate_from_grid(grid: ProbabilityGrid, mass: float = MASS) -> tuple[float, float, float]:
    """(x, y, radius): the probability-weighted mean and the radius around it holding `mass`."""
    gx, gy = grid.centres()
    p = grid.probability
    x, y = float((p * gx).sum()), float((p * gy).sum())
    d = np.hypot(gx - x, gy - y).ravel()
    order = np.argsort(d, kind="stable")
    cum = np.cumsum(p.ravel()[order])
    i = int(np.searchsorted(cum, mass))
    return x, y, float(d[order[min(i, len(order) - 1)]] + grid.cell_m / 2.0)


def write_geotiff(grid: ProbabilityGrid, path: str | Path) -> str:
    from osgeo import gdal, osr

    rows, cols = grid.probability.shape
    ds = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, 1, gdal.GDT_Float32,
                                              options=["COMPRESS=DEFLATE"])
    if ds is None:
        raise RetrievalError(f"cannot write the probability raster {path}: {gdal.GetLastErrorMsg()}")
    ds.SetGeoTransform((grid.x0, grid.cell_m, 0.0, grid.y0, 0.0, -grid.cell_m))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(grid.epsg)
    ds.SetProjection(srs.ExportToWkt())
    band = ds.GetRasterBand(1)
    band.WriteArray(grid.probability.astype(np.float32))
    band.SetDescription("location probability")
    ds.FlushCache()
    ds = None
    return str(path)


def estimate_location(neighbours: list[Neighbour], raster_path: str | Path | None = None,
                      sigma_m: float = KERNEL_SIGMA_M) -> LocationEstimate:
    """Point estimate, 68% radius and (optionally) the probability GeoTIFF from the neighbours."""
    grid, metric = probability_grid(neighbours, sigma_m)
    x, y, radius = estimate_from_grid(grid)
    lon, lat = metric._inv.transform(x, y)
    written = write_geotiff(grid, raster_path) if raster_path else None
    return LocationEstimate(float(lon), float(lat), radius, grid.epsg, list(neighbours), written)


@dataclass
class CandidateArea:
    """Where LSGL looks for candidate references: a point and a radius, and why."""
    lon: float
    lat: float
    radius_m: float
    source: str  # "retrieval", "text+retrieval" or "text"
    similarity: float | None = None


NEIGHBOUR_AREA_M = 100.0  # references this close to a neighbour's position are its candidates


def combine_with_text(neighbours: list[Neighbour], coarse: CoarseLocation | None,
                      area_m: float = NEIGHBOUR_AREA_M) -> list[CandidateArea]:
    """Candidate areas for LSGL. No place in the text: one area per neighbour, by similarity.
    A place: the neighbours inside its radius, re-ranked by similarity; none inside: the place."""
    from ..geodesy import haversine_m

    ranked = sorted(neighbours, key=lambda n: -n.similarity)
    if coarse is None:
        return [CandidateArea(n.lon, n.lat, area_m, "retrieval", n.similarity) for n in ranked]
    inside = [n for n in ranked
              if float(haversine_m(coarse.lon, coarse.lat, n.lon, n.lat)) <= coarse.radius_m]
    if inside:
        return [CandidateArea(n.lon, n.lat, area_m, "text+retrieval", n.similarity) for n in inside]
    return [CandidateArea(coarse.lon, coarse.lat, coarse.radius_m, "text")]


def candidate_references(store: Store, areas: list[CandidateArea], limit: int) -> list[ReferenceRow]:
    """References inside the areas, in the areas' order (nearest first within one), each once,
    at most `limit`."""
    from ..store.geoloc_sql import references_near

    seen: set[int] = set()
    out: list[ReferenceRow] = []
    for area in areas:
        for ref, _ in references_near(store, area.lon, area.lat, area.radius_m):
            if ref.fid not in seen:
                seen.add(ref.fid)
                out.append(ref)
                if len(out) >= limit:
                    return out
    return out


def image_model_tag(store: Store, model_tag: str | None = None) -> str:
    """The embedding model to index: the one given, else the store's only one."""
    models = sql.embedding_models(store)
    if model_tag:
        if model_tag not in models:
            raise RetrievalError(f"the store has no {model_tag} embeddings (it has: {', '.join(models) or 'none'})")
        return model_tag
    if len(models) != 1:
        raise RetrievalError("choose the image embedding model to index; the store has "
                             f"{', '.join(models) or 'no embeddings (run the embedding step first)'}")
    return next(iter(models))


@dataclass
class RetrievalRun:
    model: str
    sync: SyncResult
    estimates: dict[int, LocationEstimate] = field(default_factory=dict)  # media fid -> estimate
    skipped: dict[int, str] = field(default_factory=dict)  # media fid -> reason


def unlocated_photos(store: Store, model_tag: str) -> list[int]:
    """Media fids of photos with this model's embedding whose post has no location."""
    rows = store.query("SELECT m.fid FROM media m JOIN posts p ON p.fid = m.post_fid JOIN embeddings e "
                       "ON e.media_fid = m.fid WHERE e.model = ? AND p.geom IS NULL ORDER BY m.fid", (model_tag,))
    return [int(r[0]) for r in rows]


def locate_by_retrieval(store: Store, model_tag: str | None = None, media_fids: list[int] | None = None,
                        k: int = DEFAULT_K, raster_dir: str | Path | None = None,
                        is_cancelled=None) -> RetrievalRun:
    """Sync the index, then estimate a location for each photo (default: every unlocated photo).
    A photo that cannot be placed is a counted skip with its reason, never an abort."""
    if k < 1:
        raise RetrievalError("k must be at least 1")
    tag = image_model_tag(store, model_tag)
    index = RetrievalIndex(index_base(store))
    run = RetrievalRun(tag, index.sync(store, tag))
    if raster_dir is not None:
        Path(raster_dir).mkdir(parents=True, exist_ok=True)
    for fid in media_fids if media_fids is not None else unlocated_photos(store, tag):
        if is_cancelled is not None and is_cancelled():
            break
        try:
            near = neighbours_for_photo(store, index, fid, k)
            if not near:
                run.skipped[fid] = "no indexed photo with a trusted location"
                continue
            raster = Path(raster_dir) / f"retrieval_media_{fid}.tif" if raster_dir is not None else None
            run.estimates[fid] = estimate_location(near, raster)
        except RetrievalError as exc:
            run.skipped[fid] = str(exc)
    return run


def run_summary(run: RetrievalRun) -> dict:
    """A JSON-ready summary: per photo the estimate, radius, raster and the neighbours."""
    return {
        "model": run.model, "indexed": run.sync.indexed, "added": run.sync.added, "rebuilt": run.sync.rebuilt,
        "rebuild_reason": run.sync.reason, "placed": len(run.estimates), "skipped": len(run.skipped),
        "photos": [{"media_fid": fid, "lon": e.lon, "lat": e.lat, "radius_m": round(e.radius_m, 1),
                    "raster": e.raster_path,
                    "neighbours": [{"source": n.source, "media_fid": n.media_fid, "post_fid": n.post_fid,
                                    "ref_fid": n.ref_fid, "similarity": round(n.similarity, 4)}
                                   for n in e.neighbours]}
                   for fid, e in run.estimates.items()],
        "skips": [{"media_fid": fid, "reason": reason} for fid, reason in run.skipped.items()],
    }
