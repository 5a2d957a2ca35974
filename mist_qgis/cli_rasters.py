"""Arguments of the raster verbs (`density`, `selo`, `evaluate-selo`, `inundation`) of the CLI.

Each pair maps the command line onto one `mist:` algorithm's parameters; cli.py lists the verbs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .cli_store import STORE_HELP, STORE_METAVAR


def _error(message: str) -> Exception:
    from .cli import CliError

    return CliError(message)


def _existing(path: str | None, what: str) -> str:
    if not path or not Path(path).exists():
        raise _error(f"{what} {path} does not exist")
    return str(Path(path).resolve())


def _store(value: str) -> str:
    from .cli_store import existing_store

    return existing_store(value)


def density_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the density raster(s)")
    parser.add_argument("--kind", choices=["all", "predicted", "verified"], default="all",
                        help="all located posts, predicted flood (weighted by score) or verified flood")
    parser.add_argument("--flood-label", default="flood", help="the classifier's flood label (default: flood)")
    parser.add_argument("--radius", type=float, default=500.0, help="kernel radius in metres (default 500)")
    parser.add_argument("--pixel", type=float, default=25.0, help="pixel size in metres (default 25)")
    parser.add_argument("--slice", choices=["hour", "day"], help="one raster per hour or day, time-aware")
    parser.add_argument("--cumulative", action="store_true", help="each slice holds every post up to its end")


def density_parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "STORE": _store(args.store), "KIND": ["all", "predicted", "verified"].index(args.kind),
        "FLOOD_LABEL": args.flood_label, "RADIUS": args.radius, "PIXEL_SIZE": args.pixel,
        "SLICES": [None, "hour", "day"].index(args.slice), "CUMULATIVE": args.cumulative,
        "OUTPUT_FOLDER": str(Path(args.out).resolve()),
    }


def selo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raster", required=True, help="georeferenced image (any GDAL raster)")
    parser.add_argument("--image-model", required=True, metavar="ONNX", help="image encoder with mist.* metadata")
    parser.add_argument("--out", required=True, metavar="MAP.tif", help="the probability map (GeoTIFF)")
    query = parser.add_mutually_exclusive_group(required=True)
    query.add_argument("--text", help="caption to localise (needs --text-model)")
    query.add_argument("--photos", nargs="+", metavar="PHOTO", help="exemplar photos")
    query.add_argument("--store-photos", metavar="STORE.gpkg", help="exemplars: the store's verified flood photos")
    query.add_argument("--boxes", metavar="LAYER", help="polygon layer of exemplar boxes drawn on the image")
    query.add_argument("--head", metavar="LAYER", help="polygon layer of labelled boxes to train a patch head")
    parser.add_argument("--text-model", metavar="ONNX", help="the text encoder of the same CLIP-style model")
    parser.add_argument("--label-field", default="label", help="label field of --head boxes (default: label)")
    parser.add_argument("--version", choices=["v1", "v2"], default="v1")
    parser.add_argument("--sizes", default="256,512,768", help="v1 window sizes (default 256,512,768)")
    parser.add_argument("--bands", default="", help="bands to read, e.g. 1,2,3 (default: the first three)")
    parser.add_argument("--cache-dir", help="window embedding cache folder")


def selo_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {
        "RASTER": _existing(args.raster, "raster"), "IMAGE_MODEL": _existing(args.image_model, "model"),
        "VERSION": ["v1", "v2"].index(args.version), "SIZES": args.sizes, "BANDS": args.bands,
        "CACHE_DIR": str(Path(args.cache_dir).resolve()) if args.cache_dir else "",
        "OUTPUT": str(Path(args.out).resolve()), "OVERLAY": True,
    }
    if args.text is not None:
        if not args.text_model:
            raise _error("--text needs --text-model (the text encoder of the image encoder's model)")
        params.update(QUERY_KIND=0, TEXT=args.text, TEXT_MODEL=_existing(args.text_model, "model"))
    elif args.photos:
        params.update(QUERY_KIND=1, PHOTOS=[_existing(p, "photo") for p in args.photos])
    elif args.store_photos:
        params.update(QUERY_KIND=2, STORE=_store(args.store_photos))
    elif args.boxes:
        params.update(QUERY_KIND=3, BOXES=_existing(args.boxes, "box layer"))
    else:
        params.update(QUERY_KIND=4, BOXES=_existing(args.head, "box layer"), LABEL_FIELD=args.label_field)
    return params


def evaluate_selo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--probmap", help="probability map (grey, 0-255)")
    parser.add_argument("--regions", help="polygon layer of the annotated regions")
    parser.add_argument("--pixel-coordinates", action="store_true",
                        help="the regions are in pixel coordinates (x = column, y = row), not map coordinates")
    parser.add_argument("--annotations", metavar="anno.json", help="SeLo test-set annotations (dataset mode)")
    parser.add_argument("--probmap-dir", metavar="DIR", help="folder of probmap_<index> files (dataset mode)")


def evaluate_selo_parameters(args: argparse.Namespace) -> dict[str, Any]:
    if args.annotations:
        return {"ANNOTATIONS": _existing(args.annotations, "annotations"),
                "PROBMAP_FOLDER": _existing(args.probmap_dir, "probmap folder")}
    if not (args.probmap and args.regions):
        raise _error("give --probmap and --regions, or --annotations and --probmap-dir")
    return {"PROBMAP": _existing(args.probmap, "probability map"), "REGIONS": _existing(args.regions, "regions"),
            "COORDINATES": 1 if args.pixel_coordinates else 0}


def inundation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)
    parser.add_argument("--dem", required=True, help="DEM raster (with a CRS, north-up)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the depth raster and extent")
    parser.add_argument("--method", choices=["idw", "nearest"], default="idw")
    parser.add_argument("--max-distance", type=float, default=500.0, help="metres from evidence (default 500)")
    parser.add_argument("--tolerance", type=float, default=0.5, help="consistency tolerance in metres (0.5)")
    parser.add_argument("--neighbour-distance", type=float, default=200.0,
                        help="posts closer than this are compared (default 200 m)")
    parser.add_argument("--connectivity", type=int, choices=[4, 8], default=4)
    parser.add_argument("--allow-deep", action="store_true", help="keep depths above 15 m with a warning")


def inundation_parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "STORE": _store(args.store), "DEM": _existing(args.dem, "DEM"),
        "METHOD": ["idw", "nearest"].index(args.method), "MAX_DISTANCE": args.max_distance,
        "TOLERANCE": args.tolerance, "NEIGHBOUR_DISTANCE": args.neighbour_distance,
        "CONNECTIVITY": [4, 8].index(args.connectivity), "ALLOW_DEEP": args.allow_deep,
        "OUTPUT_FOLDER": str(Path(args.out).resolve()),
    }
