"""Spreading the samples of one big convolution over the threads the BLAS may use.

NumPy's BLAS parallelises each matrix product on its own. For a convolution that is a poor
fit: the products of one sample are small (32 x 144 x 1024, say), so its threads meet at a
barrier many times a millisecond and spend their time waiting for each other, and a
descheduled core stalls every product. A framework instead gives whole samples to threads
(PyTorch's ``parallel_for`` over the batch). ``for_each_chunk`` does the same: while it runs,
the BLAS is asked for one thread, and as many Python threads as the BLAS would have used take
chunks of samples (``plan``) from a shared counter, so a thread that falls behind simply takes
fewer. NumPy
releases the GIL in its copies, ufunc loops and BLAS calls, so the threads truly run at once.
The helper threads, and how the caller waits for them without paying a wake-up at each pass,
are in ``team.py``.

It is used only where it pays: a 4-D batch of at least two samples and enough arithmetic per
call (``MIN_WORK``). Which threads the BLAS has is read with threadpoolctl, which knows how to
ask OpenBLAS, MKL, BLIS and the others; without it (or with one BLAS thread, as
``OPENBLAS_NUM_THREADS=1`` asks) everything runs on the calling thread, as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import team

MIN_WORK = 2e7      # multiply-adds per call below which waking another thread costs more
CHUNK_BYTES = 2**22  # the temporaries of one chunk of samples (measured: see plan)

_lock = threading.Lock()
_state: dict = {}   # "blas": the BLAS controllers (loaded once), "team", "inside": entrants


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


def _team() -> team.Team:
    """The helper threads (one per extra core), started by the first pass that needs them."""
    with _lock:
        if "team" not in _state:
            _state["team"] = team.Team(max(_cores() - 1, 1))
        return _state["team"]


def _forget_threads() -> None:
    """In a forked child only the forking thread lives on: forget the helpers (new ones
    start if the child needs them), a lock another thread may have held, and a pass that
    was running."""
    global _lock
    _lock = threading.Lock()
    _state.pop("team", None)
    if _state.pop("inside", 0):
        for controller, threads in zip(_state["blas"], _state["saved"]):
            controller.set_num_threads(threads)


os.register_at_fork(after_in_child=_forget_threads)


class Plan(NamedTuple):
    """How a pass goes: ``team`` threads take chunks of at most ``size`` samples."""

    team: int
    size: int


def plan(samples: int, work: float, sample_bytes: int = 0) -> Plan:
    """The team for ``samples`` samples of ``work`` multiply-adds in all, and the chunk size.

    Given the bytes of temporaries a sample needs, a chunk is as many samples as make an even
    share for each thread, or a half, a third... of one, so that a chunk's temporaries stay
    within ``CHUNK_BYTES``. Few NumPy calls per sample matter: each is a point where a
    thread may have to wait for the GIL. Without ``sample_bytes``, chunks of one sample.
    """
    members = team_size(samples, work)
    if not sample_bytes:
        return Plan(members, 1)
    fits = max(1, CHUNK_BYTES // sample_bytes)
    share = -(-samples // members)
    return Plan(members, -(-share // -(-share // fits)))


def for_each_sample(samples: int, work: float, body: Callable[[int], None]) -> None:
    """``for_each_chunk`` one sample at a time: ``body(i)`` for every sample i."""
    for_each_chunk(samples, plan(samples, work), lambda start, stop: body(start))


def for_each_chunk(samples: int, how: Plan, body: Callable[[int, int], None]) -> None:
    """Call ``body(start, stop)`` for consecutive chunks of ``range(samples)``, each of at
    most ``how.size`` samples, on up to ``how.team`` threads.

    Each call of ``body`` must write only its own samples' part of any shared output (and use
    per-thread scratch memory). Helpers run under the caller's ``np.errstate``. An exception
    in any call is raised here, after all threads have stopped.
    """
    size = how.size
    chunks = range(0, samples, size)
    members = min(how.team, len(chunks))
    if members <= 1:
        for start in chunks:
            body(start, min(start + size, samples))
        return
    counter = iter(chunks)            # next() on it is atomic under the GIL
    failed: list[BaseException] = []

    def take() -> None:
        for start in counter:
            if failed:
                return
            try:
                body(start, min(start + size, samples))
            except BaseException as exc:  # noqa: BLE001 (re-raised on the calling thread)
                failed.append(exc)

    errors = np.geterr()  # the caller's np.errstate, which a helper thread would not see

    def help_out() -> None:
        with np.errstate(**errors):
            take()

    _enter()
    try:
        if not _team().run([help_out] * (members - 1), take):
            take()      # another thread's pass holds the helpers: this one runs alone
    finally:
        _leave()
    if failed:
        raise failed[0]
