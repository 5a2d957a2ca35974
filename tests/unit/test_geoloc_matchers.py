"""Matchers on real photos: keypoints in each image's own pixels, checked against known
homographies and the Middlebury ground-truth disparity; missing weights give clear reasons."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from mist_qgis.core.geoloc import matchers, synthetic
from mist_qgis.core.geoloc.evaluate import stereo_disparity_quality
from mist_qgis.core.geoloc.features import Features
from tests.helpers import built_models

sys.path.insert(0, str(built_models.REPO / "models"))


def _view_pair(seed=1, size_a=(480, 360), size_b=(320, 240)):
    rng = np.random.default_rng(seed)
    src = synthetic.photo("astronaut")
    a = synthetic.make_view(src, rng, size_a, frac=0.7, scene="astronaut")
    b = synthetic.make_view(src, rng, size_b, frac=0.7, center=a.center, scene="astronaut")
    a_to_b = np.linalg.inv(b.to_source) @ a.to_source
    return a, b, a_to_b


def _reprojection_ok(result, a_to_b, tol=3.0):
    predicted = synthetic.map_points(a_to_b, result.keypoints0)
    return np.linalg.norm(predicted - result.keypoints1, axis=1) < tol


@pytest.mark.parametrize("bad, message", [
    ([[1, 2]], "not a numpy array"),
    (np.zeros((32, 32, 3), np.float32), "dtype"),
    (np.zeros((32, 32), np.uint8), "H x W x 3"),
    (np.zeros((32, 32, 4), np.uint8), "H x W x 3"),
    (np.zeros((8, 32, 3), np.uint8), "smaller than"),
])
def test_bad_images_are_refused_with_a_reason(bad, message):
    with pytest.raises(matchers.MatcherInputError, match=message):
        matchers.create("sift").match(bad, np.zeros((32, 32, 3), np.uint8))


def test_unknown_matcher_name():
    with pytest.raises(ValueError, match="disk-lightglue"):
        matchers.create("superglue")


def test_loftr_needs_its_exported_onnx_model(tmp_path):
    with pytest.raises(matchers.MatcherUnavailable, match="outdoor_ds.ckpt"):
        matchers.create("loftr", models_dir=tmp_path)
    with pytest.raises(matchers.MatcherUnavailable, match="runs an ONNX model, not outdoor_ds.ckpt"):
        matchers.create("loftr", weights_path=tmp_path / "outdoor_ds.ckpt")


def test_lightglue_without_its_models_says_how_to_build_them(tmp_path):
    with pytest.raises(matchers.MatcherUnavailable, match=r"disk\.onnx.*make models"):
        matchers.create("disk-lightglue", models_dir=tmp_path)


def test_sift_keypoints_follow_the_known_homography():
    a, b, a_to_b = _view_pair()
    result = matchers.create("sift").match(a.image, b.image)
    assert result.n > 50
    assert _reprojection_ok(result, a_to_b).mean() > 0.8
    assert np.all(result.confidence > 0.2) and np.all(result.confidence <= 1)
    assert result.image0_size == (480, 360) and result.image1_size == (320, 240)


@pytest.fixture(scope="module")
def model_dir():
    return built_models.ensure("disk.onnx", "lightglue-disk.onnx")


@pytest.fixture(scope="module")
def disk(model_dir):
    return matchers.create("disk-lightglue", models_dir=model_dir, max_side=320, max_keypoints=512)


@pytest.fixture(scope="module")
def middlebury():
    import skimage.data

    return skimage.data.stereo_motorcycle()


def test_default_matcher_on_the_middlebury_stereo_pair(model_dir, middlebury):
    """The default matcher (ONNX DISK + LightGlue at its default 640 px, 1024 keypoints): at least
    300 matches, at least 80% within 3 px of the true disparity, in the original pixels."""
    left, right, disparity = middlebury
    matcher = matchers.create(models_dir=model_dir)
    assert matcher.name == matchers.DEFAULT_MATCHER == "disk-lightglue"
    assert matcher.provider in ("CPUExecutionProvider", "CUDAExecutionProvider")
    result = matcher.match(left, right)
    quality = stereo_disparity_quality(result, disparity)
    assert quality["matches"] >= 300 and quality["with_truth"] >= 250
    assert quality["within_3px"] >= 0.8
    k0, k1 = result.keypoints0, result.keypoints1
    assert k0[:, 0].max() < 741 and k0[:, 1].max() < 500 and k0.min() > -1  # original pixels, not 640-px ones
    assert np.median(np.abs(k0[:, 1] - k1[:, 1])) < 1.5  # rectified pair: same rows
    assert np.all((result.confidence > 0.1) & (result.confidence <= 1))


@pytest.mark.slow  # the build-time comparison (torch): `make test-all` and CI
def test_onnx_matcher_agrees_with_the_torch_path(model_dir, middlebury):
    """Same pair, same settings: ONNX Runtime keeps at least as many matches as kornia, at least as
    accurate; the keypoints are kornia's own."""
    torch_matchers = pytest.importorskip("torch_matchers", reason="the torch reference needs torch and kornia")
    left, right, disparity = middlebury
    onnx = matchers.create("disk-lightglue", models_dir=model_dir)
    reference = torch_matchers.create("disk-lightglue", torch_matchers.packaged_weights())
    f_onnx, f_torch = onnx.extract(left), reference.extract(left)
    np.testing.assert_array_equal(f_onnx.keypoints, f_torch.keypoints)
    assert np.abs(f_onnx.descriptors.astype(np.float32) - f_torch.descriptors.astype(np.float32)).max() < 2e-3
    got = stereo_disparity_quality(onnx.match(left, right), disparity)
    want = stereo_disparity_quality(reference.match(left, right), disparity)
    assert got["matches"] >= want["matches"], (got, want)
    assert got["within_3px"] >= want["within_3px"] - 1e-9, (got, want)


