"""Team stores named by a PostgreSQL connection saved in QGIS (`qgis:NAME`).

The credentials stay in QGIS: a connection that uses an authentication configuration
(`authcfg`) has its user name and password read from QGIS's authentication manager at the
moment the store is opened, into memory only; layers get `authcfg=` in their source, never the
password. Needs QGIS (Processing, the docks, the CLI through its headless QGIS), so it lives
outside `core/`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .core.store import StoreError

PREFIX = "qgis:"
_KEYS = {"service": "service", "host": "host", "port": "port", "database": "dbname", "sslmode": "sslmode"}
_SSLMODES = {"0": "prefer", "1": "disable", "2": "allow", "3": "prefer", "4": "require", "5": "verify-ca",
             "6": "verify-full", "SslDisable": "disable", "SslAllow": "allow", "SslPrefer": "prefer",
             "SslRequire": "require", "SslVerifyCa": "verify-ca", "SslVerifyFull": "verify-full"}


def saved_connections() -> list[str]:
    """Names of the PostgreSQL connections saved in this QGIS profile."""
    from qgis.core import QgsSettings

    settings = QgsSettings()
    settings.beginGroup("PostgreSQL/connections")
    try:
        return sorted(settings.childGroups())
    finally:
        settings.endGroup()


def is_qgis_connection(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def store_target(value: str | os.PathLike[str]) -> str:
    """A store as it is recorded (project, settings, Processing parameters): a team store's
    connection (`qgis:NAME`, `postgresql://...`, `service=NAME`) as given, a file as an absolute
    path (Processing may run elsewhere)."""
    from .core.store.pg import is_postgres_target

    text = str(value)
    if is_qgis_connection(text):
        return text
    if is_postgres_target(text):
        return text.strip()
    return str(Path(text).expanduser().resolve())


def resolve(value: str) -> tuple[str, str | None]:
    """(conninfo to connect with, authcfg) of `qgis:NAME`. The conninfo may hold the password
    from the authentication manager: keep it in memory, never write it anywhere."""
    from psycopg.conninfo import make_conninfo
    from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsSettings

    name = value[len(PREFIX):]
    if name not in saved_connections():
        raise StoreError(f"QGIS has no PostgreSQL connection named {name!r}: add it in the Browser "
                         "(PostgreSQL, New Connection) or use service=NAME")
    settings = QgsSettings()
    base = f"PostgreSQL/connections/{name}/"
    parts: dict[str, str] = {}
    for key, libpq in _KEYS.items():
        text = str(settings.value(base + key, "") or "")
        if key == "sslmode":
            text = _SSLMODES.get(text, "")
        if text:
            parts[libpq] = text
    authcfg = str(settings.value(base + "authcfg", "") or "") or None
    if authcfg:
        config = QgsAuthMethodConfig()
        if not QgsApplication.authManager().loadAuthenticationConfig(authcfg, config, True):
            raise StoreError(f"QGIS cannot read the authentication configuration {authcfg} of connection {name!r}: "
                             "unlock the authentication database (master password) and try again")
        if config.config("username"):
            parts["user"] = config.config("username")
        if config.config("password"):
            parts["password"] = config.config("password")
    else:
        if settings.value(base + "saveUsername", False, type=bool) and settings.value(base + "username", ""):
            parts["user"] = str(settings.value(base + "username"))
        if settings.value(base + "savePassword", False, type=bool) and settings.value(base + "password", ""):
            parts["password"] = str(settings.value(base + "password"))
    return make_conninfo(**parts), authcfg


def open_store_target(value: str, create: bool = False, read_only: bool = False):
    """open_store for a path, a conninfo or `qgis:NAME`."""
    from .core.store import open_store

    if is_qgis_connection(value):
        conninfo, _ = resolve(value)
        return open_store(conninfo, create=create, read_only=read_only)
    return open_store(value, create=create, read_only=read_only)


def is_team_target(value: object) -> bool:
    """A team store's name (`qgis:NAME`, `postgresql://...`, `service=NAME`), not a file."""
    from .core.store.pg import is_postgres_target

    return is_qgis_connection(value) or is_postgres_target(value)


def display_name(value: str) -> str:
    """How a store is shown in a dock: a file's name, a team store's connection without password."""
    from .core.store.pg import redact

    if is_qgis_connection(value):
        return value
    if is_team_target(value):
        return redact(value)
    return Path(value).name
