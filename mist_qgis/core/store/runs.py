"""Runs whose process ended without finishing them (QGIS killed, a crash, a power cut).

Each run records the host and process that started it. When a store is opened for writing, a
run still marked running whose process is gone from this host is closed as failed, with what it
had committed, so the run report never shows a dead import as running forever. A run of another
host, or of a process that is alive (or whose number was reused), is left alone.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3

from ..stage import Status

INTERRUPTED = "interrupted: the process running it ended before it finished"


def this_process() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


def process_alive(pid: int) -> bool:
    """Whether a process with this number exists on this host (True when that cannot be told)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only existence and permission are checked
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def _windows_process_alive(pid: int) -> bool:
    import ctypes

    query_limited_information, still_active = 0x1000, 259
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


def interrupted_runs(conn: sqlite3.Connection) -> list[int]:
    """The runs of this host still marked running whose process has ended."""
    if "pid" not in {row[1] for row in conn.execute("PRAGMA table_info(runs)")}:
        return []  # a store kept at an older schema version (migration tests)
    host, _ = this_process()
    candidates = conn.execute(
        "SELECT fid, pid FROM runs WHERE status = ? AND host = ? AND pid IS NOT NULL", (Status.RUNNING, host)
    ).fetchall()
    return [fid for fid, pid in candidates if not process_alive(int(pid))]


def close_interrupted_runs(conn: sqlite3.Connection, fids: list[int]) -> None:
    """Mark these runs failed, with the posts and issues they committed (in the caller's
    transaction)."""
    for fid in fids:
        posts = conn.execute("SELECT count(*) FROM posts WHERE import_run = ?", (fid,)).fetchone()[0]
        issues = conn.execute("SELECT count(*) FROM issues WHERE run_fid = ?", (fid,)).fetchone()[0]
        counts = {"posts_committed": posts, "issues_committed": issues}
        message = INTERRUPTED + (f"; {posts} posts were committed: import the same files again to complete it"
                                 if posts else "")
        conn.execute(
            "UPDATE runs SET status = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), "
            "counts = ?, message = ? WHERE fid = ? AND status = ?",
            (Status.FAILED, json.dumps(counts, sort_keys=True), message, fid, Status.RUNNING),
        )
