"""The `--store` argument of the CLI verbs: a GeoPackage path or a team store's PostgreSQL
connection (`postgresql://...`, `service=NAME`), checked in one place."""

from __future__ import annotations

from pathlib import Path

STORE_METAVAR = "STORE"
STORE_HELP = "the MIST store: a .gpkg file, or a team store (postgresql://... or service=NAME)"


def store_target(value: str) -> str:
    """The store as Processing receives it: a team store's connection unchanged, a file resolved."""
    from .core.store.pg import is_postgres_target

    return value.strip() if is_postgres_target(value) else str(Path(value).expanduser().resolve())


def existing_store(value: str) -> str:
    """`store_target` of a store that must exist already (a team store is checked when opened)."""
    from .cli import CliError
    from .core.store.pg import is_postgres_target

    if is_postgres_target(value):
        return value.strip()
    if not Path(value).is_file():
        raise CliError(f"store {value} does not exist (create it with: python -m mist_qgis init --store {value})")
    return store_target(value)


def describe(value: str) -> str:
    """The store as printed (a team store without its password)."""
    from .core.store.pg import is_postgres_target, redact

    return redact(value) if is_postgres_target(value) else value
