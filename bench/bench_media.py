"""Photo acquisition: MIST's fetch stage vs a plain sequential `requests` loop, same server, same URLs.

A ThreadingHTTPServer on 127.0.0.1 (in its own process, so it does not share the client's GIL)
serves N small, distinct JPEGs with an injected latency per request (default 2,000 and 50 ms).

- MIST: `run_fetch_media` on a fresh store holding one post per photo, default options (16
  workers), doing its whole job: guarded download, decoding every photo, content-addressed
  cache, thumbnail, pHash, EXIF, per-batch store writes, then near-duplicate linking.
- Peer: the loop a script would write: one `requests.Session`, `get()` each URL in turn, check
  the status and write the bytes to a file. It is timed on a sample of the URLs and scaled to N
  (the output says so); at 50 ms a request, the full loop would take minutes for the same answer.

Prints images/s for both and, last, `speed ratio: X` where X = sequential time / MIST time.
"""

from __future__ import annotations

import io
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

from common import command_line  # noqa: E402  (puts the repository on the import path)

from mist_qgis.core.images.pipeline import FetchOptions, run_fetch_media  # noqa: E402
from mist_qgis.core.images.urlguard import UrlPolicy  # noqa: E402
from mist_qgis.core.posts import MediaRef, PostRecord  # noqa: E402
from mist_qgis.core.store import open_store  # noqa: E402

TARGET_RATIO = 8.0
TARGET_RATE = 100.0


def make_jpegs(n: int) -> list[bytes]:
    """N distinct small JPEGs (128x96 crops of scikit-image's photos)."""
    import numpy as np
    from PIL import Image
    from skimage import data

    sources = [np.asarray(Image.fromarray(getattr(data, name)()).convert("RGB"))
               for name in ("astronaut", "coffee", "chelsea", "rocket")]
    out = []
    for i in range(n):
        src = sources[i % len(sources)]
        y = (i * 7) % (src.shape[0] - 96)
        x = (i * 13) % (src.shape[1] - 128)
        buf = io.BytesIO()
        Image.fromarray(src[y:y + 96, x:x + 128]).save(buf, format="JPEG", quality=85)
        out.append(buf.getvalue())
    return out


def serve(folder: str, latency: float, port_queue) -> None:
    """Server process: every file of `folder` at /img/<name>, after `latency` seconds."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files = {p.name: p.read_bytes() for p in Path(folder).glob("*.jpg")}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms to every keep-alive response

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            time.sleep(latency)
            body = files.get(self.path.rsplit("/", 1)[-1])
            status = 200 if body is not None else 404
            body = body if body is not None else b"not found"
            self.send_response(status)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 128
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


def bench_mist(urls: list[str], path: Path, workers: int) -> tuple[float, dict]:
    with open_store(path) as store:
        with store.batch() as conn:
            store.add_posts(conn, [PostRecord(str(i), "bench", 1.0, 2.0, media=[MediaRef(url=u)])
                                   for i, u in enumerate(urls)])
        options = FetchOptions(policy=UrlPolicy.allowing(["127.0.0.1/32"]), workers=workers)
        start = time.perf_counter()
        summary = run_fetch_media(store, options)
        seconds = time.perf_counter() - start
    return seconds, summary.to_dict()


def bench_sequential(urls: list[str], folder: Path) -> float:
    import requests

    folder.mkdir(parents=True, exist_ok=True)
    session = requests.Session()
    session.trust_env = False
    start = time.perf_counter()
    for i, url in enumerate(urls):
        response = session.get(url, timeout=10)
        response.raise_for_status()
        (folder / f"{i}.jpg").write_bytes(response.content)
    return time.perf_counter() - start


def main() -> int:
    parser = command_line(__doc__)
    parser.add_argument("--n", type=int, default=2000, help="photos served (default 2000)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request (default 0.05)")
    parser.add_argument("--sample", type=int, default=200, help="URLs the sequential loop is timed on")
    parser.add_argument("--workers", type=int, default=FetchOptions().workers)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mist-bench-media-") as tmp:
        tmp_path = Path(tmp)
        served = tmp_path / "served"
        served.mkdir()
        for i, data in enumerate(make_jpegs(args.n)):
            (served / f"{i}.jpg").write_bytes(data)
        ctx = multiprocessing.get_context("spawn")
        ports = ctx.Queue()
        server = ctx.Process(target=serve, args=(str(served), args.latency, ports), daemon=True)
        server.start()
        try:
            port = ports.get(timeout=60)
            urls = [f"http://127.0.0.1:{port}/img/{i}.jpg" for i in range(args.n)]
            total_bytes = sum(p.stat().st_size for p in served.glob("*.jpg"))
            print(f"server: {args.n} JPEGs ({total_bytes / 1e6:.1f} MB) on 127.0.0.1, "
                  f"{args.latency * 1000:.0f} ms latency per request")

            mist_s, summary = bench_mist(urls, tmp_path / "bench.gpkg", args.workers)
            ok = summary["counts"]["ok"]
            if ok != args.n:
                print(f"MIST fetched only {ok} of {args.n}: {summary}")
                return 1
            mist_rate = args.n / mist_s
            print(f"MIST fetch-media ({args.workers} workers; download, decode, cache, thumbnail, pHash, "
                  f"store, dedup): {args.n} images in {mist_s:.2f} s = {mist_rate:.1f} images/s")

            sample = min(args.sample, args.n)
            seq_sample_s = bench_sequential(urls[:sample], tmp_path / "sequential")
            seq_s = seq_sample_s * args.n / sample
            seq_rate = args.n / seq_s
            scaled = f"timed on {sample} of {args.n} URLs ({seq_sample_s:.2f} s) and scaled" if sample < args.n \
                else "timed on every URL"
            print(f"sequential requests loop (get + write file): {seq_rate:.1f} images/s "
                  f"= {seq_s:.1f} s for {args.n} images ({scaled})")
        finally:
            server.terminate()
            server.join(5)

    ratio = seq_s / mist_s
    print(f"targets: ratio >= {TARGET_RATIO:g}x {'met' if ratio >= TARGET_RATIO else 'NOT met'}, "
          f">= {TARGET_RATE:g} images/s {'met' if mist_rate >= TARGET_RATE else 'NOT met'}")
    print(f"speed ratio: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
