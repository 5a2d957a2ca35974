"""`watch` as a real process: killed with SIGKILL mid-batch, restarted, stopped with SIGTERM; the
store ends with every line exactly once (posts or counted skips), nothing duplicated or lost. And
`watch` inside another program: its stop-on-signal handlers last only as long as the run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.helpers.cli import run_cli as _cli
from tests.live_kit import mixed_lines

TOTAL_POSTS = 6000
BAD_EVERY = 500  # one malformed line after every 500 tweets
KILLS = 2


def _count(store: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def _start(store: Path, stream: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mist_qgis", "watch", str(stream), "--store", str(store),
                             "--no-fetch", "--interval", "0.05"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, timeout: float = 120.0) -> bool:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def test_watch_killed_mid_batch_then_restarted_has_exact_totals(tmp_path: Path):
    store = tmp_path / "live.gpkg"
    assert _cli("init", "--store", str(store)).returncode == 0
    stream = tmp_path / "stream.jsonl"
    stream.write_text("")

    killed = [threading.Event() for _ in range(KILLS)]

    def append() -> None:  # a collector writing in chunks, sometimes half a line at a time
        with open(stream, "a") as fh:
            for i, start in enumerate(range(0, TOTAL_POSTS, BAD_EVERY)):
                if i and i % 4 == 0 and i // 4 <= KILLS:
                    killed[i // 4 - 1].wait(120)  # more data only once the watcher was killed again
                text = mixed_lines(start, BAD_EVERY) + '{"broken": \n'
                half = len(text) // 2 + 7
                fh.write(text[:half])
                fh.flush()
                time.sleep(0.2)
                fh.write(text[half:])
                fh.flush()
                time.sleep(0.3)

    writer = threading.Thread(target=append)
    writer.start()
    kills = 0
    try:
        for event in killed:  # kill it while the collector is still writing, again and again
            before = _count(store, "SELECT count(*) FROM posts")
            with _start(store, stream) as proc:
                _wait_for(lambda b=before: _count(store, "SELECT count(*) FROM posts") > b)
                time.sleep(0.1)  # somewhere inside the next batch or between two
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=30)
            kills += 1
            event.set()
    finally:
        for event in killed:
            event.set()
        writer.join()
    assert kills == KILLS
    total_lines = TOTAL_POSTS + TOTAL_POSTS // BAD_EVERY
    with _start(store, stream) as proc:
        assert _wait_for(lambda: _count(store, "SELECT count(*) FROM posts") == TOTAL_POSTS
                         and _count(store, "SELECT count(*) FROM issues WHERE stage = 'watch'")
                         == TOTAL_POSTS // BAD_EVERY)
        proc.send_signal(signal.SIGTERM)  # stops cleanly after the batch in hand
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["summary"]["status"] == "cancelled"
    assert _count(store, "SELECT count(DISTINCT post_id) FROM posts") == TOTAL_POSTS
    assert _count(store, "SELECT count(*) FROM issues WHERE stage = 'watch'") == TOTAL_POSTS // BAD_EVERY
    state = json.loads(_count(store, f"SELECT state FROM live_cursors WHERE source = '{stream.resolve()}'"))
    assert state["line"] == total_lines and state["offset"] == os.path.getsize(stream)


def test_watch_rejects_a_source_that_cannot_exist(tmp_path: Path):
    store = tmp_path / "live.gpkg"
    assert _cli("init", "--store", str(store)).returncode == 0
    out = _cli("watch", str(tmp_path / "no" / "such" / "file.jsonl"), "--store", str(store))
    assert out.returncode == 2 and "is not a file, a folder or an http(s) URL" in out.stderr


def _watch_until_three(tmp_path: Path):
    store, stream = tmp_path / "live.gpkg", tmp_path / "stream.jsonl"
    stream.write_text(mixed_lines(0, 5))
    assert _cli("init", "--store", str(store)).returncode == 0
    # --max-posts stops it after the batch that reaches 3: all 5 lines
    return _cli("watch", str(stream), "--store", str(store), "--no-fetch", "--interval", "0.05", "--max-posts", "3")


def test_watch_inside_a_program_gives_back_the_programs_signal_handlers(tmp_path: Path):
    """`run_cli` fails a run that leaves SIGINT or SIGTERM handled differently than before."""
    def handler(*_):
        pass

    old = signal.signal(signal.SIGTERM, handler)
    try:
        done = _watch_until_three(tmp_path)
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, old)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["summary"]["status"] == "done" and result["imported"] == 5


def test_watch_runs_in_a_programs_worker_thread(tmp_path: Path):
    """Only the main thread may set signal handlers; from another thread the verb runs without them."""
    done = []
    worker = threading.Thread(target=lambda: done.append(_watch_until_three(tmp_path)))
    worker.start()
    worker.join(300)
    assert done and done[0].returncode == 0, done and done[0].stderr
    result = json.loads(done[0].stdout)
    assert result["summary"]["status"] == "done" and result["imported"] == 5
