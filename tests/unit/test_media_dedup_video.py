"""Near-duplicate rules and video helpers on their own (the store-level behaviour is in
test_media_pipeline.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mist_qgis.core.images.dedup import (
    DedupItem,
    distinct_by_histogram,
    find_duplicates,
    grey_histogram,
    hamming_distances,
    histogram_correlation,
    perceptual_hash,
)
from mist_qgis.core.images.safe_decode import DecodeError, ImageLimits
from mist_qgis.core.images.video import VideoLimits, extract_stable_frames, probe_video, sniff_video
from tests.media_fixtures import jpeg_bytes, photo, write_video


def test_hamming_distances():
    hashes = np.array([0, 0xFF, 2**64 - 1], dtype=np.uint64)
    assert hamming_distances(hashes, 0).tolist() == [0, 8, 64]
    assert hamming_distances(hashes, 1).tolist() == [1, 7, 63]


def test_find_duplicates_keeps_the_first_and_needs_both_signals():
    base = photo("astronaut", 256)
    import io

    recompressed = Image.open(io.BytesIO(jpeg_bytes(base.resize((200, 200)), quality=50)))
    darker = Image.eval(base, lambda v: v // 3)  # same structure, very different histogram
    images = {1: base, 2: photo("coffee", 256), 3: recompressed, 4: darker}
    assert histogram_correlation(grey_histogram(base), grey_histogram(darker)) < 0.9
    items = [DedupItem(fid, perceptual_hash(img)) for fid, img in images.items()]
    calls = []

    def hist(item):
        calls.append(item.fid)
        return grey_histogram(images[item.fid])

    assert find_duplicates(items, hist) == {3: 1}
    assert 2 not in calls  # no hash candidate, no histogram computed
    same_bytes = [DedupItem(1, "ffffffffffffffff", "a" * 64), DedupItem(9, "0000000000000000", "a" * 64)]
    assert find_duplicates(same_bytes, hist) == {9: 1}
    assert find_duplicates([DedupItem(5, "not hex")], hist) == {}


def test_distinct_by_histogram_drops_later_lookalikes():
    hists = [grey_histogram(photo(n, 64)) for n in ("chelsea", "chelsea", "rocket", "chelsea")]
    assert distinct_by_histogram(["a", "b", "c", "d"], hists) == ["a", "c"]


def test_sniff_video_containers():
    assert sniff_video(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00") == ("video/mp4", ".mp4")
    assert sniff_video(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00") == ("video/quicktime", ".mov")
    assert sniff_video(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") is None  # a HEIF still photo
    assert sniff_video(b"RIFF\x00\x00\x00\x00AVI LIST") == ("video/x-msvideo", ".avi")
    assert sniff_video(b"\x1a\x45\xdf\xa3\x01\x00\x00\x00webm") == ("video/webm", ".webm")
    assert sniff_video(jpeg_bytes(photo(size=16))) is None


def test_stable_frames_follow_the_flow_rule(tmp_path):
    path = tmp_path / "pan.avi"
    write_video(path, [("coffee", 6, 10)])  # the camera pans all the time
    assert extract_stable_frames(path) == []
    still = tmp_path / "still.avi"
    write_video(still, [("coffee", 6, 0), ("astronaut", 6, 0)], size=(320, 240))
    frames = extract_stable_frames(still, VideoLimits(analysis_width=160))  # flow on half-size frames
    assert [f.index for f in frames] == [1, 7] and all(f.mean_flow_px < 1.0 for f in frames)
    assert frames[0].rgb.shape == (240, 320, 3)  # kept at full resolution
    assert len(extract_stable_frames(still, VideoLimits(max_stable_frames=1))) == 1
    with pytest.raises(DecodeError, match="video frames of 320x240 = 76800 pixels exceeds the limit of 1000"):
        extract_stable_frames(still, VideoLimits(image_limits=ImageLimits(max_pixels=1000)))


def test_broken_video_refused(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    with pytest.raises(DecodeError):
        probe_video(bad)
