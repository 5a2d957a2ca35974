"""The match-view cache stays bounded: the least recently drawn views go first, with their
sidecars, and never the view just drawn."""

from __future__ import annotations

import os

from mist_qgis.core.geoloc.match_view import prune_cache


def _views(folder, n: int, size: int) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    pngs = []
    for i in range(n):
        png = folder / f"{i}_1.png"
        png.write_bytes(b"\x89PNG" + bytes(size - 4))
        png.with_suffix(".json").write_text("{}", encoding="utf-8")
        os.utime(png, (1_000_000 + i, 1_000_000 + i))  # drawn in order
        pngs.append(png)
    return pngs


def test_the_oldest_views_go_first_down_to_three_quarters(tmp_path):
    pngs = _views(tmp_path / "matches", 10, 1000)
    assert prune_cache(tmp_path / "matches", max_bytes=20_000) == 0  # under the limit: nothing
    deleted = prune_cache(tmp_path / "matches", max_bytes=8000)
    assert deleted == 4  # 10,000 bytes down to 6,000 = three quarters of 8,000
    assert [p.exists() for p in pngs] == [False] * 4 + [True] * 6
    assert not pngs[0].with_suffix(".json").exists() and pngs[4].with_suffix(".json").exists()


def test_the_view_just_drawn_stays_even_when_it_is_the_oldest(tmp_path):
    pngs = _views(tmp_path / "matches", 5, 1000)
    assert prune_cache(tmp_path / "matches", max_bytes=4000, keep=pngs[0]) == 2
    assert [p.exists() for p in pngs] == [True, False, False, True, True]
