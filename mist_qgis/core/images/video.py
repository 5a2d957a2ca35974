"""Stable frames from a post's video, as MIST-SMMD takes them.

A frame is stable when the mean Farneback optical-flow magnitude from the previous frame is
below 1 px (pyr_scale 0.5, levels 3, winsize 15, iterations 3, poly_n 5, poly_sigma 1.2,
flags 0; specs/lsgl.md section 1.1): the camera paused, so the frame is sharp and worth
classifying or matching. Of the stable frames, one whose grey histogram correlates above 0.9
with a frame already kept is dropped (the same rule as for photos).

The flow is computed on frames scaled to at most `analysis_width` pixels wide, to bound the cost
of long HD clips; the 1 px threshold is measured at the video's own resolution (the mean
magnitude is divided by the scale), so the rule means the same thing at any size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dedup import HIST_CORRELATION, histogram_correlation
from .safe_decode import DECODE_BUDGET, DEFAULT_LIMITS, DecodeError, ImageLimits

FARNEBACK = {
    "pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5, "poly_sigma": 1.2, "flags": 0,
}
STABLE_FLOW_PX = 1.0

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}


@dataclass(frozen=True)
class VideoLimits:
    max_frames_read: int = 9000  # five minutes at 30 fps; the rest of a longer clip is not read
    max_stable_frames: int = 12
    analysis_width: int = 640
    image_limits: ImageLimits = DEFAULT_LIMITS  # the opener's limits, applied to each frame
    stable_flow_px: float = STABLE_FLOW_PX
    hist_threshold: float = HIST_CORRELATION


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int


@dataclass
class StableFrame:
    index: int
    time_s: float
    mean_flow_px: float
    rgb: Any  # HxWx3 uint8


def sniff_video(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) when the bytes start like a video container, else None."""
    head = data[:16]
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return None  # HEIF/AVIF still images share the ISO container
        if brand == b"qt  ":
            return "video/quicktime", ".mov"
        if brand.startswith(b"3g"):
            return "video/3gpp", ".3gp"
        return "video/mp4", ".mp4"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo", ".avi"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return ("video/webm", ".webm") if b"webm" in data[:64] else ("video/x-matroska", ".mkv")
    if head[:4] == b"\x00\x00\x01\xba":
        return "video/mpeg", ".mpg"
    return None


def _check_declared(cap: Any, limits: ImageLimits) -> None:
    """Refuse a video whose container declares frames above the pixel cap, before decoding one."""
    import cv2

    width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
    height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    limits.check_pixels(width, height, "video frames")


def probe_video(path: Path, limits: ImageLimits = DEFAULT_LIMITS) -> VideoInfo:
    """Open the video and decode its first frame; raise DecodeError if that is not possible."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise DecodeError("not a decodable video")
        _check_declared(cap, limits)
        ok, frame = cap.read()
        if not ok or frame is None:
            raise DecodeError("video has no decodable frame")
        height, width = frame.shape[:2]
        limits.check_pixels(width, height, "video frames")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        return VideoInfo(width, height, fps if fps > 0 else 0.0, max(count, 0))
    finally:
        cap.release()


def extract_stable_frames(
    path: Path, limits: VideoLimits | None = None, is_cancelled: Callable[[], bool] | None = None,
) -> list[StableFrame]:
    """Stable, mutually distinct frames of a video in time order (at most `max_stable_frames`)."""
    import cv2

    limits = limits or VideoLimits()
    is_cancelled = is_cancelled or (lambda: False)
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise DecodeError("not a decodable video")
    try:
        _check_declared(cap, limits.image_limits)
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        with DECODE_BUDGET.hold(width * height, is_cancelled):  # one frame decoded at a time
            return _stable_frames(cap, limits, is_cancelled)
    finally:
        cap.release()


def _stable_frames(cap: Any, limits: VideoLimits, is_cancelled: Callable[[], bool]) -> list[StableFrame]:
    import cv2
    import numpy as np

    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    kept: list[StableFrame] = []
    kept_hists: list[Any] = []
    previous = None
    scale = 1.0
    for index in range(limits.max_frames_read):
        if is_cancelled() or len(kept) >= limits.max_stable_frames:
            break
        ok, frame = cap.read()
        if not ok or frame is None:
            break
        height, width = frame.shape[:2]
        limits.image_limits.check_pixels(width, height, "video frames")
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        scale = min(1.0, limits.analysis_width / width)
        small = cv2.resize(grey, (max(1, round(width * scale)), max(1, round(height * scale))),
                           interpolation=cv2.INTER_AREA) if scale < 1.0 else grey
        if previous is not None and previous.shape == small.shape:
            flow = cv2.calcOpticalFlowFarneback(previous, small, None, **FARNEBACK)
            magnitude = float(np.sqrt(flow[..., 0] ** 2 + flow[..., 1] ** 2).mean()) / scale
            if magnitude < limits.stable_flow_px:
                hist = cv2.calcHist([grey], [0], None, [256], [0, 256])
                if all(histogram_correlation(hist, other) <= limits.hist_threshold for other in kept_hists):
                    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                    kept.append(StableFrame(index, index / fps if fps > 0 else 0.0, magnitude, rgb))
                    kept_hists.append(hist)
        previous = small
    return kept
