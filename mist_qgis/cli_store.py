"""The `--store` argument of the CLI verbs: a GeoPackage path or a team store (`postgresql://...`,
`service=NAME`, or `qgis:NAME` for a PostgreSQL connection saved in QGIS), checked in one place."""

from __future__ import annotations

from pathlib import Path

STORE_METAVAR = "STORE"
STORE_HELP = "the MIST store: a .gpkg file, or a team store (postgresql://..., service=NAME or qgis:CONNECTION)"
QGIS_CONNECTION = "qgis:"


def store_target(value: str) -> str:
    """The store as Processing receives it: a team store's connection unchanged (never with a
    password in it: parameters are echoed and recorded), a file resolved."""
    from .cli import CliError
    from .core.store.pg import PASSWORD_IN_TARGET, has_password, is_postgres_target

    if value.startswith(QGIS_CONNECTION):
        return value
    if is_postgres_target(value):
        if has_password(value):
            raise CliError(PASSWORD_IN_TARGET)
        return value.strip()
    return str(Path(value).expanduser().resolve())


def existing_store(value: str) -> str:
    """`store_target` of a store that must exist already (a team store is checked when opened)."""
    from .cli import CliError
    from .core.store.pg import is_postgres_target

    if not (is_postgres_target(value) or value.startswith(QGIS_CONNECTION)) and not Path(value).is_file():
        raise CliError(f"store {value} does not exist (create it with: python -m mist_qgis init --store {value})")
    return store_target(value)
