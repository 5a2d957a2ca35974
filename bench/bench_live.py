"""Live monitoring: posts screened seconds after they are written, against the batch path.

A generator appends tweets (v1.1 and v2 mixed; `--photo-share` of them with a photo served by a
local HTTP server in its own process with `--latency` per request) at each rate of `--rates` for
`--seconds` each. A real ONNX head (the tests' colour model) screens the photos.

- MIST: `watch` on the growing file (import, fetch, screen, alerts per batch). Latency is from a
  line's write to the end of the batch that put its post on the layer with its score.
- Peer, in the same run, on the same stream: the batch path a user would script, every
  `--batch-every` seconds: import the file, fetch media, classify (each stage takes only what is
  new). Latency is from a line's write to the end of the batch cycle that scored it.

A rate is sustained when the posts left unprocessed at the end of its step are fewer than five
seconds' worth. Prints, per rate, throughput and latency p50/p95 for both, then
`speed ratio: X` with X = peer p95 latency / MIST p95 latency at the first rate.
"""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench_media import make_jpegs, serve
from common import command_line, speed_ratio  # puts the repository on the import path

from mist_qgis.core.images.pipeline import FetchOptions, run_fetch_media
from mist_qgis.core.images.urlguard import UrlPolicy
from mist_qgis.core.live.watch import WatchOptions, watch
from mist_qgis.core.models.classify import classify_store
from mist_qgis.core.posts.importer import import_posts
from mist_qgis.core.store import open_store
from tests.live_kit import v1_line, v2_line

POLICY = UrlPolicy.allowing(["127.0.0.1/32"])


def post_id(n: int, with_photo: bool) -> str:
    return str(1417400000000000000 + n) if with_photo or n % 2 == 0 else str(1417700000000000000 + n)


class Generator(threading.Thread):
    """Appends tweets at the given rates; remembers when each post id was written."""

    def __init__(self, path: Path, rates: list[float], seconds: float, share: float, base: str, photos: int) -> None:
        super().__init__(daemon=True)
        self.path, self.rates, self.seconds = path, rates, seconds
        self.share, self.base, self.photos = share, base, photos
        self.written: dict[str, float] = {}
        self.steps: list[tuple[float, float, float, int]] = []  # (rate, start, end, posts written so far)

    def run(self) -> None:
        n = 0
        with open(self.path, "a") as fh:
            for rate in self.rates:
                start = time.time()
                end = start + self.seconds
                due = start
                while time.time() < end:
                    photo = (n * 37 % 100) < self.share * 100
                    line = (v1_line(n, photo=f"{self.base}/img/{n % self.photos}.jpg") if photo
                            else (v1_line(n) if n % 2 == 0 else v2_line(n)))
                    fh.write(line)
                    fh.flush()
                    self.written[post_id(n, photo)] = time.time()
                    n += 1
                    due += 1.0 / rate
                    time.sleep(max(0.0, due - time.time()))
                self.steps.append((rate, start, time.time(), n))


def scored_at(store_path: Path, done: dict[str, float], when: float) -> None:
    """Mark every post that is on the layer with its score (or has no photo to score) as done."""
    with open_store(store_path, create=False, read_only=True) as store:
        rows = store.query(
            "SELECT p.post_id FROM posts p WHERE p.cls_label IS NOT NULL OR NOT EXISTS "
            "(SELECT 1 FROM media m WHERE m.post_fid = p.fid AND m.status IN ('pending', 'ok'))")
    for (pid,) in rows:
        done.setdefault(pid, when)


def run_mist(stream: Path, store_path: Path, head: Path, stop: threading.Event) -> dict[str, float]:
    done: dict[str, float] = {}
    with open_store(store_path) as store:
        options = WatchOptions([str(stream)], head=str(head), interval_s=0.05, policy=POLICY)
        watch(store, options, is_cancelled=stop.is_set,
              on_batch=lambda status: scored_at(store_path, done, time.time()))
    return done


def run_batch_path(stream: Path, store_path: Path, head: Path, every: float, stop: threading.Event) -> dict[str, float]:
    done: dict[str, float] = {}
    with open_store(store_path) as store:
        while True:
            cycle_start = time.time()
            import_posts(store, [stream])
            run_fetch_media(store, FetchOptions(policy=POLICY))
            classify_store(store, head)
            scored_at(store_path, done, time.time())
            if stop.is_set():
                return done
            stop.wait(max(0.0, every - (time.time() - cycle_start)))


