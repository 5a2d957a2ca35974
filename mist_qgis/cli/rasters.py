"""The raster verbs: `density`, `inundation`, `selo`, `evaluate-selo`."""

from __future__ import annotations

import argparse
from typing import Any

from ..core import options
from ..core.rasters.inundation import InundationParams
from .common import CliError, Verb, add_store, choice, existing, existing_store, option, output


def density_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the density raster(s)")
    choice(parser, "--kind", "KIND", options.DENSITY_KINDS,
           "all located posts, predicted flood (weighted by score) or verified flood")
    option(parser, "--flood-label", "FLOOD_LABEL", default="flood",
           help="the classifier's flood label (default: flood)")
    option(parser, "--radius", "RADIUS", type=float, default=500.0, help="kernel radius in metres (default 500)")
    option(parser, "--pixel", "PIXEL_SIZE", type=float, default=25.0, help="pixel size in metres (default 25)")
    choice(parser, "--slice", "SLICES", options.DENSITY_SLICES, "one raster per hour or day, time-aware")
    option(parser, "--cumulative", "CUMULATIVE", action="store_true",
           help="each slice holds every post up to its end")


def density_parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "STORE": existing_store(args), "KIND": args.kind, "FLOOD_LABEL": args.flood_label, "RADIUS": args.radius,
        "PIXEL_SIZE": args.pixel, "SLICES": args.slice, "CUMULATIVE": args.cumulative,
        "OUTPUT_FOLDER": output(args.out),
    }


def inundation_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = InundationParams()
    add_store(parser)
    parser.add_argument("--dem", required=True, help="DEM raster (with a CRS, north-up)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the depth raster and extent")
    choice(parser, "--method", "METHOD", options.INUNDATION_METHODS,
           "water surface between posts: inverse distance weighting or the nearest post")
    option(parser, "--max-distance", "MAX_DISTANCE", type=float, default=defaults.max_distance_m,
           help=f"ground metres from evidence, measured on the ellipsoid whatever the DEM's CRS "
                f"(default {defaults.max_distance_m:g})")
    option(parser, "--tolerance", "TOLERANCE", type=float, default=defaults.consistency_tolerance_m,
           help=f"consistency tolerance in metres (default {defaults.consistency_tolerance_m:g})")
    option(parser, "--neighbour-distance", "NEIGHBOUR_DISTANCE", type=float, default=defaults.neighbour_distance_m,
           help=f"posts closer than this are compared (default {defaults.neighbour_distance_m:g} m)")
    choice(parser, "--connectivity", "CONNECTIVITY", options.CONNECTIVITY,
           "water flows between cells sharing an edge (4) or also a corner (8)")
    option(parser, "--allow-deep", "ALLOW_DEEP", action="store_true", help="keep depths above 15 m with a warning")


def inundation_parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "STORE": existing_store(args), "DEM": existing(args.dem, "DEM"), "METHOD": args.method,
        "MAX_DISTANCE": args.max_distance, "TOLERANCE": args.tolerance,
        "NEIGHBOUR_DISTANCE": args.neighbour_distance, "CONNECTIVITY": args.connectivity,
        "ALLOW_DEEP": args.allow_deep, "OUTPUT_FOLDER": output(args.out),
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
    choice(parser, "--version", "VERSION", options.SELO_VERSIONS)
    option(parser, "--sizes", "SIZES", default="256,512,768", help="v1 window sizes (default 256,512,768)")
    parser.add_argument("--bands", default="", help="bands to read, e.g. 1,2,3 (default: the first three)")
    parser.add_argument("--cache-dir", help="window embedding cache folder")


def selo_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {
        "RASTER": existing(args.raster, "raster"), "IMAGE_MODEL": existing(args.image_model, "model"),
        "VERSION": args.version, "SIZES": args.sizes, "BANDS": args.bands,
        "CACHE_DIR": output(args.cache_dir) if args.cache_dir else "", "OUTPUT": output(args.out), "OVERLAY": True,
    }
    if args.text is not None:
        if not args.text_model:
            raise CliError("--text needs --text-model (the text encoder of the image encoder's model)")
        params.update(QUERY_KIND="text", TEXT=args.text, TEXT_MODEL=existing(args.text_model, "model"))
    elif args.photos:
        params.update(QUERY_KIND="photos", PHOTOS=[existing(p, "photo") for p in args.photos])
    elif args.store_photos:
        params.update(QUERY_KIND="store_photos", STORE=existing(args.store_photos, "store"))
    elif args.boxes:
        params.update(QUERY_KIND="boxes", BOXES=existing(args.boxes, "box layer"))
    else:
        params.update(QUERY_KIND="head", BOXES=existing(args.head, "box layer"), LABEL_FIELD=args.label_field)
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
        return {"ANNOTATIONS": existing(args.annotations, "annotations"),
                "PROBMAP_FOLDER": existing(args.probmap_dir, "probmap folder")}
    if not (args.probmap and args.regions):
        raise CliError("give --probmap and --regions, or --annotations and --probmap-dir")
    return {"PROBMAP": existing(args.probmap, "probability map"), "REGIONS": existing(args.regions, "regions"),
            "COORDINATES": "pixel" if args.pixel_coordinates else "map"}


DENSITY = Verb("density", "kernel density of posts (optionally per hour or day)", "mist:postdensity",
               density_arguments, density_parameters)
INUNDATION = Verb("inundation", "flood depth raster and extent from verified depths and a DEM", "mist:inundation",
                  inundation_arguments, inundation_parameters)
SELO = Verb("selo", "semantic localization map of an image for a text, exemplar or patch-head query", "mist:selo",
            selo_arguments, selo_parameters)
EVALUATE_SELO = Verb("evaluate-selo", "SLM metrics (Rsu, Ras, Rda, Rmi) of probability maps", "mist:evaluateselo",
                     evaluate_selo_arguments, evaluate_selo_parameters)
