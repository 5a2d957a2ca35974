"""Arguments of `import-verifications`: mapped onto `mist:importverifications`; cli.py lists the verb."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _error(message: str) -> Exception:
    from .cli import CliError

    return CliError(message)


def import_verifications_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar="STORE.gpkg", help="the MIST store")
    parser.add_argument("--analyst", help="analyst for rows whose analyst column is empty")
    parser.add_argument("--platform", help="platform of the post ids, when ids repeat across platforms")
    parser.add_argument("table", metavar="VERDICTS.csv",
                        help="post_id, verdict, water_depth_m, analyst, note (optional: platform)")


def import_verifications_parameters(args: argparse.Namespace) -> dict[str, Any]:
    store, table = Path(args.store), Path(args.table)
    if not store.is_file():
        raise _error(f"store {store} does not exist (create it with: python -m mist_qgis init --store {store})")
    if not table.is_file():
        raise _error(f"verdicts table {table} does not exist")
    return {"STORE": str(store.resolve()), "INPUT": str(table.resolve()), "ANALYST": args.analyst or "",
            "PLATFORM": args.platform or ""}
