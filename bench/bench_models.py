"""Photo screening: MIST's ONNX Runtime path vs PyTorch eager on the same EfficientNet-Lite0 weights.

Measured in one run, on this machine:
1. pure inference, 224 px, batch 32: ONNX Runtime (MIST's session, threads capped at cores - 1)
   vs PyTorch eager with the same number of threads, and eager with every core;
2. the int8 variant: its top-1 agreement with float on real photos (scikit-image photos plus
   augmentations) and its speed; offered only at >= 98 % agreement;
3. end to end (decode + resize + infer + write to a store) vs pure inference throughput;
4. retraining a head on 5,000 cached embeddings (2 x 3-fold CV, the skill test, final fit, ONNX export).

Ends with `speed ratio: X` where X = eager time / ONNX Runtime time (same threads).
Builds models/build/efficientnet-lite0.onnx first if `make models` has not.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "models"))

import numpy as np  # noqa: E402
from common import command_line, speed_ratio  # noqa: E402

BATCH = 32


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def photo_set(n: int) -> list[np.ndarray]:
    from export_efficientnet_lite0 import natural_photos

    from mist_qgis.core.models.quantize import augment

    photos = augment(natural_photos(), per_photo=max(1, n // 6), seed=7)
    return photos[:n]


def main() -> int:
    parser = command_line(__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--photos", type=int, default=192, help="photos in the end-to-end store")
    args = parser.parse_args()

    import export_efficientnet_lite0 as eff
    import torch

    from mist_qgis.core.models.runtime import load_model, thread_cap

    model_path = REPO / "models" / "build" / "efficientnet-lite0.onnx"
    if not model_path.is_file():
        print("building", model_path)
        eff.export(model_path.parent)
    threads = thread_cap()
    ort_model = load_model(model_path)
    card = ort_model.card
    print(f"machine: {torch.get_num_threads()} torch threads available, MIST caps sessions at {threads}")
    print(f"ONNX Runtime provider: {ort_model.provider} ({ort_model.notice})")

    # -- 1. pure inference ------------------------------------------------------------------
    from mist_qgis.core.models.preprocess import normalise, resize_for

    photos = photo_set(BATCH)
    batch = normalise(np.stack([resize_for(p, card) for p in photos]), card)
    ort_model.run(batch)  # warm-up
    t_ort = _best(lambda: ort_model.run(batch), args.repeats)
    net = eff.build_torch_model()
    x = torch.from_numpy(batch)

    def eager():
        with torch.inference_mode():
            net(x)

    all_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    eager()
    t_eager = _best(eager, args.repeats)
    torch.set_num_threads(all_threads)
    eager()
    t_eager_all = _best(eager, args.repeats)
    with torch.inference_mode():
        ref_logits = net(x)[0].numpy()
    diff = float(np.abs(ort_model.run(batch)["scores"] - ref_logits).max())
    print(f"pure inference, batch {BATCH} at 224 px:")
    print(f"  MIST ONNX Runtime ({threads} threads): {BATCH / t_ort:8.1f} img/s  ({t_ort * 1000:.0f} ms/batch)")
    print(f"  PyTorch eager ({threads} threads):     {BATCH / t_eager:8.1f} img/s  ({t_eager * 1000:.0f} ms/batch)")
    print(f"  PyTorch eager ({all_threads} threads):     {BATCH / t_eager_all:8.1f} img/s  "
          f"({t_eager_all * 1000:.0f} ms/batch)")
    print(f"  max |logits ORT - eager| = {diff:.2e}")

    # -- 2. int8 ------------------------------------------------------------------------------
    from export_efficientnet_lite0 import natural_photos

    from mist_qgis.core.models.quantize import offer_int8

    with tempfile.TemporaryDirectory() as tmp:
        offer = offer_int8(model_path, Path(tmp) / "int8.onnx", natural_photos(), 0.98)
        agreement = ", ".join(f"{m} {a * 100:.1f}%" for m, a in offer.agreement.items())
        print(f"int8: top-1 agreement with float on {offer.n_photos} real photos: {agreement}")
        if offer.offered:
            q = load_model(offer.path)
            q.run(batch)
            t_q = _best(lambda: q.run(batch), args.repeats)
            print(f"  int8 ({offer.mode}) offered: {BATCH / t_q:.1f} img/s ({t_ort / t_q:.2f}x float ORT)")
        else:
            print("  int8 NOT offered: agreement below 98%")

    # -- 3. end to end ---------------------------------------------------------------------------
    from mist_qgis.core.models.classify import classify_store
    from mist_qgis.core.posts.record import MediaRef, PostRecord
    from mist_qgis.core.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        import cv2
        from PIL import Image

        store = open_store(Path(tmp) / "bench.gpkg")
        records = [PostRecord(post_id=str(i), platform="bench", lon=0.0, lat=0.0,
                              media=[MediaRef(url=f"https://example.org/{i}.jpg")]) for i in range(args.photos)]
        with store.batch() as conn:
            store.add_posts(conn, records)
        pool = photo_set(args.photos)
        rows = []
        for i, img in enumerate(pool):  # social-media sized JPEGs (longest side 1024)
            scale = 1024 / max(img.shape[:2])
            img = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)))
            rel = f"{i % 16:02x}/{i:06d}.jpg"
            (store.media_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(store.media_dir / rel, quality=88)
            rows.append((rel, i + 1))
        with store.batch() as conn:
            conn.executemany("UPDATE media SET status = 'ok', cache_path = ? WHERE post_fid = ?", rows)
        pure_batches = [batch] * (args.photos // BATCH)

        def pure() -> float:
            return _best(lambda: [ort_model.run(b) for b in pure_batches], 1) / (len(pure_batches) * BATCH)

        before = pure()  # the machine is shared: pure inference is timed just before and just after
        t0 = time.perf_counter()
        result = classify_store(store, model_path, batch_size=BATCH)
        t_e2e = (time.perf_counter() - t0) / max(result.classified, 1)
        t_pure = (before + pure()) / 2
        print(f"end to end (decode 1024 px JPEG + resize + infer + write top-5 and embedding), "
              f"{result.classified} photos:")
        print(f"  end to end: {1 / t_e2e:8.1f} img/s;  pure inference: {1 / t_pure:8.1f} img/s;  "
              f"end-to-end share: {t_pure / t_e2e * 100:.0f}% (target >= 80%)")

        # -- 4. head retraining on 5,000 cached embeddings -------------------------------------------
        from mist_qgis.core.models.heads import export_head, head_card, train_head
        from mist_qgis.core.store import models_sql

        fids, emb = models_sql.load_embeddings(store, card.tag)
        store.close()
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(emb), size=5000)
    features = emb[idx] * rng.normal(1.0, 0.05, size=(5000, emb.shape[1])).astype(np.float32)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    # labels an analyst might give: which scene family the photo shows (source photo index mod 2)
    labels = ["flood" if (i // max(1, args.photos // 6)) % 2 else "not_flood" for i in idx]
    train_head(features[:200], labels[:200])  # imports scikit-learn: a one-time cost, not retraining
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        head = train_head(features, labels, kind="logreg")
        export_head(head, Path(tmp) / "h.onnx", head_card(head, "bench", "1", card.tag))
        t_head = time.perf_counter() - t0
    m = head.metrics
    print(f"head retraining on 5000 cached {emb.shape[1]}-d embeddings ({m.repeats} x {m.folds}-fold CV, skill test "
          f"on {m.skill.examples} examples, fit, ONNX export): {t_head:.2f} s (target < 2 s); "
          f"CV F1(flood) {m.spread['f1'].text()}")
    speed_ratio(t_eager, t_ort)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
