"""Hostile, SQL-looking text through every write path reaches the database only as a bound
parameter: it is stored and read back verbatim, and every table is still there. Runs on both
backends (the team store translates statements, so placeholder-looking text matters there)."""

from __future__ import annotations

import json

from mist_qgis.core.posts.importer import import_posts
from mist_qgis.core.store import media as media_sql
from mist_qgis.core.store import models_sql
from mist_qgis.core.store.media import MediaResult
from mist_qgis.core.verify.queue import Queue
from mist_qgis.core.verify.records import QueueFilter, Verdict
from mist_qgis.core.verify.team import next_post
from mist_qgis.core.verify.verdicts import write_verdict

HOSTILE = [
    "'); DROP TABLE posts; --",
    "Robert'); DELETE FROM verifications WHERE ('1' = '1",
    "%s %(text)s ? ?1 :name $1 %% 100%",
    "$$; DROP TABLE media; $$ \\' \\\\ \" ;",
    "水浸街 '; TRUNCATE runs CASCADE; --",
]
TABLES = ("posts", "media", "runs", "issues", "verifications", "predictions", "mist_meta", "leases")


def test_sql_looking_text_is_stored_verbatim_everywhere(store, tmp_path):
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps({
        "id": 500 + i, "id_str": str(500 + i), "text": text, "created_at": "Tue Jul 20 08:00:00 +0000 2021",
        "user": {"screen_name": text}, "coordinates": {"type": "Point", "coordinates": [113.6, 34.7]},
        "entities": {"media": [{"media_url_https": f"https://img.example/{i}.jpg?q={text}"}]},
    }) + "\n" for i, text in enumerate(HOSTILE)) + "{not json: '); DROP TABLE posts; --\n", encoding="utf-8")
    summary = import_posts(store, [path])
    assert (summary.imported, summary.skipped) == (len(HOSTILE), 1)
    stored = [r[0] for r in store.query("SELECT text FROM posts ORDER BY post_id")]
    assert stored == HOSTILE
    fids = [r[0] for r in store.query("SELECT fid FROM posts ORDER BY post_id")]
    media = [r[0] for r in store.query("SELECT fid FROM media ORDER BY post_fid")]

    post = next_post(store, HOSTILE[0][:40])
    assert post is not None and store.scalar("SELECT analyst FROM leases") == HOSTILE[0][:40]
    for i, text in enumerate(HOSTILE):
        write_verdict(store, Verdict(fids[i], "flood", f"ana {text}"[:60], media[i], note=text))
        run = store.start_run(text, {"note": text, text: 1})
        with store.batch() as conn:
            store.record_issues(conn, run, text, [(text, i, text)])
            media_sql.write_results(conn, [MediaResult(media[i], "failed", error=text)])
            models_sql.write_predictions(conn, [(media[i], text, text, 0.5, run)])
        store.finish_run(run, "done", {"n": i}, message=text)
        store.set_meta(f"note:{text}", text)
        assert store.get_meta(f"note:{text}") == text

    assert [r[0] for r in store.query("SELECT note FROM verifications ORDER BY fid")] == HOSTILE
    assert [r[0] for r in store.query("SELECT error FROM media ORDER BY post_fid")] == HOSTILE
    assert [r[0] for r in store.query("SELECT reason FROM issues WHERE stage <> 'import' ORDER BY fid")] == HOSTILE
    assert [r[0] for r in store.query("SELECT message FROM runs WHERE kind <> 'import' ORDER BY fid")] == HOSTILE
    assert [r[0] for r in store.query("SELECT label FROM predictions ORDER BY fid")] == HOSTILE
    for text in HOSTILE:  # the verification queue's text filter binds it too
        hits = Queue(store, QueueFilter(text=text.split()[0], hide_duplicates=False)).reader().fetch(50)
        assert any(row.text == text for row in hits)
    for table in TABLES:
        assert store.count(table) > 0, table
