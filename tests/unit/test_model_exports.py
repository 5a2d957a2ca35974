"""Export scripts: tiny random configurations exported to ONNX agree with PyTorch; untrusted
checkpoints are never unpickled; the real EfficientNet-Lite0 export (slow) is the real network."""

from __future__ import annotations

import importlib.util
import pickle
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mist_qgis.core.models import runtime
from mist_qgis.core.models.export import CheckpointError, load_state_dict, max_abs_diff
from mist_qgis.core.models.runtime import read_card

MODELS = Path(__file__).resolve().parents[2] / "models"


def _script(name):
    spec = importlib.util.spec_from_file_location(f"mist_export_{name}", MODELS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/mist-pwned-by-checkpoint",))


def test_checkpoint_with_code_is_refused_without_running_it(tmp_path):
    import torch

    marker = Path("/tmp/mist-pwned-by-checkpoint")
    marker.unlink(missing_ok=True)
    path = tmp_path / "evil.pth"
    with open(path, "wb") as fh:
        pickle.dump({"weight": _Evil()}, fh)
    torch.save({"state_dict": {"w": torch.ones(2)}, "trap": _Evil()}, tmp_path / "evil2.pth")
    for p in (path, tmp_path / "evil2.pth"):
        with pytest.raises(CheckpointError, match="refused to load"):
            load_state_dict(p)
    assert not marker.exists()


def test_checkpoint_forms_accepted(tmp_path):
    import torch
    from safetensors.torch import save_file

    sd = {"a.weight": torch.ones(2, 2)}
    torch.save({"model_state_dict": {"module.a.weight": torch.ones(2, 2)}}, tmp_path / "wrapped.pt")
    save_file(sd, str(tmp_path / "w.safetensors"))
    assert set(load_state_dict(tmp_path / "wrapped.pt")) == {"a.weight"}
    assert set(load_state_dict(tmp_path / "w.safetensors")) == {"a.weight"}
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_state_dict(tmp_path / "junk.pth")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_state_dict(tmp_path / "absent.pth")


@pytest.mark.slow  # the build-time comparison (torch): `make test-all` and CI
@pytest.mark.parametrize("arch", ["mobilenet_v3_small", "resnet18"])
def test_torchvision_export_matches_pytorch(tmp_path, arch):
    import torch

    tv = _script("export_torchvision")
    torch.manual_seed(0)
    model = tv.build(arch, 2, None)
    ckpt = tmp_path / "ckpt.pth"
    torch.save(model.state_dict(), ckpt)
    loaded = tv.build(arch, 2, ckpt)  # through the weights-only loader
    args = tv.argparse.Namespace(
        id="flood-test", version="1", licence="CC0-1.0", source="test", size=64, mean=tv.IMAGENET_MEAN,
        std=tv.IMAGENET_STD, resize="stretch", thresholds='{"flood": 0.6}', arch=arch,
    )
    out = tv.export(loaded, tmp_path / "m.onnx", tv.make_card(args, ["flood", "not_flood"], "0" * 64))
    card = read_card(out)
    assert card.labels == ("flood", "not_flood") and card.thresholds == {"flood": 0.6}
    assert card.embedding_dim and card.input_size == (64, 64)
    x = torch.randn(3, 3, 64, 64).numpy()
    diff = max_abs_diff(tv.with_embedding(loaded), out, {"image": x})
    assert diff["logits"] < 1e-4 and diff["embedding"] < 1e-4
    with torch.no_grad():  # the original (unwrapped) model's logits too
        ref = loaded(torch.from_numpy(x)).numpy()
    runtime.clear_sessions()
    got = runtime.load_model(out).run(x)["scores"]
    assert np.abs(got - ref).max() < 1e-4


def test_torchvision_checkpoint_for_another_architecture_is_explained(tmp_path):
    import torch

    tv = _script("export_torchvision")
    ckpt = tmp_path / "r.pth"
    torch.save(tv.build("resnet18", 2, None).state_dict(), ckpt)
    with pytest.raises(CheckpointError, match="does not fit this architecture"):
        tv.build("mobilenet_v3_small", 2, ckpt)
    with pytest.raises(ValueError, match="unknown torchvision classifier"):
        tv.build("not_a_net", 2, None)


@pytest.mark.slow  # the build-time comparison (torch): `make test-all` and CI
def test_crisis_multimodal_tiny_export_matches_pytorch(tmp_path):
    import torch

    mm = _script("export_crisis_multimodal")
    cfg = mm.CrisisConfig(
        labels=["informative", "not_informative", "urgent"], image_size=32, patch_size=8, image_layers=1,
        image_heads=2, image_hidden=16, image_mlp=32, vocab_size=50, text_hidden=24, text_layers=1, text_heads=2,
        text_ff=32, max_positions=40, d_model=16, fusion_layers=2, fusion_heads=2, fusion_ff=32, mlp_hidden=12,
        max_length=24,
    )
    torch.manual_seed(0)
    ckpt = tmp_path / "crisis.pth"
    torch.save(mm.build_model(cfg).state_dict(), ckpt)
    tok = tmp_path / "tok"
    tok.mkdir()
    (tok / "tokenizer.json").write_text('{"version": "1.0"}')
    (tok / "tokenizer_config.json").write_text("{}")
    out, model = mm.export(cfg, ckpt, tmp_path / "crisis.onnx", tok, "crisis", "1", "CC0-1.0", "test")
    card = read_card(out)
    assert card.task == "multimodal" and card.input_kind == "image+text" and len(card.labels) == 3
    assert (tmp_path / "crisis.tokenizer" / "tokenizer.json").is_file()
    assert card.extra["tokenizer"] == "crisis.tokenizer"
    rng = np.random.default_rng(0)
    feeds = {
        "image": rng.normal(size=(2, 3, 32, 32)).astype(np.float32),
        "input_ids": rng.integers(2, 50, size=(2, 11)).astype(np.int64),
        "attention_mask": np.array([[1] * 11, [1] * 7 + [0] * 4], dtype=np.int64),
    }
    assert max_abs_diff(model, out, feeds)["logits"] < 1e-4


def test_efficientnet_card_is_complete():
    eff = _script("export_efficientnet_lite0")
    card = eff.card("0" * 64)
    assert len(card.labels) == 1000 and card.labels[967] == "espresso"
    assert card.mean == (0.5, 0.5, 0.5) and card.embedding_dim == 1280
    assert replace(card, path=None).tag == "efficientnet-lite0@1"


@pytest.mark.slow
def test_real_efficientnet_lite0_export_is_the_real_network(tmp_path):
    """Builds the ONNX model from the packaged ImageNet weights: ONNX logits match PyTorch on real
    photos and the coffee photo is an espresso (ImageNet class 967)."""
    eff = _script("export_efficientnet_lite0")
    path = eff.export(tmp_path)
    runtime.clear_sessions()
    report = eff.verify(path)
    assert report["max_abs_diff"]["logits"] < 1e-3 and report["max_abs_diff"]["embedding"] < 1e-3
    assert report["coffee_top1"] == 967 and report["coffee_label"] == "espresso"
    from mist_qgis.core.models.classify import predict_images
    from tests.helpers.modelkit import photo, save_photo

    coffee = save_photo(photo("coffee"), tmp_path / "coffee.jpg")
    result = predict_images(path, [coffee], k=3)[0]
    assert result["label"] == "espresso" and result["score"] > 0.5


def test_manifest_hashes_are_real_or_unknown():
    import json
    import re

    import torch

    from mist_qgis.core.models.registry import sha256_file

    data = json.loads((MODELS / "manifest.json").read_text())
    site = Path(torch.__file__).resolve().parents[1]
    ids = set()
    for entry in data["models"]:
        assert {"id", "source", "licence", "sha256", "convert"} <= set(entry)
        ids.add(entry["id"])
        # one weight file: its hash; several: {path in site-packages: hash}
        hashes = entry["sha256"] if isinstance(entry["sha256"], dict) else {entry["weights"]: entry["sha256"]}
        for path, digest in hashes.items():
            assert digest == "unknown" or re.fullmatch(r"[0-9a-f]{64}", digest)
            if entry.get("sha256_status") == "verified here":
                assert sha256_file(site / path) == digest
    assert {"loftr-outdoor", "clip-vit-large-patch14", "xlm-roberta-base", "efficientnet-lite0"} <= ids
