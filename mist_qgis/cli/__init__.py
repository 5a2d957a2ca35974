"""The headless CLI: `python -m mist_qgis VERB ...` (see `main`).

Layout: `common` holds what every verb shares (the Verb record, `--store`, the path checks, the
user-error class); one module per area of verbs (store, posts, media, models, verify, geoloc,
rasters) defines its Verb records; `main` lists them in workflow order, parses and runs.
"""

from __future__ import annotations

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError, Verb
from .main import VERBS, build_parser, main, run_verb

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "VERBS", "CliError", "Verb", "build_parser", "main", "run_verb"]
