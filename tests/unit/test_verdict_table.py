"""Verdicts from a CSV table: valid rows land as post-level verdicts, hostile rows are reported
and skipped, and importing the same file twice writes nothing twice."""

from __future__ import annotations

import pytest

from mist_qgis.core.posts.record import MediaRef, PostRecord
from mist_qgis.core.store.models_sql import verified_media
from mist_qgis.core.verify.records import VerdictError
from mist_qgis.core.verify.verdict_table import import_verdict_table, parse_table_depth


def _posts(store) -> dict[str, int]:
    records = [
        PostRecord("1001", "twitter", 113.66, 34.75, "flooded street", media=[MediaRef(url="https://x.test/a.jpg")]),
        PostRecord("1002", "twitter", 113.661, 34.751, "dry cafe"),
        PostRecord("2001", "twitter", None, None, "same id on two platforms"),
        PostRecord("2001", "weibo", None, None, "same id on two platforms"),
    ]
    with store.batch() as conn:
        store.add_posts(conn, records)
    rows = store.query("SELECT fid, post_id, platform FROM posts")
    return {f"{r['platform']}:{r['post_id']}": r["fid"] for r in rows}


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_rows_are_written_as_post_verdicts_and_bad_rows_reported(store, tmp_path):
    fids = _posts(store)
    table = _write(tmp_path / "v.csv", "\ufeffpost_id,verdict,water_depth_m,analyst,note\n"
                   "1001,flood,50 cm,ana,knee-deep\n"
                   "1002,Not Flood,,ana,\n"
                   "9999,flood,0.3,ana,unknown post\n"
                   "1001,flood,-2,ana,negative depth\n"
                   "1002,not_flood,0.4,ana,depth on a dry photo\n"
                   "1001,maybe,,ana,unknown verdict\n"
                   ",flood,,ana,no id\n"
                   "2001,unsure,,ana,ambiguous id\n"
                   "1002,flood,,,no analyst\n")
    summary = import_verdict_table(store, table)
    assert summary.rows_read == 9
    assert (summary.written, summary.skipped, summary.unchanged) == (2, 7, 0)
    reasons = {i["line"]: i["reason"] for i in summary.issues}
    assert "not in the store" in reasons[4]
    assert "outside" in reasons[5]
    assert "not flood" in reasons[6]
    assert "verdict must be one of" in reasons[7]
    assert reasons[8] == "no post id"
    assert "several platforms" in reasons[9]
    assert "analyst name is required" in reasons[10]
    rows = store.query("SELECT post_fid, media_fid, verdict, water_depth_m, analyst, note FROM verifications "
                       "ORDER BY fid")
    assert [tuple(r) for r in rows] == [(fids["twitter:1001"], None, "flood", 0.5, "ana", "knee-deep"),
                                        (fids["twitter:1002"], None, "not_flood", None, "ana", None)]
    post = store.query("SELECT verified, water_depth_m, verified_by FROM posts WHERE fid = ?", (fids["twitter:1001"],))
    assert tuple(post[0]) == ("flood", 0.5, "ana")
    issues = store.issues_for_run(summary.run_id)
    assert len(issues) == 7 and all(i["stage"] == "import_verdicts" for i in issues)
    assert store.runs("import_verdicts")[-1].counts == {"rows_read": 9, "written": 2, "unchanged": 0, "skipped": 7}


def test_post_verdict_counts_for_the_posts_fetched_photo(store, tmp_path):
    fids = _posts(store)
    with store.batch() as conn:
        conn.execute("UPDATE media SET status = 'ok', cache_path = 'ab/abc.jpg', sha256 = 'abc' WHERE post_fid = ?",
                     (fids["twitter:1001"],))
    import_verdict_table(store, _write(tmp_path / "v.csv", "post_id,verdict,water_depth_m,analyst\n"
                                                           "1001,flood,knee,ana\n"))
    (photo,) = verified_media(store)
    assert (photo.verdict, photo.water_depth_m) == ("flood", 0.5)


def test_importing_twice_writes_nothing_new_and_platform_column_disambiguates(store, tmp_path):
    _posts(store)
    table = _write(tmp_path / "v.tsv", "post_id\tverdict\tdepth\tplatform\n2001\tunsure\t\tweibo\n1001\tflood\t1.2\t\n")
    first = import_verdict_table(store, table, default_analyst="team-b")
    second = import_verdict_table(store, table, default_analyst="team-b")
    assert (first.written, first.skipped) == (2, 0)
    assert (second.written, second.unchanged, second.skipped) == (0, 2, 0)
    assert store.count("verifications") == 2
    assert store.scalar("SELECT platform FROM posts p JOIN verifications v ON v.post_fid = p.fid "
                        "WHERE v.verdict = 'unsure'") == "weibo"


def test_a_table_without_the_needed_columns_fails_clearly(store, tmp_path):
    _posts(store)
    with pytest.raises(VerdictError, match="post_id and verdict"):
        import_verdict_table(store, _write(tmp_path / "v.csv", "id_of_post,label_x\n1001,flood\n"))
    assert store.runs("import_verdicts")[-1].status == "failed"


@pytest.mark.parametrize(("text", "metres"), [("0.5", 0.5), ("0,5", 0.5), ("2", 2.0), ("30cm", 0.3),
                                              ("1.2 m", 1.2), ("waist", 1.0), ("", None)])
def test_table_depths_are_metres_never_class_numbers(text, metres):
    assert parse_table_depth(text) == metres


@pytest.mark.parametrize("text", ["deep", "nan", "inf", "-1", "31"])
def test_impossible_depths_are_refused(text):
    with pytest.raises(VerdictError):
        parse_table_depth(text)
