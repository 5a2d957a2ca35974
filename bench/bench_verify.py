"""Verification dock speed, offscreen: "next" key to the new photo painted, and table set-up time.

Store: N posts (default 100,000), one photo each; 5,000 photos fetched into the cache (real photos
from scikit-image, 800x600 JPEG, each distinct) with 256 px thumbnails and screening scores; the
rest not fetched yet. The dock walks the scored photos (score order) the way an analyst does.

1. Next-key latency: QTest key press on the table -> the photo pane has painted the new photo.
   Measured at an analyst's pace (a pause between keys, so the prefetch can work) and with the
   key held down (no pause: the worst case). Targets: median < 50 ms, p95 < 100 ms.
2. Table set-up for 10k and 100k rows side by side (target < 1 s, independent of row count):
   MIST's lazy model (queue + first page) vs the peer, a naive model that loads every row into
   memory (SELECT * then build the rows). The last line is `speed ratio: X` = naive / MIST at the
   largest size.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from common import command_line, speed_ratio  # noqa: E402  (puts the repository on the import path)

from mist_qgis.core.posts import MediaRef, PostRecord  # noqa: E402
from mist_qgis.core.store import Store, open_store  # noqa: E402

MODEL = "bench-screen"
T0 = datetime(2021, 7, 19, tzinfo=UTC)
BATCH = 10_000


def _base_photos():
    from PIL import Image
    from skimage import data

    images = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.stereo_motorcycle()[0]]
    return [Image.fromarray(img[..., :3]).resize((1000, 750)) for img in images]


def build(path: Path, n_posts: int, n_photos: int) -> None:
    """Posts, their media rows, n_photos cached photos with thumbnails and predictions."""
    from PIL import ImageEnhance

    rng = random.Random(7)
    with open_store(path) as store:
        for start in range(0, n_posts, BATCH):
            records = [
                PostRecord(post_id=str(i), platform="weibo", lon=113.4 + rng.random() * 0.5,
                           lat=34.6 + rng.random() * 0.3, text=f"post {i}: water on street {i % 977} #暴雨",
                           geo_source="gps", timestamp=T0 + timedelta(seconds=rng.randrange(3 * 86400)),
                           media=[MediaRef(url=f"https://img.example/{i}.jpg")])
                for i in range(start, min(n_posts, start + BATCH))
            ]
            with store.batch() as conn:
                store.add_posts(conn, records)
        store.refresh_extents()
        if not n_photos:
            return
        bases = _base_photos()
        thumbs = store.media_dir / "thumbs"
        thumbs.mkdir(parents=True, exist_ok=True)
        media = [r[0] for r in store.query("SELECT fid FROM media ORDER BY fid")]
        step = max(1, len(media) // n_photos)
        rows = []
        for k, fid in enumerate(media[::step][:n_photos]):
            base = bases[k % len(bases)]
            x, y = (k * 7) % 200, (k * 13) % 150
            img = base.crop((x, y, x + 800, y + 600))
            img = ImageEnhance.Brightness(img).enhance(0.8 + (k % 41) / 100)
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=85)
            payload = buf.getvalue()
            sha = hashlib.sha256(payload).hexdigest()
            rel = f"{sha[:2]}/{sha}.jpg"
            (store.media_dir / sha[:2]).mkdir(parents=True, exist_ok=True)
            (store.media_dir / rel).write_bytes(payload)
            img.thumbnail((256, 256))
            img.save(thumbs / f"{sha}.jpg", format="JPEG", quality=80)
            rows.append((rel, sha, len(payload), fid, round(rng.random(), 4)))
        with store.batch() as conn:
            conn.executemany(
                "UPDATE media SET status = 'ok', cache_path = ?, sha256 = ?, bytes = ?, width = 800, height = 600, "
                "content_type = 'image/jpeg' WHERE fid = ?", [r[:4] for r in rows])
            conn.executemany("INSERT INTO predictions (media_fid, model, label, score) VALUES (?, ?, 'flood', ?)",
                             [(r[3], MODEL, r[4]) for r in rows])
        store.set_meta("bench_verify", f"{n_posts}:{n_photos}:v2")


def ensure_store(work: Path, n_posts: int, n_photos: int) -> Path:
    path = work / f"verify-{n_posts}-{n_photos}.gpkg"
    if path.exists():
        with open_store(path) as store:
            if store.get_meta("bench_verify") == f"{n_posts}:{n_photos}:v2":
                return path
        path.unlink()
    start = time.perf_counter()
    build(path, n_posts, n_photos)
    print(f"built {path.name} in {time.perf_counter() - start:.1f} s", flush=True)
    return path


# -- set-up time -------------------------------------------------------------------------------


def naive_model_setup(store: Store):
    """The peer: load every row into memory, then build the table model over the list."""
    from qgis.PyQt.QtCore import QAbstractTableModel, Qt

    rows = store.query("SELECT * FROM posts p JOIN media m ON m.post_fid = p.fid "
                       "LEFT JOIN predictions pr ON pr.media_fid = m.fid")
    records = [dict(r) for r in rows]
    records.sort(key=lambda r: -(r["score"] if r["score"] is not None else -1))

    class NaiveModel(QAbstractTableModel):
        def rowCount(self, parent=None):  # noqa: N802
            return len(records)

        def columnCount(self, parent=None):  # noqa: N802
            return 6

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            return records[index.row()]["text"] if role == Qt.ItemDataRole.DisplayRole else None

    return NaiveModel()


def mist_model_setup(store: Store, ordering):
    from mist_qgis.core.verify.queue import Queue
    from mist_qgis.gui.verify_model import VerifyTableModel

    model = VerifyTableModel(page_size=100)
    model.set_queue(Queue(store, ordering=ordering))
    return model


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


# -- next-key latency --------------------------------------------------------------------------


def next_key_latency(path: Path, presses: int, pause_ms: int) -> list[float]:
    from qgis.PyQt.QtCore import QCoreApplication, QEventLoop, Qt
    from qgis.PyQt.QtGui import QPixmapCache
    from qgis.PyQt.QtTest import QTest

    from mist_qgis import settings
    from mist_qgis.core.verify.records import Ordering
    from mist_qgis.gui.verify_dock import VerifyDock
    from mist_qgis.gui.verify_filters import ORDERINGS

    settings.set_value("store_path", "")
    QPixmapCache.clear()
    dock = VerifyDock()
    dock.resize(1280, 800)
    dock.show()
    dock.open_store(path)
    dock.filters.ordering_combo.setCurrentIndex([o for o, _ in ORDERINGS].index(Ordering.SCORE_HIGH))
    dock.refresh(keep_place=False)
    dock.table.setFocus()
    painted: list[str] = []
    dock.photo.painted.connect(lambda: painted.append(dock.photo.identity))

    def spin(ms: int) -> None:
        end = time.perf_counter() + ms / 1000
        while time.perf_counter() < end:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)

    spin(300)
    times = []
    for _ in range(presses):
        before = dock.current_row().media_fid
        painted.clear()
        start = time.perf_counter()
        QTest.keyClick(dock.table, Qt.Key.Key_Right)
        target = dock.photo_key(dock.current_row())
        while target not in painted:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 1)
            if time.perf_counter() - start > 5:
                raise RuntimeError("the photo was not painted within 5 s")
        times.append((time.perf_counter() - start) * 1000)
        assert dock.current_row().media_fid != before and dock.photo.has_photo()
        if pause_ms:
            spin(pause_ms)
    dock.cleanup()
    dock.deleteLater()
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms (n={len(ordered)})"


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--photos", type=int, default=5_000)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--pause-ms", type=int, default=150, help="analyst pause between keys")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mist-bench-verify",
                        help="where the stores are built (reused between runs)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    from mist_qgis.headless import start_qgis

    start_qgis(gui=True)
    from mist_qgis.core.verify.queue import Queue
    from mist_qgis.core.verify.records import Ordering

    big = ensure_store(args.work, args.posts, args.photos)
    small = ensure_store(args.work, args.small, min(args.photos, args.small // 2))

    print(f"\nnext key -> photo painted ({args.posts:,} posts, {args.photos:,} cached photos, score order)")
    paced = next_key_latency(big, args.presses, args.pause_ms)
    print(f"  analyst pace ({args.pause_ms} ms between keys): {summary(paced)}")
    held = next_key_latency(big, max(50, args.presses // 2), 0)
    print(f"  key held down (no pause):            {summary(held)}")

    print("\ntable model set-up (best of 3), seconds")
    print(f"  {'ordering':<22}{args.small:>12,}{args.posts:>12,}")
    results = {}
    for ordering in (Ordering.IMPORT, Ordering.NEWEST, Ordering.SCORE_HIGH, Ordering.MOST_USEFUL):
        row = []
        for path in (small, big):
            with open_store(path, read_only=True) as store:
                row.append(timed(lambda s=store, o=ordering: mist_model_setup(s, o)))
        results[ordering] = row
        print(f"  MIST {ordering.value:<17}{row[0]:>12.4f}{row[1]:>12.4f}")
    naive = []
    for path in (small, big):
        with open_store(path, read_only=True) as store:
            naive.append(timed(lambda s=store: naive_model_setup(s), repeat=2))
    print(f"  {'naive (load all rows)':<22}{naive[0]:>12.4f}{naive[1]:>12.4f}")
    counts = []
    for path in (small, big):
        with open_store(path, read_only=True) as store:
            counts.append(timed(lambda s=store: Queue(s).count()))
    print(f"  {'(row count, off-GUI)':<22}{counts[0]:>12.4f}{counts[1]:>12.4f}")
    speed_ratio(naive[1], results[Ordering.SCORE_HIGH][1], 1)


if __name__ == "__main__":
    main()
