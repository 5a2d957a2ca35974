"""Matchers on real photos: keypoints in each image's own pixels, checked against known
homographies and the Middlebury ground-truth disparity; missing weights give clear reasons."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from mist_qgis.core.geoloc import matchers, synthetic
from mist_qgis.core.geoloc.features import Features


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


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_loftr_needs_a_local_weights_file(tmp_path):
    with pytest.raises(matchers.MatcherUnavailable, match="local file"):
        matchers.create("loftr")
    with pytest.raises(matchers.MatcherUnavailable, match="not found"):
        matchers.create("loftr", weights_path=tmp_path / "outdoor_ds.ckpt")
    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps({"state_dict": object()}))
    with pytest.raises(matchers.MatcherUnavailable, match="cannot read weights"):
        matchers.create("loftr", weights_path=evil)


def test_lightglue_without_weights_folder_says_what_to_install(tmp_path):
    with pytest.raises(matchers.MatcherUnavailable, match="disk-depth-save.pth"):
        matchers.create("disk-lightglue", weights_dir=tmp_path)


def test_sift_keypoints_follow_the_known_homography():
    a, b, a_to_b = _view_pair()
    result = matchers.create("sift").match(a.image, b.image)
    assert result.n > 50
    assert _reprojection_ok(result, a_to_b).mean() > 0.8
    assert np.all(result.confidence > 0.2) and np.all(result.confidence <= 1)
    assert result.image0_size == (480, 360) and result.image1_size == (320, 240)


@pytest.fixture(scope="module")
def disk():
    return matchers.create("disk-lightglue", max_side=320, max_keypoints=512)


def test_disk_lightglue_on_the_middlebury_stereo_pair(disk):
    import skimage.data

    left, right, disparity = skimage.data.stereo_motorcycle()
    result = disk.match(left, right)
    assert result.n > 150
    k0, k1 = result.keypoints0, result.keypoints1
    assert k0[:, 0].max() < 741 and k0[:, 1].max() < 500 and k0.min() > -1  # original pixels, not 320-px ones
    rows = np.clip(np.rint(k0[:, 1]).astype(int), 0, 499)
    cols = np.clip(np.rint(k0[:, 0]).astype(int), 0, 740)
    truth = disparity[rows, cols]
    known = np.isfinite(truth)
    assert np.mean(np.abs((k0[:, 0] - k1[:, 0])[known] - truth[known]) < 4.0) > 0.7
    assert np.median(np.abs(k0[:, 1] - k1[:, 1])) < 1.5  # rectified pair: same rows


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
def test_aliked_lightglue_loads_the_packaged_weights_and_matches():
    a, b, a_to_b = _view_pair(seed=2)
    result = matchers.create("aliked-lightglue", max_side=320, max_keypoints=512).match(a.image, b.image)
    assert result.n > 100
    assert _reprojection_ok(result, a_to_b, tol=4.0).mean() > 0.8


@pytest.mark.slow
def test_loftr_runs_paper_faithfully_from_a_local_file(tmp_path):
    import torch
    from kornia.feature.loftr.loftr import LoFTR

    path = tmp_path / "outdoor_ds.ckpt"
    torch.save({"state_dict": {f"matcher.{k}": v for k, v in LoFTR(pretrained=None).state_dict().items()}}, path)
    loftr = matchers.create("loftr", weights_path=path)
    assert loftr.model.coarse_matching.thr == pytest.approx(0.2)
    a, b, _ = _view_pair(seed=3, size_a=(800, 600), size_b=(1024, 1024))
    result = loftr.match(a.image, b.image)  # random weights: any number of matches, right frames
    assert result.keypoints0.shape == (result.n, 2) and result.keypoints1.shape == (result.n, 2)
    if result.n:
        assert result.confidence.min() > 0.2
        assert result.keypoints0[:, 0].max() < 800 and result.keypoints1[:, 1].max() < 1024
    assert loftr.extract(a.image).embedding.shape == (256,)
