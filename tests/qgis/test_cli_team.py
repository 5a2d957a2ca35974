"""`push` and `checkout` from the command line, into and out of a team store on PostgreSQL
(GeoPackage to GeoPackage is covered without the CLI in tests/unit/test_sync.py)."""

import json
from datetime import UTC, datetime, timedelta

from mist_qgis.core.posts import PostRecord
from mist_qgis.core.store import open_store
from mist_qgis.core.verify.records import Verdict
from mist_qgis.core.verify.verdicts import write_verdict
from tests.helpers.cli import run_cli as _cli


def test_push_twice_then_check_out_a_window(pg_store_url, tmp_path):
    store_path = pg_store_url
    t0 = datetime(2021, 7, 20, 8, 0, tzinfo=UTC)
    field = tmp_path / "field.gpkg"
    with open_store(field) as store:
        with store.batch() as conn:
            store.add_posts(conn, [PostRecord(f"p{i}", "weibo", 113.60 + 0.01 * i, 34.7,
                                              timestamp=t0 + timedelta(hours=i)) for i in range(5)])
        write_verdict(store, Verdict(store.scalar("SELECT fid FROM posts WHERE post_id = 'p3'"), "flood", "ana"))
    created = _cli("init", "--store", str(store_path))
    assert created.returncode == 0, created.stderr
    first = _cli("push", str(field), "--store", str(store_path))
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["result"]["posts_added"] == 5
    again = json.loads(_cli("push", str(field), "--store", str(store_path)).stdout)["result"]
    assert (again["posts_added"], again["verdicts_added"], again["posts_known"]) == (0, 0, 5)
    out = tmp_path / "laptop.gpkg"
    done = _cli("checkout", "--store", str(store_path), "--out", str(out), "--extent", "113.615,34,113.9,35",
                "--since", "2021-07-20T10:00Z", "--until", "2021-07-20 12:00")
    assert done.returncode == 0, done.stderr
    with open_store(out) as laptop:
        assert sorted(r[0] for r in laptop.query("SELECT post_id FROM posts")) == ["p2", "p3"]
        assert laptop.scalar("SELECT verified_by FROM posts WHERE post_id = 'p3'") == "ana"
    bad = _cli("checkout", "--store", str(store_path), "--out", str(tmp_path / "x.gpkg"), "--since", "yesterday-ish")
    assert bad.returncode == 2 and "--since takes a time" in bad.stderr and "Traceback" not in bad.stderr


def test_a_password_in_the_store_argument_is_refused(pg_cluster, tmp_path):
    secret = "pw-in-url-7781"
    out = _cli("info", "--store", pg_cluster.url(user="someone", password=secret))
    assert out.returncode == 2 and "~/.pgpass" in out.stderr and secret not in out.stderr + out.stdout
    assert len(out.stderr.strip().splitlines()) == 1
