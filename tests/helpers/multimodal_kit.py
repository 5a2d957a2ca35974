"""A tiny real image+text model for the screening tests: the crisis classifier's own export code
with a random tiny configuration, and a word-level tokenizer trained in memory on a few posts.

The tokenizer mimics XLM-R's special tokens (<s>=0, <pad>=1, </s>=2, <unk>=3, "<s> text </s>"),
so padding ids and position ids behave as with the real model.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "models"
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
CORPUS = [
    "flood water in the street after heavy rain",
    "the river burst its banks and the bridge is closed",
    "cars under water near the station, people need help",
    "sunny day at the beach, nothing to report",
    "my coffee this morning was great",
    "rescue boats in the flooded village",
    "power cut and the road is blocked by debris",
]
MAX_LENGTH = 12
VOCAB = 64


def export_script():
    spec = importlib.util.spec_from_file_location("mist_export_export_crisis_multimodal",
                                                  MODELS / "export_crisis_multimodal.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def tiny_config(mm, **overrides):
    values = dict(
        labels=["informative", "not_informative", "urgent"], image_size=32, patch_size=8, image_layers=1,
        image_heads=2, image_hidden=16, image_mlp=32, vocab_size=VOCAB, text_hidden=24, text_layers=1, text_heads=2,
        text_ff=32, max_positions=40, d_model=16, fusion_layers=2, fusion_heads=2, fusion_ff=32, mlp_hidden=12,
        max_length=MAX_LENGTH,
    )
    values.update(overrides)
    return mm.CrisisConfig(**values)


def make_tokenizer(folder: Path, sentences: list[str] | None = None, model_max_length: int = 512) -> Path:
    """Train a word-level tokenizer on `sentences` and save tokenizer.json (+ tokenizer_config.json)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(sentences or CORPUS, trainers.WordLevelTrainer(special_tokens=SPECIALS))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))],
    )
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": model_max_length,
                                                              "pad_token": "<pad>"}))
    return folder


def make_crisis_model(out: Path, tokenizer: Path | None, seed: int = 0, text_std: float = 1.0, gain: float = 4.0,
                      **overrides):
    """Export a tiny random crisis classifier to `out` (tokenizer copied beside it) through a
    checkpoint file, as a user would; returns (onnx path, torch model, config).

    With XLM-R's initialisation (std 0.02) a random one-layer text encoder gives nearly the same
    CLS vector for every text; `text_std` re-draws its weights wider and `gain` scales the last
    layer, so a different text visibly changes the scores, as with a trained model.
    """
    import torch

    mm = export_script()
    cfg = tiny_config(mm, **overrides)
    cfg.check()
    torch.manual_seed(seed)
    model = mm.build_model(cfg)
    with torch.no_grad():
        for module in model.text_encoder.modules():
            if isinstance(module, torch.nn.Linear | torch.nn.Embedding):
                module.weight.normal_(0.0, text_std)
        model.classifier[-1].weight.mul_(gain)
    out.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = out.with_suffix(".pth")
    torch.save(model.state_dict(), checkpoint)
    path, loaded = mm.export(cfg, checkpoint, out, tokenizer, "crisis", "1", "CC0-1.0", "tests/multimodal_kit.py")
    return path, loaded, cfg


def torch_scores(model, pixels, ids: list[int]):
    """Softmax of the PyTorch model for one normalised photo (1, 3, H, W) and one unpadded text."""
    import torch

    with torch.no_grad():
        logits = model(torch.from_numpy(pixels), torch.tensor([ids], dtype=torch.long),
                       torch.ones(1, len(ids), dtype=torch.long))
    return torch.softmax(logits.double(), dim=1).numpy()[0]
