"""Shared plumbing of the export scripts in `models/`: loading user checkpoints without
unpickling code, exporting a PyTorch module to ONNX with its card, and checking that ONNX Runtime
and PyTorch agree on the result.

Checkpoints are untrusted: `torch.load(..., weights_only=True)` refuses anything but tensors and
plain containers, and safetensors files are read without pickle at all.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import MistError
from .card import ModelCard, embed_card

OPSET = 17
MAX_IR_VERSION = 10


class CheckpointError(MistError, ValueError):
    """A checkpoint cannot be used safely or does not fit the architecture."""


def load_state_dict(path: str | Path, entry: str | None = None) -> dict[str, Any]:
    """Tensors from a local checkpoint (.pt/.pth/.bin via weights-only torch.load, or .safetensors).

    Accepts a bare state dict or one wrapped under "state_dict", "model_state_dict" or "model"
    (or under `entry` when given, as DISK's "extractor"), and strips DataParallel's "module." prefix.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist (export scripts take local files only)")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state: Any = load_file(str(path), device="cpu")
    else:
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise CheckpointError(
                f"refused to load {path}: it holds Python objects or code, not just weights "
                f"(loaded with weights_only=True; re-save it as a state dict). Detail: {str(exc).splitlines()[0]}"
            ) from None
        except (RuntimeError, EOFError, ValueError) as exc:
            raise CheckpointError(f"{path} is not a PyTorch checkpoint: {exc}") from None
    if entry is not None:
        if not isinstance(state, Mapping) or not isinstance(state.get(entry), Mapping):
            raise CheckpointError(f"{path} has no {entry!r} entry")
        state = state[entry]
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            state = state[key]
            break
    if not isinstance(state, Mapping) or not state or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a state dict of tensors")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}


def load_into(module: Any, state: Mapping[str, Any], path: str | Path) -> None:
    """Load a state dict strictly, turning key/shape mismatches into one clear error."""
    try:
        module.load_state_dict(dict(state), strict=True)
    except RuntimeError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()][:4]
        raise CheckpointError(f"{path} does not fit this architecture: {' '.join(lines)}") from None


def export_onnx(
    module: Any, args: tuple, path: str | Path, card: ModelCard, input_names: Sequence[str],
    output_names: Sequence[str], dynamic_axes: Mapping[str, Mapping[int, str]] | None = None,
) -> Path:
    """Export an eval-mode module to ONNX (opset 17, TorchScript exporter), embed its card, check it."""
    import onnx
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module.eval()
    fastpath = torch.backends.mha.get_fastpath_enabled()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        # the fused attention fast path has no ONNX form; the plain ops export and compute the same
        torch.backends.mha.set_fastpath_enabled(False)
        try:
            with torch.no_grad():
                torch.onnx.export(
                    module, args, str(raw), dynamo=False, opset_version=OPSET, input_names=list(input_names),
                    output_names=list(output_names), dynamic_axes=dict(dynamic_axes or {}),
                    do_constant_folding=True,
                )
        finally:
            torch.backends.mha.set_fastpath_enabled(fastpath)
        model = onnx.load(str(raw))
    model.ir_version = min(model.ir_version, MAX_IR_VERSION)
    model.producer_name = "mist_qgis"
    embed_card(model, card)
    onnx.checker.check_model(model)
    tmp_out = path.with_suffix(".onnx.part")
    onnx.save(model, str(tmp_out))
    tmp_out.replace(path)
    return path


def max_abs_diff(module: Any, onnx_path: str | Path, feeds: Mapping[str, Any]) -> dict[str, float]:
    """Run the module and the ONNX file on the same inputs; max |difference| per output name."""
    import numpy as np
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got = session.run(names, {k: np.asarray(v) for k, v in feeds.items()})
    with torch.no_grad():
        ref = module(*[torch.from_numpy(np.asarray(v)) for v in feeds.values()])
    if torch.is_tensor(ref):
        ref = (ref,)
    return {n: float(np.abs(g - r.numpy()).max()) for n, g, r in zip(names, got, ref, strict=True)}
