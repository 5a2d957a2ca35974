"""The one stage runner: every way a stage ends closes its run, with the status and message."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from mist_qgis.core.errors import Cancelled, MistError
from mist_qgis.core.geoloc import candidates
from mist_qgis.core.geoloc.gazetteer import Gazetteer, GazetteerEntry
from mist_qgis.core.posts import PostRecord
from mist_qgis.core.stage import Monitor, Status, run_stage


def _run(store, kind):
    return next(r for r in store.runs(kind))


def test_a_stage_that_finishes_records_its_counts_and_message(store):
    with run_stage(store, "demo", {"a": 1}) as run:
        run.counts = {"done_items": 3}
        run.message = "three items"
    assert run.result.status is Status.DONE
    r = _run(store, "demo")
    assert (r.status, r.counts, r.message) == ("done", {"done_items": 3}, "three items")


def test_a_stage_that_raises_is_closed_as_failed_with_the_message(store):
    with pytest.raises(ZeroDivisionError), run_stage(store, "crash") as run:
        run.counts = {"before": 2}
        1 / 0  # noqa: B018
    r = _run(store, "crash")
    assert (r.status, r.counts, r.message) == ("failed", {"before": 2}, "ZeroDivisionError: division by zero")


def test_a_user_mistake_is_recorded_as_its_own_line(store):
    with pytest.raises(MistError), run_stage(store, "mistake"):
        raise MistError("the DEM has no CRS\nsecond line")
    assert _run(store, "mistake").message == "the DEM has no CRS"


def test_a_cancelled_stage_is_closed_as_cancelled(store):
    with pytest.raises(Cancelled), run_stage(store, "stopped", is_cancelled=lambda: True) as run:
        run.report(0.5)
    assert _run(store, "stopped").status == "cancelled"


def test_monitor_maps_parts_onto_percent():
    seen: list[float] = []
    Monitor(seen.append).sub(0.5, 1.0).report(0.5)
    assert seen == [75.0]


class _BrokenGazetteer(Gazetteer):
    def find(self, text):  # a bug in a toponym lookup, mid-run
        raise RuntimeError("gazetteer index corrupt")


def test_text_geocoding_that_crashes_leaves_no_run_marked_running(store):
    with store.batch() as conn:
        store.add_posts(conn, [PostRecord("p1", "weibo", text="郑州火车站")])
    gazetteer = _BrokenGazetteer([GazetteerEntry("郑州火车站", Point(113.66, 34.75))])
    with pytest.raises(RuntimeError):
        candidates.geocode_posts(store, gazetteer)
    r = _run(store, "geocode_text")
    assert (r.status, r.message) == ("failed", "RuntimeError: gazetteer index corrupt")