def measure(name: str, runner, gen_args: dict, head: Path, tmp: Path, extra: tuple = ()) -> list[dict]:
    stream = tmp / f"{name}.jsonl"
    stream.write_text("")
    store_path = tmp / f"{name}.gpkg"
    open_store(store_path).close()
    gen = Generator(stream, **gen_args)
    stop = threading.Event()
    result: dict[str, dict[str, float]] = {}
    worker = threading.Thread(target=lambda: result.setdefault("done", runner(stream, store_path, head, *extra, stop)))
    worker.start()
    gen.start()
    gen.join()
    time.sleep(2.0)
    stop.set()
    worker.join()
    done = result["done"]
    with open_store(store_path, create=False, read_only=True) as store:
        media = dict(store.query("SELECT status, count(*) FROM media GROUP BY status"))
        screened = store.count("posts", "cls_label IS NOT NULL")
    print(f"{name}: media {media}, {screened} posts screened by the head")
    rows = []
    previous = 0
    for rate, start, end, written in gen.steps:
        ids = [pid for pid, t in gen.written.items() if start <= t <= end]
        lat = sorted(done[pid] - gen.written[pid] for pid in ids if pid in done)
        left = sum(1 for pid in ids if done.get(pid, float("inf")) > end + 5.0)
        rows.append({
            "rate": rate, "posts": written - previous, "processed": len(lat),
            "p50": statistics.median(lat) if lat else float("nan"),
            "p95": lat[int(0.95 * (len(lat) - 1))] if lat else float("nan"),
            "sustained": left < 5 * rate,
        })
        previous = written
    return rows


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--rates", default="20,50", help="posts per second, rising (default 20,50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds at each rate (default 60)")
    parser.add_argument("--photo-share", type=float, default=0.6)
    parser.add_argument("--latency", type=float, default=0.05, help="photo server latency in seconds")
    parser.add_argument("--batch-every", type=float, default=60.0, help="the batch path's period (default 60 s)")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    from tests.helpers.modelkit import colour_card, make_colour_model

    with tempfile.TemporaryDirectory(prefix="mist-bench-live-") as name:
        tmp = Path(name)
        head = make_colour_model(tmp / "head.onnx", colour_card(labels=("flood", "green", "other")))
        photos = tmp / "photos"
        photos.mkdir()
        distinct = int(args.photo_share * sum(rates) * args.seconds) + 100  # every photo a new download
        for i, data in enumerate(make_jpegs(distinct)):
            (photos / f"{i}.jpg").write_bytes(data)
        ports = multiprocessing.Queue()
        server = multiprocessing.Process(target=serve, args=(str(photos), args.latency, ports), daemon=True)
        server.start()
        base = f"http://127.0.0.1:{ports.get(timeout=30)}"
        gen_args = {"rates": rates, "seconds": args.seconds, "share": args.photo_share, "base": base,
                    "photos": distinct}
        try:
            mist = measure("mist", run_mist, gen_args, head, tmp)
            peer = measure("batch", run_batch_path, gen_args, head, tmp, (args.batch_every,))
        finally:
            server.terminate()
    print(f"{args.photo_share:.0%} of posts with a photo, {args.latency * 1000:.0f} ms per photo request, "
          f"{args.seconds:g} s per rate; batch path every {args.batch_every:g} s")
    for label, rows in (("MIST watch", mist), ("batch path", peer)):
        for r in rows:
            print(f"{label:>10}: {r['rate']:6.1f} posts/s offered, {r['processed']}/{r['posts']} processed, "
                  f"latency p50 {r['p50']:.2f} s, p95 {r['p95']:.2f} s, "
                  f"{'sustained' if r['sustained'] else 'NOT sustained'}")
    best = max((r["rate"] for r in mist if r["sustained"]), default=0.0)
    print(f"MIST sustained throughput: {best:g} posts/s (highest offered rate with a bounded queue)")
    speed_ratio(peer[0]['p95'], mist[0]['p95'])


if __name__ == "__main__":
    main()
