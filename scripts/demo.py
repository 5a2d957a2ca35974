"""MIST's whole job on the sample, headless: `make demo` (after `make models`).

    .venv/bin/python scripts/demo.py [--work build/demo] [--matcher sift] [--backbone FILE.onnx]

Runs every stage through the `mist:` Processing algorithms on a fresh store in the work folder,
prints one table of what each stage did (counts, seconds, models and execution providers),
writes the store, the rasters, the verified points and flood_map.png (drawn by QGIS through a
print layout) and exits with status 1 if any stage failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mist_qgis.core.options import MATCHERS  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="MIST demo: import -> screen -> geolocate -> inundation -> map")
    parser.add_argument("--sample", default=str(REPO / "resources" / "sample"), help="the sample folder")
    parser.add_argument("--work", default=str(REPO / "build" / "demo"), help="work folder (emptied first)")
    parser.add_argument("--backbone", default="efficientnet-lite0",
                        help="image embedding model: registry id or .onnx file (default efficientnet-lite0, "
                             "built by `make models`)")
    parser.add_argument("--matcher", default=MATCHERS.default, choices=[m for m in MATCHERS if m != "loftr"],
                        help="photo matcher (LoFTR needs weights the sample does not ship)")
    parser.add_argument("--top-k", type=int, default=3, help="references matched per photo (default 3)")
    parser.add_argument("--min-confidence", type=float, default=0.8,
                        help="confidence a match needs to move a post (default 0.8)")
    parser.add_argument("--dpi", type=int, default=150, help="resolution of the map PNG")
    parser.add_argument("--json", metavar="FILE", help="also write the stage reports as JSON")
    parser.add_argument("--quiet", action="store_true", help="print only the table")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.work).resolve()
    sample = Path(args.sample).resolve()
    if not (sample / "posts.jsonl").is_file():
        print(f"demo: no sample in {sample} (run scripts/make_sample.py)", file=sys.stderr)
        return 2
    backbone = args.backbone
    if backbone.endswith(".onnx"):
        backbone = str(Path(backbone).resolve())
    # A throwaway QGIS profile inside the work folder: the demo never reads or changes the user's.
    profile = work.parent / f".{work.name}-profile"
    os.environ["QGIS_CUSTOM_CONFIG_PATH"] = str(profile)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()
    from mist_qgis.headless import init_processing, start_qgis

    start_qgis(gui=True)  # the print layout draws text, which needs a GUI-capable application
    init_processing()
    from mist_qgis.demo.pipeline import Demo, DemoConfig, store_counts
    from mist_qgis.demo.runner import StageRunner

    echo = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    runner = StageRunner(echo)
    config = DemoConfig(sample=sample, work=work, backbone=backbone, matcher=args.matcher, top_k=args.top_k,
                        min_confidence=args.min_confidence, map_dpi=args.dpi)
    echo(f"MIST demo: sample {sample}, work folder {work}, startup {time.perf_counter() - started:.1f} s")
    ok = Demo(config, runner).run_all()
    print()
    print(runner.table())
    if ok:
        counts = store_counts(config.store)
        print(f"\nstore {config.store}: {counts['counts']['posts']} posts "
              f"({counts['counts']['unlocated_posts']} unlocated), geo sources {counts['geo_sources']}")
        print(f"map {config.map_png}; rasters in {config.rasters}; verified points {config.verified_points}")
    print(f"demo {'finished' if ok else 'FAILED'} in {time.perf_counter() - started:.1f} s")
    if args.json:
        Path(args.json).write_text(runner.as_json(), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
