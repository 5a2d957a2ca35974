"""Retrieval geolocation: the persisted faiss index against the numpy reference, its incremental
update and rebuild, the probability raster and the combination with a place from the text."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("faiss")

from mist_qgis.core.geoloc import retrieval  # noqa: E402
from mist_qgis.core.geoloc.records import CoarseLocation  # noqa: E402
from mist_qgis.core.geoloc.retrieval import Neighbour, RetrievalIndex, index_base  # noqa: E402
from mist_qgis.core.store import models_sql as sql  # noqa: E402
from tests.unit.geoloc_helpers import add_embedded_post as _add  # noqa: E402
from tests.unit.geoloc_helpers import offset  # noqa: E402

DIM = 64


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)


def test_index_matches_numpy_updates_incrementally_and_persists(store):
    vecs = _vectors(30)
    fids = [_add(store, f"p{i}", offset(i * 50, 0), "gps", vecs[i]) for i in range(20)]
    _add(store, "untrusted", offset(0, 0), "geocoded", vecs[25])  # text-derived: never indexed
    index = RetrievalIndex(index_base(store))
    first = index.sync(store, "emb-a")
    assert first.rebuilt and first.indexed == 20
    query = vecs[3] + 0.1 * _vectors(1, seed=5)[0]
    top, sims = retrieval.exact_search(vecs[:20], query, 5)
    hits = index.search(query, 5)
    assert [h[0] for h in hits] == [("photo", fids[i]) for i in top]
    assert np.allclose([h[1] for h in hits], sims, atol=1e-5)

    fids += [_add(store, f"p{i}", offset(i * 50, 0), "exif", vecs[i]) for i in range(20, 25)]
    reopened = RetrievalIndex(index_base(store))
    assert len(reopened) == 20 and reopened.model == "emb-a"
    second = reopened.sync(store, "emb-a")
    assert not second.rebuilt and second.added == 5 and second.indexed == 25
    assert RetrievalIndex(index_base(store)).search(vecs[22], 1)[0][0] == ("photo", fids[22])
    assert reopened.sync(store, "emb-a").added == 0


def test_model_change_rebuilds_and_never_mixes(store):
    vecs = _vectors(6)
    for i in range(4):
        _add(store, f"p{i}", offset(i * 50, 0), "gps", vecs[i])
    index = RetrievalIndex(index_base(store))
    index.sync(store, "emb-a")
    other = np.random.default_rng(9).normal(size=(2, 16)).astype(np.float32)
    media = [r[0] for r in store.query("SELECT fid FROM media ORDER BY fid")]
    with store.batch() as conn:
        sql.write_embeddings(conn, "emb-b", zip(media[:2], other, strict=True))
    result = RetrievalIndex(index_base(store)).sync(store, "emb-b")
    assert result.rebuilt and "emb-a" in result.reason and result.indexed == 2
    again = RetrievalIndex(index_base(store))
    assert again.model == "emb-b" and again.dim == 16 and again.ids == media[:2]
    with pytest.raises(retrieval.RetrievalError, match="16"):
        again.search(vecs[0], 1)


def test_photo_that_lost_its_location_triggers_a_rebuild(store):
    vecs = _vectors(3)
    for i in range(3):
        _add(store, f"p{i}", offset(i * 50, 0), "gps", vecs[i])
    index = RetrievalIndex(index_base(store))
    index.sync(store, "emb-a")
    with store.batch() as conn:
        conn.execute("UPDATE posts SET geo_source = 'geocoded' WHERE post_id = 'p1'")
    result = index.sync(store, "emb-a")
    assert result.rebuilt and result.indexed == 2


def test_neighbours_of_an_unlocated_photo_exclude_itself(store):
    vecs = _vectors(5)
    fids = [_add(store, f"p{i}", offset(i * 100, 0), "gps", vecs[i]) for i in range(4)]
    query = _add(store, "q", None, "none", vecs[2] + 0.05)
    index = RetrievalIndex(index_base(store))
    index.sync(store, "emb-a")
    near = retrieval.neighbours_for_photo(store, index, query, k=3)
    assert near[0].media_fid == fids[2] and query not in [n.media_fid for n in near]
    assert near[0].lon == pytest.approx(offset(200, 0)[0])


def _n(east, north, sim, fid=0):
    lon, lat = offset(east, north)
    return Neighbour(fid, fid, lon, lat, sim)


def test_raster_sums_to_one_and_radius_holds_68_percent(tmp_path):
    from osgeo import gdal

    tight = [_n(10 * i, 0, 0.9, i) for i in range(5)]
    est = retrieval.estimate_location(tight, tmp_path / "p.tif")
    ds = gdal.Open(est.raster_path)
    data = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
    assert data.sum() == pytest.approx(1.0, abs=1e-4)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == str(est.epsg)
    # one Gaussian of sigma 150 m: the 68% radius of a 2-D Gaussian is sigma * sqrt(-2 ln 0.32) ~ 1.51 sigma
    assert 180 < est.radius_m < 260
    assert est.lon == pytest.approx(offset(20, 0)[0], abs=2e-4)
    grid, _ = retrieval.probability_grid(tight)
    x, y, r = retrieval.estimate_from_grid(grid)
    gx, gy = grid.centres()
    inside = grid.probability[np.hypot(gx - x, gy - y) <= r].sum()
    assert 0.68 <= inside < 0.75


def test_spread_neighbours_give_a_large_radius_and_a_flat_raster():
    spread = [_n(e, n, 0.5, i) for i, (e, n) in enumerate([(-4000, -4000), (4000, 4000), (-4000, 4000),
                                                            (4000, -4000), (0, 0)])]
    tight = [_n(10 * i, 0, 0.5, i) for i in range(5)]
    wide, _ = retrieval.probability_grid(spread)
    narrow, _ = retrieval.probability_grid(tight)
    assert retrieval.estimate_from_grid(wide)[2] > 3000
    def peak_density(grid):  # probability per square metre at the most likely cell
        return grid.probability.max() / grid.cell_m ** 2

    assert peak_density(wide) < peak_density(narrow) / 50


def test_similarity_weights_pull_the_estimate():
    pair = [_n(0, 0, 0.9, 1), _n(1000, 0, 0.1, 2)]
    est = retrieval.estimate_location(pair)
    assert est.lon < offset(200, 0)[0]


def test_text_place_restricts_and_reranks_then_falls_back():
    near_low, near_high, far = _n(100, 0, 0.4, 1), _n(-100, 50, 0.8, 2), _n(9000, 0, 0.95, 3)
    place = CoarseLocation(1, "Elm Road", "Elm Road", "point", *offset(0, 0), 60, 500.0)
    areas = retrieval.combine_with_text([near_low, far, near_high], place)
    assert [a.similarity for a in areas] == [0.8, 0.4] and {a.source for a in areas} == {"text+retrieval"}
    only_far = retrieval.combine_with_text([far], place)
    assert len(only_far) == 1 and only_far[0].source == "text" and only_far[0].radius_m == 500.0
    no_text = retrieval.combine_with_text([near_low, far], None)
    assert [a.similarity for a in no_text] == [0.95, 0.4] and no_text[0].source == "retrieval"


def test_locate_by_retrieval_places_unlocated_photos_and_explains_skips(store, tmp_path):
    vecs = _vectors(8)
    for i in range(5):
        _add(store, f"p{i}", offset(i * 40, 0), "gps", vecs[i])
    q = _add(store, "q", None, "none", vecs[1] + 0.05)
    run = retrieval.locate_by_retrieval(store, k=3, raster_dir=tmp_path / "rasters", media_fids=[q, 9999])
    assert run.sync.indexed == 5 and set(run.estimates) == {q}
    assert "9999" in run.skipped[9999] and (tmp_path / "rasters" / f"retrieval_media_{q}.tif").is_file()
    summary = retrieval.run_summary(run)
    assert summary["placed"] == 1 and summary["photos"][0]["neighbours"][0]["similarity"] > 0.9
    with pytest.raises(retrieval.RetrievalError, match="emb-a"):
        retrieval.locate_by_retrieval(store, model_tag="nope")


def _lsgl_scene(store, tmp_path):
    from tests.unit.geoloc_helpers import add_post_with_photos, query_of, reference_collection

    refs = reference_collection(tmp_path / "street", store)
    vecs = _vectors(6, seed=21)
    _add(store, "near_rocket", refs["rocket_1"][:2], "gps", vecs[0])
    for i in range(1, 4):
        _add(store, f"far{i}", offset(3000 * i, 3000), "gps", vecs[i])
    fid = add_post_with_photos(store, "unlocated", None, None, [query_of(refs["rocket_1"][2], seed=7)])
    media = store.scalar("SELECT fid FROM media WHERE post_fid = ?", (fid,))
    with store.batch() as conn:
        sql.write_embeddings(conn, "emb-a", [(media, vecs[0] + 0.05 * vecs[5])])
    return refs, fid


def test_retrieval_neighbours_become_lsgl_candidates_for_an_unlocated_post(store, tmp_path):
    from mist_qgis.core.geoloc.locate import GeolocateOptions, geolocate
    from mist_qgis.core.store import gpkg

    refs, fid = _lsgl_scene(store, tmp_path)
    without = geolocate(store, GeolocateOptions(matcher="sift", top_k=4))
    assert without.counts["posts"] == 0  # no location, no text place: nothing to match against
    others = tuple(r[0] for r in store.query("SELECT fid FROM posts WHERE fid != ?", (fid,)))
    only_others = geolocate(store, GeolocateOptions(matcher="sift", retrieval_model="emb-a", post_fids=others))
    assert only_others.counts["posts"] == 0  # the geotagged posts have no cached photo; the query is not asked
    summary = geolocate(store, GeolocateOptions(matcher="sift", top_k=4, retrieval_model="emb-a", retrieval_k=3,
                                                post_fids=(fid,)))
    assert summary.counts["moved"] == 1, store.issues_for_run(summary.run_id)
    row = store.query("SELECT geom, geo_source, match_ref FROM posts WHERE fid = ?", (fid,))[0]
    assert row["geo_source"] == "image_match" and row["match_ref"].endswith("rocket_1")
    assert gpkg.point_xy(row["geom"]) == pytest.approx(refs["rocket_1"][:2])


def test_a_text_place_far_from_every_neighbour_falls_back_to_the_text(store, tmp_path):
    from mist_qgis.core.geoloc.locate import GeolocateOptions, geolocate
    from mist_qgis.core.store import geoloc_sql as geo_sql

    refs, fid = _lsgl_scene(store, tmp_path)
    with store.batch() as conn:  # the text names a place 200 m from the best neighbour, with a 100 m radius
        geo_sql.record_coarse(conn, CoarseLocation(fid, "Elm", "Elm", "point", *refs["coffee_0"][:2], 80, 100.0),
                              None, True)
    summary = geolocate(store, GeolocateOptions(matcher="sift", top_k=4, retrieval_model="emb-a", retrieval_k=3,
                                                min_confidence=0.99))
    matched = {r[0] for r in store.query("SELECT DISTINCT ref_id FROM matches")}
    near_place = {r.ref_uid for r, _ in geo_sql.references_near(store, *refs["coffee_0"][:2], 100.0)}
    assert summary.counts["posts"] == 1 and matched
    assert matched <= near_place, matched - near_place  # the text's area, not the neighbour's


def test_reference_images_are_embedded_and_indexed_beside_photos_incrementally(store, tmp_path):
    from PIL import Image

    from mist_qgis.core.geoloc import references
    from mist_qgis.core.models.embeddings import embed_photos
    from tests.helpers.modelkit import make_colour_model
    from tests.unit.geoloc_helpers import add_post_with_photos

    colours = {"red": (220, 20, 20), "green": (20, 200, 30), "blue": (30, 40, 210), "grey": (128, 128, 128)}
    folder = tmp_path / "street"
    folder.mkdir()
    lines = ["id,lon,lat,heading,path"]
    for i, (name, rgb) in enumerate(colours.items()):
        Image.new("RGB", (40, 30), rgb).save(folder / f"{name}.png")
        lines.append(f"{name},{offset(300 * i, 0)[0]},{offset(300 * i, 0)[1]},0,{name}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    lines.append(f"broken,{offset(0, 500)[0]},{offset(0, 500)[1]},0,broken.png")
    (folder / "refs.csv").write_text("\n".join(lines) + "\n")
    references.import_references(store, folder / "refs.csv", collection="street")
    add_post_with_photos(store, "tagged", offset(0, -400), 10.0, [np.full((30, 40, 3), (200, 200, 40), np.uint8)])
    with store.batch() as conn:
        conn.execute("UPDATE posts SET geo_source = 'gps' WHERE post_id = 'tagged'")
    query_fid = add_post_with_photos(store, "query", None, None, [np.full((30, 40, 3), (25, 190, 35), np.uint8)])
    model = make_colour_model(tmp_path / "colour.onnx")

    first = embed_photos(store, model)
    assert first.embedded == 2 and first.references == 4  # the broken reference is a recorded skip
    issues = store.query("SELECT source, reason FROM issues WHERE stage = 'embed'")
    assert len(issues) == 1 and "broken" in issues[0]["source"]
    index = RetrievalIndex(index_base(store))
    synced = index.sync(store, "colour@1")
    assert synced.indexed == 5 and len(index.ids) == 1 and len(index.reference_ids) == 4
    media = store.scalar("SELECT fid FROM media WHERE post_fid = ?", (query_fid,))
    near = retrieval.neighbours_for_photo(store, index, media, k=2)
    green = store.scalar('SELECT fid FROM "references" WHERE ref_id = ?', ("green",))
    assert near[0].source == "reference" and near[0].ref_fid == green and near[0].media_fid is None
    assert near[0].lon == pytest.approx(offset(300, 0)[0])
    summary = retrieval.run_summary(retrieval.locate_by_retrieval(store, "colour@1", [media], k=2))
    assert summary["photos"][0]["neighbours"][0] == {"source": "reference", "media_fid": None, "post_fid": None,
                                                     "ref_fid": green, "similarity": pytest.approx(1.0, abs=1e-3)}

    # a new reference: embedded alone, and the existing index gains it without a rebuild
    Image.new("RGB", (40, 30), (240, 240, 240)).save(folder / "white.png")
    (folder / "more.csv").write_text(f"id,lon,lat,heading,path\nwhite,{offset(0, 900)[0]},{offset(0, 900)[1]},0,"
                                     "white.png\n")
    references.import_references(store, folder / "more.csv", collection="more")
    second = embed_photos(store, model)
    assert second.embedded == 0 and second.references == 1
    reopened = RetrievalIndex(index_base(store))
    assert len(reopened) == 6 and len(reopened.reference_ids) == 5
    assert reopened.sync(store, "colour@1").added == 0
    # a removed reference: rebuilt without it
    with store.batch() as conn:
        conn.execute('DELETE FROM "references" WHERE ref_id = ?', ("white",))
    gone = reopened.sync(store, "colour@1")
    assert gone.rebuilt and "references were removed" in gone.reason and gone.indexed == 5


def test_an_exact_index_that_grows_past_the_limit_becomes_hnsw(store, monkeypatch):
    monkeypatch.setattr(retrieval, "EXACT_MAX_VECTORS", 5)
    vecs = _vectors(9)
    fids = [_add(store, f"p{i}", offset(i * 50, 0), "gps", vecs[i]) for i in range(4)]
    index = RetrievalIndex(index_base(store))
    assert index.sync(store, "emb-a").indexed == 4 and index.kind == "flat"
    fids.append(_add(store, "p4", offset(200, 0), "gps", vecs[4]))
    assert not index.sync(store, "emb-a").rebuilt and index.kind == "flat"  # 5: still exact
    fids += [_add(store, f"p{i}", offset(i * 50, 0), "gps", vecs[i]) for i in range(5, 8)]
    grown = index.sync(store, "emb-a")
    assert grown.rebuilt and "HNSW" in grown.reason and grown.indexed == 8
    reopened = RetrievalIndex(index_base(store))
    assert reopened.kind == "hnsw" and reopened.search(vecs[6], 1)[0][0] == ("photo", fids[6])
    assert not reopened.sync(store, "emb-a").rebuilt


def test_entries_read_for_a_search_s_hits_are_those_of_the_whole_index(store, monkeypatch):
    """A query reads only the entries of the keys its search returned; for any keys that is
    exactly the whole index's entries at those keys (photos and references with the same fid
    kept apart, untrusted, unembedded, unplaced and unknown keys left out), read fresh."""
    from mist_qgis.core.geoloc.records import ReferenceRecord
    from mist_qgis.core.store import geoloc_sql

    vecs = _vectors(12)
    photos = [_add(store, f"p{i}", offset(i * 50, 0), "gps", vecs[i]) for i in range(6)]
    photos.append(_add(store, "untrusted", offset(0, 80), "geocoded", vecs[6]))
    photos.append(_add(store, "other-model", offset(0, 90), "gps", vecs[7], model="emb-b"))
    with store.batch() as conn:
        geoloc_sql.insert_references(conn, [ReferenceRecord(f"r{i}", *offset(0, 200 + 50 * i), f"r{i}.png",
                                                            accuracy_m=5.0 + i) for i in range(4)], None)
    refs = [int(r[0]) for r in store.query('SELECT fid FROM "references" ORDER BY fid')]
    with store.batch() as conn:
        sql.write_reference_embeddings(conn, "emb-a", zip(refs[:3], vecs[8:11], strict=True))
        conn.execute('UPDATE "references" SET geom = NULL WHERE fid = ?', (refs[2],))
    full = retrieval.indexable(store, "emb-a")
    assert {s for s, _ in full} == {"photo", "reference"} and len(full) == 6 + 2
    universe = [(s, f) for s in ("photo", "reference") for f in {*photos, *refs, 9999}]
    rng = np.random.default_rng(2)
    picks = [universe, [], [("photo", photos[0])], [("reference", refs[0])]]
    picks += [[universe[i] for i in rng.choice(len(universe), 5, replace=False)] for _ in range(8)]
    for chunk in (500, 2):
        monkeypatch.setattr(sql, "IN_CHUNK", chunk)
        for keys in picks:
            assert retrieval.indexable(store, "emb-a", keys) == {k: full[k] for k in keys if k in full}

    index = RetrievalIndex(index_base(store))
    index.sync(store, "emb-a")
    query = _add(store, "q", None, "none", vecs[1] + 0.01)
    assert retrieval.neighbours_for_photo(store, index, query, k=1)[0].media_fid == photos[1]
    with store.batch() as conn:  # trust withdrawn during a run: the next photo no longer sees it
        conn.execute("UPDATE posts SET geo_source = 'geocoded' WHERE post_id = 'p1'")
    assert photos[1] not in [n.media_fid for n in retrieval.neighbours_for_photo(store, index, query, k=3)]


def test_vectors_of_chosen_keys_come_in_key_order_from_the_query_itself(store, monkeypatch):
    """Chosen photos' embeddings: the same rows as a full read, in fid order, and the store returns
    only those rows (the restriction is in the SQL, in chunks the backends take)."""
    vecs = _vectors(9)
    photos = [_add(store, f"p{i}", offset(i * 50, 0), "gps", vecs[i]) for i in range(9)]
    all_fids, all_rows = sql.load_embeddings(store, "emb-a")
    returned: list[int] = []
    query = store.query

    def counted(text, params=()):
        rows = query(text, params)
        returned.append(len(rows))
        return rows

    monkeypatch.setattr(store, "query", counted)
    for chunk in (500, 2):
        monkeypatch.setattr(sql, "IN_CHUNK", chunk)
        returned.clear()
        fids, rows = sql.load_embeddings(store, "emb-a", [photos[7], photos[1], photos[4], photos[1], 99_999])
        assert fids.tolist() == sorted([photos[1], photos[4], photos[7]])
        assert np.array_equal(rows, all_rows[np.searchsorted(all_fids, fids)])
        assert sum(returned) == 3 and len(returned) == (1 if chunk == 500 else 2)  # 4 distinct keys asked
