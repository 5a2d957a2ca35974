"""Arguments of `fetch-media`: mapped onto `mist:fetchmedia`; cli.py lists the verb."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .cli_store import STORE_HELP, STORE_METAVAR


def _error(message: str) -> Exception:
    from .cli import CliError

    return CliError(message)


def fetch_media_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)
    parser.add_argument("--offline", action="store_true",
                        help="never use the network: take media from --media-dir (by path, file name or post id)")
    parser.add_argument("--media-dir", metavar="DIR",
                        help="local media folder: the export's media root, or the drive a field team brought")
    parser.add_argument("--mapping-column", metavar="NAME",
                        help="posts column or attribute that names each post's file in --media-dir")
    parser.add_argument("--allow-private-hosts", action="store_true",
                        help="also fetch from loopback and private addresses (an intranet photo server)")
    parser.add_argument("--max-bytes", type=int, default=50 * 1024 * 1024, metavar="N",
                        help="largest file fetched, in bytes (default 50 MiB)")
    parser.add_argument("--max-run-bytes", type=int, default=0, metavar="N",
                        help="stop the run after this many bytes; the rest stays pending (default: no limit)")
    parser.add_argument("--workers", type=int, default=16, metavar="N", help="parallel downloads (default 16)")
    parser.add_argument("--retry", action="store_true", help="try media that failed or were skipped before again")
    parser.add_argument("--no-exif-locate", action="store_true",
                        help="do not place unlocated posts at their photo's EXIF GPS position")


def fetch_media_parameters(args: argparse.Namespace) -> dict[str, Any]:
    from .cli_store import existing_store

    store = existing_store(args.store)
    if args.offline and not args.media_dir:
        raise _error("--offline needs --media-dir (the folder that holds the photos)")
    if args.media_dir and not Path(args.media_dir).is_dir():
        raise _error(f"media folder {args.media_dir} does not exist")
    if args.max_bytes < 1 or args.max_run_bytes < 0:
        raise _error("--max-bytes must be at least 1 and --max-run-bytes at least 0")
    if not 1 <= args.workers <= 64:
        raise _error("--workers must be between 1 and 64")
    return {
        "STORE": store, "OFFLINE": args.offline,
        "MEDIA_DIR": str(Path(args.media_dir).resolve()) if args.media_dir else "",
        "MAPPING_COLUMN": args.mapping_column or "", "ALLOW_PRIVATE_HOSTS": args.allow_private_hosts,
        "MAX_BYTES": args.max_bytes, "MAX_RUN_BYTES": args.max_run_bytes, "WORKERS": args.workers,
        "RETRY": args.retry, "LOCATE_FROM_EXIF": not args.no_exif_locate,
    }
