"""The one safe image opener: one set of limits, one decode budget, and every decoder of images
from strangers going through it. Each caller is shown an oversized image (a PNG header declaring
30000 x 30000 pixels: 900 megapixels in 100 bytes) and must refuse it with a clear reason,
without decoding a pixel and without stopping its run."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from PIL import Image

from mist_qgis.core.errors import MistError
from mist_qgis.core.images.safe_decode import (
    DecodeBudget,
    DecodeCancelled,
    DecodeError,
    ImageLimits,
    ImageTooLarge,
    decode_file,
    decode_image,
    read_header,
)
from tests.media_fixtures import exif_jpeg, jpeg_bytes, photo, png_bytes, png_declaring

BOMB = png_declaring(30_000, 30_000)


@pytest.fixture
def bomb(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(BOMB)
    return path


# -- the opener itself -----------------------------------------------------------------------


def test_an_oversized_image_is_its_own_error_a_mist_error():
    assert len(BOMB) < 200
    for call in (lambda: decode_image(BOMB), lambda: read_header(BOMB)):
        with pytest.raises(ImageTooLarge, match="image of 900000000 pixels exceeds the limit of 50000000") as caught:
            call()
        assert isinstance(caught.value, MistError) and isinstance(caught.value, DecodeError)


def test_pillows_own_bomb_error_becomes_image_too_large():
    """Above twice Pillow's MAX_IMAGE_PIXELS Pillow raises while opening, below it only warns:
    both give the opener's reason, with the opener's limit."""
    with pytest.raises(ImageTooLarge, match="image of 10000000000 pixels exceeds the limit of 50000000$"):
        decode_image(png_declaring(100_000, 100_000))
    with pytest.warns(Image.DecompressionBombWarning), \
            pytest.raises(ImageTooLarge, match="image of 11000x11000 = 121000000 pixels exceeds the limit of 50000000"):
        decode_image(png_declaring(11_000, 11_000))


def test_one_set_of_limits_for_bytes_and_pixels(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes(photo("coffee", 200)))
    assert decode_file(path).width == 200
    with pytest.raises(ImageTooLarge, match="more than the limit of 100"):
        decode_file(path, ImageLimits(max_bytes=100))
    with pytest.raises(ImageTooLarge, match="exceeds the limit of 1000"):
        read_header(path, ImageLimits(max_pixels=1000))


def test_only_regular_files_are_opened(tmp_path):
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    with pytest.raises(DecodeError, match="not a regular file"):
        decode_file(fifo)  # would block forever if it were opened


def test_the_header_reader_gives_exif_without_decoding(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(exif_jpeg(photo("astronaut", 64)))
    header = read_header(path)
    assert (header.format, header.width, header.height) == ("JPEG", 64, 64)
    assert header.exif.get_ifd(0x8825)  # the GPS block


def test_no_image_is_decoded_anywhere_else():
    """Pillow, OpenCV and imageio decoders are called only inside the opener."""
    import re
    from pathlib import Path

    import mist_qgis

    pattern = re.compile(r"Image\.open\(|cv2\.imread|cv2\.imdecode|imageio\.|skimage\.io\.imread")
    root = Path(mist_qgis.__file__).parent
    found = sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if pattern.search(p.read_text("utf-8")))
    assert found == ["core/images/safe_decode.py"]


# -- the decode budget -----------------------------------------------------------------------


def _decode_in_threads(payloads, budget, hold_s=0.05):
    """Decode each payload on its own thread and keep the result for `hold_s`; return the most
    pixels the threads held at once, counted by the threads themselves."""
    lock = threading.Lock()
    held = {"now": 0, "peak": 0}
    errors = []

    def work(data):
        try:
            with decode_image(data, budget=budget) as decoded:
                pixels = decoded.width * decoded.height
                with lock:
                    held["now"] += pixels
                    held["peak"] = max(held["peak"], held["now"])
                time.sleep(hold_s)
                with lock:
                    held["now"] -= pixels
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(data,)) for data in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    return held["peak"]


def test_the_budget_limits_pixels_in_flight_across_threads():
    data = png_bytes(Image.new("RGB", (400, 250), (90, 120, 150)))  # 100,000 pixels each
    budget = DecodeBudget(250_000)  # room for two at once, not three
    peak = _decode_in_threads([data] * 8, budget)
    assert 200_000 <= peak <= 250_000  # two ran together, never three
    assert budget.peak <= 250_000 and budget.in_flight == 0
    unbounded = DecodeBudget(10**12)
    assert _decode_in_threads([data] * 8, unbounded) > 250_000  # without it, more run at once


def test_an_image_larger_than_the_budget_but_within_the_cap_runs_alone():
    data = png_bytes(Image.new("RGB", (600, 500), (1, 2, 3)))  # 300,000 pixels
    budget = DecodeBudget(100_000)
    with decode_image(data, budget=budget) as decoded:
        assert decoded.width == 600 and budget.in_flight == 100_000
    assert budget.in_flight == 0


def test_a_decode_waiting_for_the_budget_can_be_cancelled():
    budget = DecodeBudget(100_000)
    data = png_bytes(Image.new("RGB", (100, 100)))
    flag = threading.Event()
    threading.Timer(0.3, flag.set).start()
    with budget.hold(100_000):  # someone else is decoding a large photo
        start = time.monotonic()
        with pytest.raises(DecodeCancelled):
            decode_image(data, budget=budget, is_cancelled=flag.is_set)
        assert time.monotonic() - start < 5
    assert budget.in_flight == 0


def test_pixels_are_given_back_when_the_image_is_dropped_or_fails():
    budget = DecodeBudget(1_000_000)
    decoded = decode_image(png_bytes(photo("coffee", 100)), budget=budget)
    assert budget.in_flight > 0
    del decoded  # not closed: garbage collection gives the pixels back
    assert budget.in_flight == 0
    with pytest.raises(DecodeError):
        decode_image(jpeg_bytes(photo())[:3000], budget=budget)  # truncated
    assert budget.in_flight == 0


# -- every caller refuses an oversized image ---------------------------------------------------


def test_media_vetting_fails_the_row_and_caches_nothing(tmp_path):
    from mist_qgis.core.images.acquire import Acquirer, Source
    from mist_qgis.core.images.cache import MediaCache

    cache = MediaCache(tmp_path / "media")
    acquirer = Acquirer(cache, None, None, max_bytes=10_000_000)
    result = acquirer.vet(7, "photo", Source(BOMB, "http://example.org/a.png", "image/png"))
    assert result.status == "failed" and result.fid == 7
    assert result.error.startswith("decompression bomb: image of 900000000 pixels")
    assert not (tmp_path / "media").exists() or not list((tmp_path / "media").rglob("*.png"))


def test_duplicate_linking_survives_a_cached_file_that_became_a_bomb(store, tmp_path):
    """The dedup step re-decodes a cached photo whose thumbnail is missing."""
    from mist_qgis.core.images.pipeline import FetchOptions, link_duplicates, run_fetch_media
    from mist_qgis.core.posts import MediaRef, PostRecord

    drive = tmp_path / "drive"
    drive.mkdir()
    base = photo("astronaut", 256)
    (drive / "orig.jpg").write_bytes(jpeg_bytes(base, quality=92))
    (drive / "repost.jpg").write_bytes(jpeg_bytes(base.resize((180, 180)), quality=60))
    with store.batch() as conn:
        store.add_posts(conn, [PostRecord(post_id=name, platform="weibo", media=[MediaRef(path=f"{name}.jpg")])
                               for name in ("orig", "repost")])
    run_fetch_media(store, FetchOptions(media_dir=drive, locate_from_exif=False))
    assert link_duplicates(store) == 1
    row = store.query("SELECT m.sha256, m.cache_path FROM media m JOIN posts p ON p.fid = m.post_fid "
                      "WHERE p.post_id = 'repost'")[0]
    (store.media_dir / "thumbs" / f"{row['sha256']}.jpg").unlink()
    store.media_file(row["cache_path"]).write_bytes(BOMB)
    assert link_duplicates(store) == 0  # the bomb is linked to nothing; the run goes on


def test_video_frames_above_the_cap_are_refused_before_decoding(tmp_path):
    from mist_qgis.core.images.video import VideoLimits, extract_stable_frames, probe_video
    from tests.media_fixtures import write_video

    clip = tmp_path / "clip.avi"
    write_video(clip, [("coffee", 3, 0)], size=(320, 240))
    small = ImageLimits(max_pixels=10_000)  # the clip's frames play the oversized image here
    with pytest.raises(ImageTooLarge, match="video frames of 320x240"):
        probe_video(clip, small)
    with pytest.raises(ImageTooLarge, match="video frames of 320x240"):
        extract_stable_frames(clip, VideoLimits(image_limits=small))
    assert probe_video(clip).width == 320


def test_model_preprocessing_refuses_it(bomb):
    from mist_qgis.core.models.preprocess import load_for_model
    from tests.helpers.modelkit import colour_card

    with pytest.raises(ImageTooLarge, match="900000000 pixels"):
        load_for_model(bomb, colour_card())


def test_geolocation_photos_and_the_match_view_refuse_it(bomb, tmp_path):
    from mist_qgis.core.geoloc.match_view import QUERY_UNUSABLE, MatchSource, MatchViewError, render_match_view
    from mist_qgis.core.geoloc.photos import load_photo

    loaded = load_photo(bomb)
    assert not loaded.ok and "decompression bomb: image of 900000000 pixels" in loaded.reason
    good = tmp_path / "good.jpg"
    good.write_bytes(jpeg_bytes(photo("astronaut", 256)))
    assert load_photo(good).ok
    source = MatchSource(1, 1, "ref-1", "sift", "photo", query_path=str(bomb), ref_path=str(good))
    with pytest.raises(MatchViewError, match="decompression bomb") as caught:
        render_match_view(source, tmp_path / "views")
    assert caught.value.kind == QUERY_UNUSABLE


def test_a_reference_folder_records_it_as_an_issue_and_reads_the_rest(tmp_path):
    from mist_qgis.core.geoloc.references import read_geotagged_photos

    folder = tmp_path / "refs"
    folder.mkdir()
    (folder / "street.jpg").write_bytes(exif_jpeg(photo("astronaut", 96), lat=34.75, lon=113.63))
    (folder / "huge.png").write_bytes(BOMB)
    result = read_geotagged_photos(folder)
    assert [r.ref_id for r in result.records] == ["street"]
    assert len(result.issues) == 1 and result.issues[0][0] == "huge.png"
    assert "decompression bomb" in result.issues[0][2]


def test_a_photo_folder_import_counts_it_as_a_skip(store, tmp_path):
    from mist_qgis.core.posts.importer import import_posts

    folder = tmp_path / "DCIM"
    folder.mkdir()
    (folder / "IMG_0001.jpg").write_bytes(exif_jpeg(photo("chelsea", 96), lat=34.76, lon=113.64))
    (folder / "IMG_0002.png").write_bytes(BOMB)
    summary = import_posts(store, [folder])
    assert summary.imported == 1 and summary.skipped == 1
    issues = store.query("SELECT source, reason FROM issues")
    assert [(os.path.basename(i["source"]), "decompression bomb" in i["reason"]) for i in issues] == [
        ("IMG_0002.png", True)]


def test_selo_exemplar_photos_refuse_it(bomb):
    from mist_qgis.core.rasters.encoders import EncoderError, embed_photo_files

    with pytest.raises(EncoderError, match=r"cannot use photo .*bomb\.png: decompression bomb"):
        embed_photo_files(None, [bomb])  # refused before the encoder is needed


def test_decoded_arrays_match_pillow_on_a_real_photo(tmp_path):
    """Routing through the opener changes no pixel: the same RGB as Pillow's own decode."""
    from mist_qgis.core.images.safe_decode import load_rgb

    path = tmp_path / "c.png"
    path.write_bytes(png_bytes(photo("coffee", 120)))
    with Image.open(path) as img:
        expected = np.asarray(img.convert("RGB"))
    assert np.array_equal(load_rgb(path), expected)
