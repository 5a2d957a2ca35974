"""Run a function in several spawned processes at once (separate interpreters, separate store
connections, as separate QGIS sessions) and collect what each puts on its queue."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable


def run_in_processes(target: Callable, args_list: list[tuple], timeout: float = 180) -> list:
    """Start `target(*args, queue)` once per args tuple; returns one queue item per process.
    Each target must put exactly one item, also when it fails."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, queue)) for args in args_list]
    for p in procs:
        p.start()
    results = [queue.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return results
