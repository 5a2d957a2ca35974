"""Sessions: one per model and thread, capped threads, the provider really used, reload on change."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from mist_qgis.core.models import runtime
from mist_qgis.core.models.card import ModelCardError
from tests.helpers.modelkit import colour_card, make_colour_model


@pytest.fixture(autouse=True)
def _fresh_sessions():
    runtime.clear_sessions()
    yield
    runtime.clear_sessions()


def test_thread_cap_leaves_a_core_for_qgis(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_cores", lambda: 8)
    assert runtime.thread_cap() == 7 and runtime.thread_cap(3) == 3 and runtime.thread_cap(64) == 7
    monkeypatch.setattr(runtime, "cpu_cores", lambda: 1)
    assert runtime.thread_cap() == 1 and runtime.thread_cap(4) == 1


def test_session_is_cached_per_thread(tmp_path):
    path = make_colour_model(tmp_path / "m.onnx")
    first = runtime.load_model(path)
    assert runtime.load_model(path) is first
    other: list = []
    t = threading.Thread(target=lambda: other.append(runtime.load_model(path)))
    t.start()
    t.join()
    assert other[0] is not first and other[0].card.tag == first.card.tag
    opts = first.session.get_session_options()
    assert 1 <= opts.intra_op_num_threads <= max(1, runtime.cpu_cores() - 1)


def test_provider_really_used_and_notice(tmp_path):
    loaded = runtime.load_model(make_colour_model(tmp_path / "m.onnx"))
    assert loaded.provider == loaded.session.get_providers()[0]
    assert loaded.provider in runtime.available_providers()
    if loaded.provider == runtime.CPU:
        assert "CPU" in loaded.notice
    assert runtime.CPU in runtime.preferred_providers()
    assert runtime.preferred_providers(allow_gpu=False) == [runtime.CPU]


def test_provider_choice_with_this_onnxruntime():
    """The choice from onnxruntime's real provider list: CUDA first only when the build offers it
    and the driver answers with a GPU, the CPU always last; this machine gets what its build and
    driver say."""
    import onnxruntime as ort

    from mist_qgis.core.gpu import cuda_usable

    real = ort.get_available_providers()
    assert runtime.CPU in real
    assert runtime.preferred_providers() == runtime.choose_providers(real, cuda_usable())
    assert runtime.preferred_providers()[-1] == runtime.CPU
    with_cuda = real if runtime.CUDA in real else [runtime.CUDA, *real]  # a GPU build's list
    without_cuda = [p for p in real if p != runtime.CUDA]  # a CPU build's list
    assert runtime.choose_providers(with_cuda, gpu_usable=True) == [runtime.CUDA, runtime.CPU]
    assert runtime.choose_providers(with_cuda, gpu_usable=False) == [runtime.CPU]
    assert runtime.choose_providers(with_cuda, gpu_usable=True, allow_gpu=False) == [runtime.CPU]
    assert runtime.choose_providers(without_cuda, gpu_usable=True) == [runtime.CPU]


def test_a_gpu_build_without_a_working_cuda_falls_back_to_the_cpu(tmp_path, monkeypatch):
    """A driver probe that says yes on a machine where CUDA cannot start (a broken driver): the
    session asks onnxruntime for CUDA, gets the CPU, runs, and says so."""
    if runtime.CUDA not in runtime.available_providers():
        pytest.skip("this onnxruntime build has no CUDA provider")
    from mist_qgis.core.gpu import cuda_usable

    if cuda_usable():
        pytest.skip("CUDA really works here; the fallback cannot be seen")
    monkeypatch.setattr(runtime, "cuda_driver_present", lambda: True)
    assert runtime.preferred_providers() == [runtime.CUDA, runtime.CPU]
    loaded = runtime.load_model(make_colour_model(tmp_path / "m.onnx"))
    assert loaded.provider == runtime.CPU == loaded.session.get_providers()[0]
    assert "CUDA is not usable" in loaded.notice
    assert loaded.run(np.zeros((1, 3, 32, 32), np.float32))["scores"].shape == (1, 3)


def test_run_returns_outputs_by_role(tmp_path):
    loaded = runtime.load_model(make_colour_model(tmp_path / "m.onnx"))
    x = np.zeros((2, 3, 32, 32), np.float32)
    x[0, 2] = 1.0
    out = loaded.run(x)
    assert set(out) == {"scores", "embedding"}
    assert out["scores"].shape == (2, 3) and int(np.argmax(out["scores"][0])) == 2


def test_changed_file_is_reloaded(tmp_path):
    path = make_colour_model(tmp_path / "m.onnx")
    first = runtime.load_model(path)
    time.sleep(0.01)
    make_colour_model(path, colour_card(version="2"))
    os.utime(path, None)
    second = runtime.load_model(path)
    assert second is not first and second.card.version == "2"


def test_mismatched_model_fails_before_any_run(tmp_path):
    path = make_colour_model(tmp_path / "m.onnx", colour_card(input_size=(32, 32)), input_shape=[1, 3, 16, 16])
    with pytest.raises(ModelCardError, match="input_size"):
        runtime.load_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        runtime.load_model(tmp_path / "nope.onnx")