def test_deformable_convolution_graph_equals_torchvision(tmp_path):
    """ALIKED's deformable convolution written as gathers and a matmul: torchvision's
    deform_conv2d on random inputs (plain, strided, dilated, modulated), in PyTorch and as an
    ONNX graph run by onnxruntime at a size other than the one it was traced at."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    import matcher_nets
    import onnxruntime as ort

    gen = torch.Generator().manual_seed(3)
    cases = [(2, 5, 13, 17, 7, 1, 1, 1, False), (1, 8, 20, 11, 4, 2, 1, 1, True), (1, 3, 9, 9, 6, 1, 2, 2, False)]
    for b, c, h, w, cout, stride, pad, dil, modulated in cases:
        x = torch.randn(b, c, h, w, generator=gen)
        weight, bias = torch.randn(cout, c, 3, 3, generator=gen), torch.randn(cout, generator=gen)
        ho, wo = (h + 2 * pad - 2 * dil - 1) // stride + 1, (w + 2 * pad - 2 * dil - 1) // stride + 1
        offset = torch.randn(b, 18, ho, wo, generator=gen) * 4  # many taps land between pixels and outside
        mask = torch.rand(b, 9, ho, wo, generator=gen) if modulated else None
        want = torchvision.ops.deform_conv2d(x, offset, weight, bias, stride=stride, padding=pad, dilation=dil,
                                             mask=mask)
        got = matcher_nets.deform_conv2d_graph(x, offset, weight, bias, stride, pad, dil, mask)
        assert got.shape == want.shape and (got - want).abs().max().item() < 1e-4

    class Deform(torch.nn.Module):
        def forward(self, x, offset):
            return matcher_nets.deform_conv2d_graph(x, offset, weight, bias)

    path = tmp_path / "deform.onnx"
    cout, c = weight.shape[0], weight.shape[1]
    torch.onnx.export(Deform(), (torch.randn(1, c, 10, 12), torch.randn(1, 18, 10, 12)), str(path), dynamo=False,
                      opset_version=17, input_names=["x", "offset"], output_names=["y"],
                      dynamic_axes={"x": {2: "h", 3: "w"}, "offset": {2: "h", 3: "w"}, "y": {2: "h", 3: "w"}})
    x, offset = torch.randn(1, c, 23, 31, generator=gen), torch.randn(1, 18, 23, 31, generator=gen) * 5
    (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x.numpy(), "offset": offset.numpy()})
    want = torchvision.ops.deform_conv2d(x, offset, weight, bias, padding=1).numpy()
    assert got.shape == (1, cout, 23, 31) and np.abs(got - want).max() < 1e-4


@pytest.fixture(scope="module")
def aliked_dir():
    return built_models.ensure("aliked-n16.onnx", "lightglue-aliked.onnx")


def test_aliked_matcher_on_the_middlebury_pair(aliked_dir, middlebury):
    """ONNX ALIKED-n16 + LightGlue at 640 px, 1024 keypoints: at least 300 matches, 80 % within
    3 px of the true disparity."""
    left, right, disparity = middlebury
    onnx = matchers.create("aliked-lightglue", models_dir=aliked_dir)
    got = stereo_disparity_quality(onnx.match(left, right), disparity)
    assert got["matches"] >= 300 and got["within_3px"] >= 0.8, got


@pytest.mark.slow  # the build-time comparison (torch): `make test-all` and CI
def test_aliked_matcher_agrees_with_the_torch_path(aliked_dir, middlebury):
    """Against kornia's ALIKED on PyTorch: the same keypoints and descriptors, at least as many
    matches, at least as accurate."""
    left, right, disparity = middlebury
    onnx = matchers.create("aliked-lightglue", models_dir=aliked_dir)
    got = stereo_disparity_quality(onnx.match(left, right), disparity)
    torch_matchers = pytest.importorskip("torch_matchers", reason="the torch reference needs torch and kornia")
    reference = torch_matchers.create("aliked-lightglue", torch_matchers.packaged_weights())
    f_onnx, f_torch = onnx.extract(left), reference.extract(left)
    assert f_onnx.n == f_torch.n == 1024
    # sub-pixel keypoints listed strongest first: pair each kornia keypoint with its nearest ONNX one
    dist = np.linalg.norm(f_torch.keypoints[:, None] - f_onnx.keypoints[None], axis=2)
    nearest = dist.argmin(1)
    assert dist.min(1).max() < 1e-2 and len(set(nearest.tolist())) == f_torch.n
    assert np.abs(f_onnx.descriptors[nearest].astype(np.float32) - f_torch.descriptors.astype(np.float32)).max() < 2e-3
    want = stereo_disparity_quality(reference.match(left, right), disparity)
    assert got["matches"] >= want["matches"], (got, want)
    assert got["within_3px"] >= want["within_3px"] - 1e-9, (got, want)


@pytest.mark.parametrize("name, files", [("disk-lightglue", ("disk.onnx", "lightglue-disk.onnx")),
                                         ("aliked-lightglue", ("aliked-n16.onnx", "lightglue-aliked.onnx"))])
def test_a_photo_without_keypoints_gives_no_matches(name, files, middlebury):
    """No keypoint (a budget of 0 here): the extractor graph returns empty arrays, the match is
    empty, nothing fails."""
    matcher = matchers.create(name, models_dir=built_models.ensure(*files), max_keypoints=0)
    left, right, _ = middlebury
    features = matcher.extract(left)
    assert features.n == 0 and features.descriptors.shape == (0, 128)
    assert matcher.match(left, right).n == 0


def _with_card(source: Path, target: Path, **changes) -> Path:
    """A copy of an ONNX model with some `mist.*` metadata values replaced (JSON) or removed (None)."""
    import json

    import onnx

    model = onnx.load(str(source))
    props = {p.key: p.value for p in model.metadata_props}
    for key, value in changes.items():
        if value is None:
            props.pop(f"mist.{key}", None)
        else:
            props[f"mist.{key}"] = json.dumps(value)
    del model.metadata_props[:]
    for key, value in props.items():
        model.metadata_props.add(key=key, value=value)
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))
    return target


@pytest.mark.parametrize("file, changes, message", [
    ("lightglue-disk.onnx", {"extractor": "aliked-n16@1"}, r"lightglue-disk\.onnx: metadata key 'mist\.extractor'"),
    ("lightglue-disk.onnx", {"graph": "dense-matches"}, r"lightglue-disk\.onnx: metadata key 'mist\.graph'"),
    ("lightglue-disk.onnx", {"n_layers": 7}, r"lightglue-disk\.onnx: metadata key 'mist\.confidence_thresholds'"),
    ("lightglue-disk.onnx", {"filter_threshold": 2}, r"lightglue-disk\.onnx: metadata key 'mist\.filter_threshold'"),
    ("lightglue-disk.onnx", {"inputs": {"keypoints0": "kpts0"}}, r"lightglue-disk\.onnx: metadata key 'mist\.inputs'"),
    ("disk.onnx", {"outputs": {"keypoints": "keypoints", "scores": "scores"}},
     r"disk\.onnx: metadata key 'mist\.outputs' lacks the role\(s\) \['descriptors'\]"),
    ("disk.onnx", {"outputs": {"keypoints": "kp", "scores": "scores", "descriptors": "descriptors"}},
     r"disk\.onnx: metadata key 'mist\.outputs' names keypoints output 'kp'"),
    ("disk.onnx", {"task": "segment", "input_size": [480, 640]}, r"disk\.onnx: metadata key 'mist\.task'"),
])
def test_a_matcher_model_that_does_not_fit_its_card_is_refused_naming_file_and_key(
        model_dir, tmp_path, file, changes, message):
    import shutil

    folder = tmp_path / "models"
    for name in ("disk.onnx", "lightglue-disk.onnx"):
        if name == file:
            _with_card(model_dir / name, folder / name, **changes)
        else:
            folder.mkdir(exist_ok=True)
            shutil.copyfile(model_dir / name, folder / name)
    with pytest.raises(matchers.MatcherUnavailable, match=message):
        matchers.create("disk-lightglue", models_dir=folder)


def test_disk_lightglue_cached_features_match_like_fresh_ones(disk):
    a, b, a_to_b = _view_pair(seed=5, size_a=(800, 600))  # query larger than max_side: resized inside
    fa, fb = disk.extract(a.image), disk.extract(b.image)
    assert fa.image_size == (800, 600) and fa.embedding.shape == (128,)
    assert abs(float(np.linalg.norm(fa.embedding)) - 1.0) < 1e-4
    fresh = disk.match_features(fa, fb)
    cached = disk.match_features(Features.from_bytes(fa.to_bytes()), Features.from_bytes(fb.to_bytes()))
    assert fresh.n > 100
    assert _reprojection_ok(fresh, a_to_b, tol=4.0).mean() > 0.85
    assert abs(cached.n - fresh.n) <= max(3, fresh.n // 50)  # float16 descriptors in the cache
    assert _reprojection_ok(cached, a_to_b, tol=4.0).mean() > 0.85


def test_feature_blob_rejects_garbage():
    from mist_qgis.core.geoloc.features import FeatureBlobError

    with pytest.raises(FeatureBlobError):
        Features.from_bytes(b"not an npz")


@pytest.mark.slow
def test_loftr_exported_from_a_local_checkpoint_matches_like_kornia(tmp_path, middlebury):
    """A random-weight LoFTR saved like the official checkpoint, exported (threshold 0 so random
    weights still give matches), run through onnxruntime: kornia's matches, in original pixels."""
    torch = pytest.importorskip("torch")
    import export_matchers
    import matcher_nets
    from kornia.feature.loftr.loftr import LoFTR

    ckpt = tmp_path / "outdoor_ds.ckpt"
    torch.save({"state_dict": {f"matcher.{k}": v for k, v in LoFTR(pretrained=None).state_dict().items()}}, ckpt)
    model = export_matchers.export_loftr(ckpt, tmp_path, coarse_threshold=0.0)
    loftr = matchers.create("loftr", weights_path=model)
    left, right, _ = middlebury
    got = loftr.match(left, right)
    assert got.image0_size == (741, 500) and got.keypoints0.shape == (got.n, 2)
    reference = matcher_nets.LoFTRMatches(matcher_nets.kornia_loftr(ckpt, 0.0)).eval()
    with torch.inference_mode():
        k0, k1, conf = reference(torch.from_numpy(loftr._gray(left)), torch.from_numpy(loftr._gray(right)))
    assert got.n > 20 and abs(got.n - len(conf)) <= max(2, len(conf) // 50)  # random weights: near-ties only
    want0 = matchers.to_original(k0.numpy() - 0.5, 741 / 640, 500 / 480)
    common = {tuple(np.round(p, 2)) for p in got.keypoints0} & {tuple(np.round(p, 2)) for p in want0}
    assert len(common) >= 0.95 * len(conf)
    assert loftr.extract(left).embedding.shape[0] > 0


def test_a_corrupt_matcher_file_is_refused_with_its_name(model_dir, tmp_path):
    import shutil

    shutil.copyfile(model_dir / "disk.onnx", tmp_path / "disk.onnx")
    (tmp_path / "lightglue-disk.onnx").write_bytes(b"\x08\x07not a protobuf" * 100)
    with pytest.raises(matchers.MatcherUnavailable, match=r"lightglue-disk\.onnx is not a readable ONNX model"):
        matchers.create("disk-lightglue", models_dir=tmp_path)
