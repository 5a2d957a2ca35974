"""Arguments of `import-verifications`: mapped onto `mist:importverifications`; cli.py lists the verb."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .cli_store import STORE_HELP, STORE_METAVAR


def _error(message: str) -> Exception:
    from .cli import CliError

    return CliError(message)


def import_verifications_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)
    parser.add_argument("--analyst", help="analyst for rows whose analyst column is empty")
    parser.add_argument("--platform", help="platform of the post ids, when ids repeat across platforms")
    parser.add_argument("table", metavar="VERDICTS.csv",
                        help="post_id, verdict, water_depth_m, analyst, note (optional: platform)")


def import_verifications_parameters(args: argparse.Namespace) -> dict[str, Any]:
    from .cli_store import existing_store

    store, table = existing_store(args.store), Path(args.table)
    if not table.is_file():
        raise _error(f"verdicts table {table} does not exist")
    return {"STORE": store, "INPUT": str(table.resolve()), "ANALYST": args.analyst or "",
            "PLATFORM": args.platform or ""}
