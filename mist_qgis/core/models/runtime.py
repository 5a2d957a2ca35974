"""ONNX Runtime sessions: one cached session per model file and thread, capped thread counts,
CUDA when it really works and the CPU always as the fallback, with a notice saying which.

QGIS must stay responsive while a model runs, so a session never takes every core: intra-op
threads are at most cores - 1 (at least 1). A session is created once per (file, modification
time, thread) and reused, so a task that classifies 10^5 photos builds it once.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .card import ModelCard, ModelCardError, card_from_metadata, check_graph, image_input_name

log = logging.getLogger("mist.models")

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


@dataclass
class LoadedModel:
    """A ready session with its card and the provider it really got (not just the one asked for)."""

    card: ModelCard
    session: Any
    path: Path
    provider: str
    notice: str
    input_name: str  # the photo (or embedding) input
    output_names: list[str]
    input_names: list[str] = field(default_factory=list)  # every graph input (image+text models have three)

    def run(self, batch: Any) -> dict[str, Any]:
        """Run one batch; returns {role: array} for the card's outputs ("scores", "embedding")."""
        return self.run_feeds({self.input_name: batch})

    def run_feeds(self, feeds: dict[str, Any]) -> dict[str, Any]:
        """Run one batch given every input by name (image+text models); same result as `run`."""
        roles = list(self.card.outputs)
        names = [self.card.outputs[r] for r in roles]
        values = self.session.run(names, feeds)
        return dict(zip(roles, values, strict=True))


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def thread_cap(requested: int | None = None) -> int:
    """Intra-op threads for a session: <= cores - 1 so the GUI thread keeps a core, and >= 1."""
    cap = max(1, cpu_cores() - 1)
    return cap if requested is None or requested <= 0 else max(1, min(requested, cap))


def cuda_driver_present() -> bool:
    """True when an NVIDIA driver answers with a usable GPU (core/gpu.py)."""
    from ..gpu import cuda_usable

    return cuda_usable()


def available_providers() -> list[str]:
    """Execution providers this onnxruntime build offers (what the model manager shows)."""
    import onnxruntime as ort

    return list(ort.get_available_providers())


def choose_providers(available: list[str], gpu_usable: bool, allow_gpu: bool = True) -> list[str]:
    """The providers to ask for, in order: CUDA first when this onnxruntime build offers it and
    the driver answers with a usable GPU (onnxruntime-gpu lists CUDA even on a machine without
    one), the CPU always last, so a session that cannot start CUDA still runs."""
    providers = []
    if allow_gpu and gpu_usable and CUDA in available:
        providers.append(CUDA)
    providers.append(CPU)
    return providers


def preferred_providers(allow_gpu: bool = True) -> list[str]:
    """`choose_providers` for this machine: its onnxruntime build and its NVIDIA driver."""
    available = available_providers()
    return choose_providers(available, allow_gpu and CUDA in available and cuda_driver_present(), allow_gpu)


def preload_cuda(providers: list[str]) -> None:
    """Before a session that asks for CUDA: onnxruntime-gpu installed with its CUDA/cuDNN wheels
    (the installer's GPU build) finds those libraries only once they are preloaded."""
    import onnxruntime as ort

    if CUDA in providers and hasattr(ort, "preload_dlls"):
        try:
            ort.preload_dlls()
        except Exception as exc:  # a missing CUDA wheel: the session then says which provider it got
            log.warning("CUDA libraries could not be preloaded: %s", exc)


def _session_options(threads: int | None, optimise: bool = True) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = thread_cap(threads)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: the fallback notice is ours
    if not optimise:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return options


def open_metadata_session(path: Path) -> Any:
    """A cheap CPU session (no graph optimisation) for reading a model's metadata and I/O spec."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    try:
        return ort.InferenceSession(str(path), _session_options(1, optimise=False), providers=[CPU])
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        raise unreadable_model(path, exc) from exc


def unreadable_model(path: Path, exc: Exception) -> ModelCardError:
    """One line for a file onnxruntime cannot load (a text file, a truncated download): the
    path and onnxruntime's own last words, without its error-code preamble."""
    detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    detail = detail.rsplit("failed:", 1)[-1].strip() or detail
    return ModelCardError(f"{path} is not a readable ONNX model ({detail[:200]})")


