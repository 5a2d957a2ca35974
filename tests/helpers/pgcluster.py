"""A throwaway PostgreSQL 15 + PostGIS cluster for tests, benchmarks and `make demo STORE=...`.

`initdb` in a temporary folder, a server listening only on a Unix socket in that folder (no TCP),
one database with the postgis extension, and everything stopped and removed at the end. Run as
root (sessions, CI), the server runs as the `postgres` user that Debian's package creates:
initdb refuses to run as root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_BIN = Path(os.environ.get("MIST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PORT = 5433  # only names the socket file: the server listens on no TCP address


def available() -> str | None:
    """None when a cluster can be started here, else why not."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL 15 is not installed ({PG_BIN}/initdb missing; run make setup)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    return None


@dataclass
class Cluster:
    root: Path
    socket_dir: Path
    user: str
    database: str = "mist"
    _admin: Any = field(default=None, repr=False, compare=False)  # the connection of `execute`

    def url(self, database: str | None = None, user: str | None = None, password: str | None = None,
            options: str | None = None) -> str:
        """A libpq URI on the Unix socket (host given as a query parameter)."""
        who = user or self.user
        if password:
            who += f":{password}"
        url = f"postgresql://{who}@/{database or self.database}?host={self.socket_dir}&port={PORT}"
        if options:
            url += f"&options={options}"
        return url

    def psql(self, sql: str, database: str | None = None) -> str:
        out = subprocess.run(
            [str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", str(self.socket_dir),
             "-p", str(PORT), "-U", self.user, "-d", database or self.database, "-c", sql],
            check=True, capture_output=True, text=True)
        return out.stdout

    def execute(self, sql: str) -> None:
        """Run SQL in the `mist` database over a connection the cluster keeps (for the many
        small statements of a test run, such as a schema per test: no psql process each)."""
        import psycopg

        if self._admin is None or self._admin.closed or self._admin.broken:
            self._admin = psycopg.connect(self.url(), autocommit=True)
        self._admin.execute(sql)

    def stop(self, mode: str = "fast") -> None:
        if self._admin is not None:
            self._admin.close()
        _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", mode, "-w", "stop"],
                  check=False)

    def start(self) -> None:
        _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-l", str(self.root / "server.log"),
                   "-w", "-t", "60", "start"])

    def remove(self) -> None:
        """Stop at once and delete everything. pg_ctl is not left waiting (up to a minute) for a
        server that a test had stopped or that still has backends to reap: the postmaster is
        killed outright, which a throwaway cluster can afford."""
        if self._admin is not None:
            self._admin.close()
        _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-W", "stop"],
                  check=False)
        _kill_postmaster(self.root / "data" / "postmaster.pid")
        shutil.rmtree(self.root, ignore_errors=True)


def listening_backends(store) -> set[int]:
    """The server processes of the cluster's LISTENing connections (none on a GeoPackage)."""
    if store.dialect != "postgresql":
        return set()
    return {r[0] for r in store.query("SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")}


def _kill_postmaster(pid_file: Path, grace_s: float = 5.0) -> None:
    """Wait briefly for the postmaster named in pid_file to exit, then SIGKILL it."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _owner() -> str:
    return "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def _as_owner(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def start_cluster() -> Cluster:
    """Create and start a cluster; the caller must `remove()` it."""
    reason = available()
    if reason:
        raise RuntimeError(reason)
    owner = _owner()
    root = Path(tempfile.mkdtemp(prefix="mist-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    cluster = Cluster(root, root, owner)
    try:
        _as_owner([str(PG_BIN / "initdb"), "-D", str(root / "data"), "-U", owner, "-A", "trust",
                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        conf = root / "data" / "postgresql.conf"
        with open(conf, "a", encoding="utf-8") as fh:
            fh.write(
                f"\nlisten_addresses = ''\nunix_socket_directories = '{root}'\nport = {PORT}\n"
                # no fsync: a killed server keeps what it committed (the OS has it), a lost machine
                # does not matter for a throwaway cluster
                "fsync = off\nfull_page_writes = off\n"
                "max_connections = 100\nshared_buffers = 128MB\n"
            )
        # trust on the socket for the owner only; every other role must give its password
        (root / "data" / "pg_hba.conf").write_text(
            f"local all {owner} trust\nlocal all all scram-sha-256\n", encoding="utf-8")
        cluster.start()
        cluster.psql("CREATE DATABASE mist", database="postgres")
        cluster.psql("CREATE EXTENSION postgis")
    except BaseException as exc:
        log = root / "server.log"
        detail = getattr(exc, "stderr", "") or (log.read_text() if log.exists() else "")
        cluster.remove()
        raise RuntimeError(f"cannot start a test PostgreSQL cluster: {exc} {detail}") from exc
    return cluster


def main() -> None:
    """`python -m tests.helpers.pgcluster -- CMD ...`: run CMD with MIST_TEST_PG set to a fresh
    cluster's URL, then remove the cluster."""
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    cluster = start_cluster()
    try:
        env = dict(os.environ, MIST_TEST_PG=cluster.url())
        code = subprocess.call([a.replace("{PG}", cluster.url()) for a in args], env=env) if args else 0
        if not args:
            print(cluster.url())
            while True:
                time.sleep(3600)
    finally:
        cluster.remove()
    sys.exit(code)


if __name__ == "__main__":
    main()
