"""`mist:importverifications` and the CLI verb `import-verifications` on a real store."""

from __future__ import annotations

import json

import processing
import pytest
from qgis.core import QgsProcessingException

from mist_qgis import cli
from mist_qgis.core.posts.record import PostRecord
from mist_qgis.core.store import open_store


@pytest.fixture
def posts_store(tmp_path):
    path = tmp_path / "store.gpkg"
    with open_store(path) as store, store.batch() as conn:
        store.add_posts(conn, [PostRecord("7001", "twitter", 113.66, 34.75, "street flooded"),
                               PostRecord("7002", "twitter", 113.67, 34.75, "all dry")])
    return path


def test_algorithm_writes_verdicts_and_reports_bad_rows(posts_store, tmp_path):
    table = tmp_path / "verdicts.csv"
    table.write_text("post_id,verdict,water_depth_m,analyst,note\n7001,flood,0.8,,knee\n7002,not_flood,,,\n"
                     "7003,flood,,,\n", encoding="utf-8")
    result = processing.run("mist:importverifications", {"STORE": str(posts_store), "INPUT": str(table),
                                                         "ANALYST": "field-team"})
    assert (result["WRITTEN"], result["SKIPPED"]) == (2, 1)
    data = json.loads(result["RESULT"])
    assert data["verdict_counts"] == {"flood": 1, "not_flood": 1}
    assert "not in the store" in data["issues"][0]["reason"]
    with open_store(posts_store) as store:
        rows = store.query("SELECT post_id, verified, verified_by, water_depth_m FROM posts ORDER BY post_id")
    assert [tuple(r) for r in rows] == [("7001", "flood", "field-team", 0.8), ("7002", "not_flood", "field-team", None)]


def test_algorithm_refuses_a_table_without_the_needed_columns(posts_store, tmp_path):
    table = tmp_path / "other.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(QgsProcessingException, match="needs the columns post_id and verdict"):
        processing.run("mist:importverifications", {"STORE": str(posts_store), "INPUT": str(table)})


def test_cli_verb_prints_one_json_object(posts_store, tmp_path, capsys):
    table = tmp_path / "verdicts.csv"
    table.write_text("post_id,verdict,water_depth_m,analyst\n7001,flood,waist,ana\n", encoding="utf-8")
    assert cli.main(["import-verifications", "--store", str(posts_store), str(table)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["written"] == 1 and out["result"]["verdict_counts"] == {"flood": 1}
    assert cli.main(["import-verifications", "--store", str(tmp_path / "missing.gpkg"), str(table)]) == 2
    assert "does not exist" in capsys.readouterr().err