_CARD_CACHE_SIZE = 256
_TAIL_BYTES = 64 * 1024  # an ONNX file's metadata is written after its graph, at the end
_cards: OrderedDict[tuple, ModelCard | ModelCardError] = OrderedDict()
_cards_lock = threading.Lock()


def _file_signature(path: Path) -> tuple:
    """What identifies one version of a file without reading it all: its inode, size, times and
    its last bytes (where the card is), so a file replaced or rewritten in place is read again."""
    info = path.stat()
    with open(path, "rb") as fh:
        fh.seek(max(0, info.st_size - _TAIL_BYTES))
        tail = hashlib.blake2b(fh.read(_TAIL_BYTES), digest_size=16).digest()
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, tail


def read_card(path: str | Path) -> ModelCard:
    """Read a model's card through onnxruntime (no inference session is kept).

    Opening a session to read a card costs tens of milliseconds per model, and the registry reads
    every card each time a dialog or dock lists models; the card (or the reason the file is not a
    usable model) is therefore kept per file version and read again only when the file changes.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    key = (str(path), _file_signature(path))
    with _cards_lock:
        known = _cards.get(key)
        if known is not None:
            _cards.move_to_end(key)
    if known is None:
        try:
            session = open_metadata_session(path)
            known = card_from_metadata(session.get_modelmeta().custom_metadata_map, path)
            check_graph(known, session)
        except ModelCardError as exc:
            known = exc
        with _cards_lock:
            _cards[key] = known
            for stale in [k for k in _cards if k[0] == key[0] and k != key]:
                del _cards[stale]
            while len(_cards) > _CARD_CACHE_SIZE:
                _cards.popitem(last=False)
    if isinstance(known, ModelCardError):
        raise ModelCardError(str(known))
    return copy.deepcopy(known)


_local = threading.local()
_all_caches: list[dict] = []
_caches_lock = threading.Lock()


def _cache() -> dict:
    cache = getattr(_local, "sessions", None)
    if cache is None:
        cache = _local.sessions = {}
        with _caches_lock:
            _all_caches.append(cache)
    return cache


def load_model(path: str | Path, threads: int | None = None, allow_gpu: bool = True) -> LoadedModel:
    """The calling thread's session for a model file, created on first use and then reused.

    The card is validated against the graph before the session is handed out, so a model whose
    input spec does not match its metadata fails here, before any photo is read.
    """
    import onnxruntime as ort

    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    key = (str(path), path.stat().st_mtime_ns, thread_cap(threads), allow_gpu)
    cache = _cache()
    if key in cache:
        return cache[key]
    wanted = preferred_providers(allow_gpu)
    preload_cuda(wanted)
    try:
        session = ort.InferenceSession(str(path), _session_options(threads), providers=wanted)
    except Exception as exc:
        raise unreadable_model(path, exc) from exc
    card = card_from_metadata(session.get_modelmeta().custom_metadata_map, path)
    check_graph(card, session)
    got = session.get_providers()[0]
    if allow_gpu and CUDA in available_providers() and got != CUDA:
        notice = "CUDA is not usable on this machine (no driver or GPU); running on the CPU"
    elif got == CUDA:
        notice = "running on the GPU (CUDA)"
    else:
        notice = "running on the CPU"
    log.info("%s: %s, %d threads", card.tag, notice, thread_cap(threads))
    loaded = LoadedModel(
        card=card, session=session, path=path, provider=got, notice=notice,
        input_name=(image_input_name(card, session.get_inputs()) if card.input_kind == "image+text"
                    else session.get_inputs()[0].name),
        output_names=[o.name for o in session.get_outputs()], input_names=[i.name for i in session.get_inputs()],
    )
    for stale in [k for k in cache if k[0] == key[0]]:  # the file changed on disk
        del cache[stale]
    cache[key] = loaded
    return loaded


def clear_sessions() -> None:
    """Drop every cached session (after a model file was replaced, or on plugin unload)."""
    with _caches_lock:
        for cache in _all_caches:
            cache.clear()
    with _cards_lock:
        _cards.clear()
