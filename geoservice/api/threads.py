"""The work of requests (reading and writing the store, rendering) runs in worker threads, at most
as many at a time as the process has cores (at least two). More threads than cores only take
turns holding Python's GIL: with anyio's default of 40, sixteen concurrent reads of a page of
features cut a process's throughput to a third. Requests beyond the limit wait in the event loop.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar

_LIMITER: RunVar[CapacityLimiter] = RunVar("geoservice_threads")
_size = {"threads": 0}  # 0: as many as the cores this process may use


def configure(threads: int) -> None:
    """How many threads may work at once (0: one per core, at least two)."""
    _size["threads"] = threads


def _limiter() -> CapacityLimiter:
    """The limiter of the running event loop (each loop has its own)."""
    try:
        return _LIMITER.get()
    except LookupError:
        limiter = CapacityLimiter(_size["threads"] or max(2, len(os.sched_getaffinity(0))))
        _LIMITER.set(limiter)
        return limiter


async def in_thread[T](function: Callable[..., T], *args, **kwargs) -> T:
    """function(*args, **kwargs) in a worker thread, within the limit."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=_limiter())
