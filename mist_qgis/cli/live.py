"""The `watch` verb: watch files, folders and feeds until stopped (`mist:watch`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core import options
from ..core.geodesy import extent_text
from ..core.live.watch import DEFAULT_INTERVAL_S
from .common import CliError, Verb, add_store, existing, existing_file, existing_store, option


def watch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="+", metavar="SOURCE",
                        help="a JSON-lines file a collector appends to, a drop folder, or an http(s) feed URL")
    add_store(parser)
    option(parser, "--head", "HEAD", metavar="MODEL.onnx", help="the head or classifier that screens the photos")
    option(parser, "--threshold", "THRESHOLD", type=float, default=0.0, metavar="P",
           help="alert when the head's score for --alert-label is at least P (default 0: no score condition)")
    option(parser, "--alert-label", "ALERT_LABEL", default="flood", metavar="LABEL",
           help="the label the score is for (default flood)")
    option(parser, "--alert-area", "ALERT_AREA", metavar="FILE",
           help="area of interest: a polygon layer (GeoPackage, GeoJSON, shapefile ...)")
    option(parser, "--alert-extent", "ALERT_EXTENT", metavar="W,S,E,N",
           help="area of interest as an extent in degrees (longitude and latitude); with --alert-area, the part "
                "of its polygons inside the extent")
    option(parser, "--keywords", "KEYWORDS", metavar="K1,K2",
           help="alert only on posts that mention one of these words")
    option(parser, "--learn-every", "LEARN_EVERY", type=int, default=options.LIVE_LEARN_EVERY, metavar="N",
           help="retrain a head on embeddings every N new verdicts; the new version screens only if its "
                f"cross-validated F1 is not worse (default {options.LIVE_LEARN_EVERY}; 0: never)")
    option(parser, "--heads-folder", "HEADS_FOLDER", metavar="FOLDER",
           help="where the head's versions go (default: the profile's model folder, so the registry lists them)")
    option(parser, "--gazetteer", "GAZETTEER", metavar="LAYER",
           help="gazetteer layer (places, roads): posts without coordinates are placed from the names in their text")
    option(parser, "--name-field", "NAME_FIELD", default="name", metavar="FIELD", help="gazetteer name field")
    option(parser, "--photo-retries", "PHOTO_RETRIES", type=int, default=options.LIVE_PHOTO_RETRIES, metavar="N",
           help="tries again, with backoff, a photo whose fetch failed for a passing reason (timeout, 5xx, refused "
                f"connection), up to N times (default {options.LIVE_PHOTO_RETRIES})")
    option(parser, "--until", "UNTIL", metavar="TIME", help="stop at this ISO 8601 time (UTC unless it says)")
    option(parser, "--max-posts", "MAX_POSTS", type=int, default=0, metavar="N",
           help="stop after N records (default 0: run until stopped with Ctrl+C or SIGTERM)")
    option(parser, "--interval", "INTERVAL", type=float, default=DEFAULT_INTERVAL_S, metavar="S",
           help=f"seconds between polls (default {DEFAULT_INTERVAL_S:g})")
    parser.add_argument("--no-fetch", action="store_true", help="do not fetch the posts' photos")
    option(parser, "--allow-private-hosts", "ALLOW_PRIVATE_HOSTS", action="store_true",
           help="also read feeds and photos from loopback and private addresses")


def watch_parameters(args: argparse.Namespace) -> dict[str, Any]:
    store = existing_store(args)
    sources = []
    for spec in args.sources:
        if spec.lower().startswith(("http://", "https://")):
            sources.append(spec)
        elif Path(spec).expanduser().exists() or Path(spec).expanduser().parent.is_dir():
            sources.append(str(Path(spec).expanduser().resolve()))
        else:
            raise CliError(f"source {spec} is not a file, a folder or an http(s) URL")
    if not 0.0 <= args.threshold <= 1.0:
        raise CliError("--threshold must be between 0 and 1")
    if args.max_posts < 0 or args.interval <= 0 or args.learn_every < 0 or args.photo_retries < 0:
        raise CliError("--max-posts, --learn-every and --photo-retries must be at least 0 and --interval more than 0")
    return {
        "STORE": store, "SOURCES": "\n".join(sources),
        "HEAD": existing_file(args.head, "head") if args.head else "",
        "THRESHOLD": args.threshold, "ALERT_LABEL": args.alert_label,
        "ALERT_AREA": existing_file(args.alert_area, "alert area") if args.alert_area else None,
        "KEYWORDS": args.keywords or "", "UNTIL": args.until or "", "MAX_POSTS": args.max_posts,
        "INTERVAL": args.interval, "FETCH_MEDIA": not args.no_fetch, "ALLOW_PRIVATE_HOSTS": args.allow_private_hosts,
        "ALERT_EXTENT": _extent(args.alert_extent) if args.alert_extent else None,
        "LEARN_EVERY": args.learn_every, "HEADS_FOLDER": str(Path(args.heads_folder).expanduser().resolve())
        if args.heads_folder else "",
        "GAZETTEER": existing(args.gazetteer, "--gazetteer") if args.gazetteer else None,
        "NAME_FIELD": args.name_field, "PHOTO_RETRIES": args.photo_retries,
    }


def _extent(text: str) -> str:
    """W,S,E,N in degrees as Processing's extent text."""
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise CliError(f"--alert-extent {text} is not W,S,E,N in degrees") from exc
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise CliError(f"--alert-extent {text}: west must be less than east and south less than north, in degrees")
    return extent_text(west, south, east, north)


WATCH = Verb("watch", "watch files, drop folders and feeds: import, fetch, screen and alert as posts arrive",
             "mist:watch", watch_arguments, watch_parameters, runs_until_stopped=True)
