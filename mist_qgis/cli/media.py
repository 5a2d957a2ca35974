"""The `fetch-media` verb: fetch, cache and vet every pending photo and video (`mist:fetchmedia`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core.images.fetcher import FetchLimits
from ..core.images.pipeline import FetchOptions
from .common import CliError, Verb, add_store, existing_store, option

MB = 1024 * 1024  # as in the fetch dialog's sizes (the algorithm takes MB, the CLI bytes)


def fetch_media_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    option(parser, "--offline", "OFFLINE", action="store_true",
           help="never use the network: take media from --media-dir (by path, file name or post id)")
    parser.add_argument("--media-dir", metavar="DIR",
                        help="local media folder: the export's media root, or the drive a field team brought")
    parser.add_argument("--mapping-column", metavar="NAME",
                        help="posts column or attribute that names each post's file in --media-dir")
    option(parser, "--allow-private-hosts", "ALLOW_PRIVATE_HOSTS", action="store_true",
           help="also fetch from loopback and private addresses (an intranet photo server)")
    parser.add_argument("--max-bytes", type=int, default=FetchLimits().max_bytes, metavar="N",
                        help="largest file fetched, in bytes (default 50 MiB)")
    parser.add_argument("--max-run-bytes", type=int, default=0, metavar="N",
                        help="stop the run after this many bytes; the rest stays pending (default: no limit)")
    option(parser, "--workers", "WORKERS", type=int, default=FetchOptions().workers, metavar="N",
           help=f"parallel downloads (default {FetchOptions().workers})")
    option(parser, "--retry", "RETRY", action="store_true", help="try media that failed or were skipped before again")
    parser.add_argument("--no-exif-locate", action="store_true",
                        help="do not place unlocated posts at their photo's EXIF GPS position")


def fetch_media_parameters(args: argparse.Namespace) -> dict[str, Any]:
    store = existing_store(args)
    if args.offline and not args.media_dir:
        raise CliError("--offline needs --media-dir (the folder that holds the photos)")
    if args.media_dir and not Path(args.media_dir).is_dir():
        raise CliError(f"media folder {args.media_dir} does not exist")
    if args.max_bytes < 1 or args.max_run_bytes < 0:
        raise CliError("--max-bytes must be at least 1 and --max-run-bytes at least 0")
    if not 1 <= args.workers <= 64:
        raise CliError("--workers must be between 1 and 64")
    return {
        "STORE": store, "OFFLINE": args.offline,
        "MEDIA_DIR": str(Path(args.media_dir).resolve()) if args.media_dir else "",
        "MAPPING_COLUMN": args.mapping_column or "", "ALLOW_PRIVATE_HOSTS": args.allow_private_hosts,
        "MAX_MB": args.max_bytes / MB, "MAX_RUN_MB": args.max_run_bytes / MB, "WORKERS": args.workers,
        "RETRY": args.retry, "LOCATE_FROM_EXIF": not args.no_exif_locate,
    }


FETCH_MEDIA = Verb("fetch-media", "fetch, cache and vet every pending photo and video (online or --offline)",
                   "mist:fetchmedia", fetch_media_arguments, fetch_media_parameters)
