"""Whether this machine has an NVIDIA GPU that CUDA can use, asked of the driver itself.

One answer for the installer (which ONNX Runtime build to install) and the model runtime (which
execution provider to ask for): onnxruntime-gpu lists the CUDA provider even without a GPU, and
trying it there only prints errors before falling back to the CPU.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class GpuProbe:
    """Whether an NVIDIA GPU with a working driver is present, and how we know."""

    usable: bool
    reason: str
    devices: tuple[str, ...] = ()


def probe_nvidia_gpu() -> GpuProbe:
    """Ask the NVIDIA driver itself (libcuda / nvcuda.dll): it is what CUDA needs, and it answers
    without nvidia-smi or a CUDA toolkit."""
    names = ("nvcuda.dll",) if os.name == "nt" else ("libcuda.so.1", "libcuda.so")
    lib = None
    for name in names:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        return GpuProbe(False, "no NVIDIA driver is installed (libcuda cannot be loaded)")
    try:
        status = lib.cuInit(0)
        if status != 0:
            return GpuProbe(False, f"an NVIDIA driver is installed but does not start (cuInit error {status})")
        count = ctypes.c_int(0)
        status = lib.cuDeviceGetCount(ctypes.byref(count))
        if status != 0 or count.value < 1:
            return GpuProbe(False, "the NVIDIA driver reports no usable GPU")
        devices = []
        for index in range(count.value):
            device = ctypes.c_int(0)
            buffer = ctypes.create_string_buffer(256)
            if lib.cuDeviceGet(ctypes.byref(device), index) == 0 and lib.cuDeviceGetName(buffer, 256, device) == 0:
                devices.append(buffer.value.decode("utf-8", "replace"))
    except AttributeError:
        return GpuProbe(False, "the NVIDIA driver library lacks the CUDA entry points")
    return GpuProbe(True, f"NVIDIA GPU with a working driver: {', '.join(devices) or count.value}", tuple(devices))


@lru_cache(maxsize=1)
def cuda_usable() -> bool:
    """`probe_nvidia_gpu().usable`, asked once per process."""
    return probe_nvidia_gpu().usable
