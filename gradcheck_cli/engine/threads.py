"""Spreading the samples of one big convolution over the threads the BLAS may use.

NumPy's BLAS parallelises each matrix product on its own. For a convolution that is a poor
fit: the products of one sample are small (32 x 144 x 1024, say), so its threads meet at a
barrier many times a millisecond and spend their time waiting for each other, and a
descheduled core stalls every product. A framework instead gives whole samples to threads
(PyTorch's ``parallel_for`` over the batch). ``for_each_sample`` does the same: while it runs,
the BLAS is asked for one thread, and as many Python threads as the BLAS would have used take
samples from a shared counter, so a thread that falls behind simply takes fewer. NumPy
releases the GIL in its copies, ufunc loops and BLAS calls, so the threads truly run at once.

It is used only where it pays: a 4-D batch of at least two samples and enough arithmetic per
call (``MIN_WORK``). Which threads the BLAS has is read with threadpoolctl, which knows how to
ask OpenBLAS, MKL, BLIS and the others; without it (or with one BLAS thread, as
``OPENBLAS_NUM_THREADS=1`` asks) everything runs on the calling thread, as before.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable

import numpy as np

MIN_WORK = 2e7      # multiply-adds per call below which waking another thread costs more

_lock = threading.Lock()
_state: dict = {}   # "blas": the BLAS controllers (loaded once), "pool", "inside": entrants


def _blas():
    """threadpoolctl's controllers of the BLAS libraries loaded by NumPy, or () without it."""
    with _lock:
        if "blas" in _state:
            return _state["blas"]
        try:
            from threadpoolctl import ThreadpoolController
            controllers = tuple(ThreadpoolController().select(user_api="blas").lib_controllers)
        except Exception:  # not installed, or a library it cannot read: stay on one thread
            controllers = ()
        _state["blas"] = controllers
    return _state["blas"]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def team_size(samples: int, work: float) -> int:
    """How many threads should share ``samples`` samples of ``work`` multiply-adds in all."""
    if samples < 2 or work < MIN_WORK:
        return 1
    controllers = _blas()
    with _lock:
        if not controllers:
            return 1
        # While another call runs, the BLAS is at one thread: read what it had before.
        threads = _state["saved"][0] if _state.get("inside") else controllers[0].num_threads
    return max(1, min(threads, _cores(), samples))


def _enter() -> None:
    controllers = _blas()
    with _lock:
        if not _state.get("inside"):
            _state["saved"] = [c.num_threads for c in controllers]
            for controller in controllers:
                controller.set_num_threads(1)
        _state["inside"] = _state.get("inside", 0) + 1


def _leave() -> None:
    with _lock:
        _state["inside"] -= 1
        if not _state["inside"]:
            for controller, threads in zip(_state["blas"], _state["saved"]):
                controller.set_num_threads(threads)


def _pool():
    """The helper threads, started at the first call that uses them (one per extra core)."""
    from concurrent.futures import ThreadPoolExecutor
    with _lock:
        if "pool" not in _state:
            _state["pool"] = ThreadPoolExecutor(max(_cores() - 1, 1),
                                                thread_name_prefix="gradcheck-conv")
        return _state["pool"]


def for_each_sample(samples: int, work: float, body: Callable[[int], None]) -> None:
    """Call ``body(i)`` for every sample i in ``range(samples)``, on several threads if it pays.

    Each call of ``body`` must write only its own sample's part of any shared output (and use
    per-thread scratch memory). Helpers run under the caller's ``np.errstate``. An exception
    in any call is raised here, after all threads have stopped.
    """
    team = team_size(samples, work)
    if team == 1:
        for i in range(samples):
            body(i)
        return
    counter = itertools.count()       # next() on it is atomic under the GIL
    failed: list[BaseException] = []

    def take() -> None:
        while not failed:
            i = next(counter)
            if i >= samples:
                return
            try:
                body(i)
            except BaseException as exc:  # noqa: BLE001 (re-raised on the calling thread)
                failed.append(exc)

    errors = np.geterr()  # the caller's np.errstate, which a helper thread would not see

    def help_out() -> None:
        with np.errstate(**errors):
            take()

    _enter()
    try:
        helpers = [_pool().submit(help_out) for _ in range(team - 1)]
        take()
        for helper in helpers:  # one still queued (behind another caller's) is not needed
            if not helper.cancel():
                helper.result()
    finally:
        _leave()
    if failed:
        raise failed[0]
