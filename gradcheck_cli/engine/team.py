"""The helper threads of ``threads.for_each_chunk``, and how they wait between passes.

On a machine whose idle cores sleep (a virtual machine's, above all), waking a sleeping
thread takes tens of microseconds. ``threading``'s locks and queues sleep. A convolution's
pass over its samples lasts about a millisecond, and one ``vjp`` makes two or more passes.
So a pool of sleeping threads pays a wake-up at every pass's end, where the caller waits
for the last helper, and another at the next pass's start. Numerical libraries' thread pools
(OpenMP's, and so PyTorch's) spin for a while instead of sleeping.

``Team`` does the same, within limits:
- each helper and the caller meet at two gates: ``go`` (a job is ready) and ``done``;
- a gate is a glibc spinlock, called through ``ctypes``, which releases the GIL around the
  call: a waiting thread keeps its core busy but holds no GIL, and it sees the gate open
  within a microsecond;
- a helper spins at ``go`` only while the caller is inside ``warm()``, which the engine
  holds around each ``vjp``. Outside it, and from the end of the block on, helpers sleep
  on a queue and cost nothing.

Without glibc's spinlocks (macOS, Windows, musl), a gate is a plain lock: everything works
the same, only the waits sleep.
"""

from __future__ import annotations

import ctypes
import os
import queue
import threading
from collections.abc import Callable


def _spinlocks():
    """glibc's spinlock calls: (lock, without the GIL; unlock, keeping it; init), or None."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        free, held = ctypes.CDLL(None), ctypes.PyDLL(None)
        lock, unlock, init = (free.pthread_spin_lock, held.pthread_spin_unlock,
                              held.pthread_spin_init)
    except (AttributeError, OSError, ValueError):
        return None
    for call, args in ((lock, 1), (unlock, 1), (init, 2)):
        call.argtypes = (ctypes.c_void_p, ctypes.c_int)[:args]
        call.restype = ctypes.c_int
    return lock, unlock, init


_SPINLOCKS = _spinlocks()


def spins() -> bool:
    """Whether the gates spin (glibc), rather than sleep."""
    return _SPINLOCKS is not None


class _Gate:
    """A gate between two threads, created shut: ``wait`` passes once it is opened, and
    shuts it behind it."""

    def __init__(self) -> None:
        if _SPINLOCKS is None:
            self._lock = threading.Lock()
            self._lock.acquire()
            self.wait, self.open = self._lock.acquire, self._lock.release
            return
        lock, unlock, init = _SPINLOCKS
        self._word = ctypes.c_int(0)            # a pthread_spinlock_t is an int in glibc
        address = ctypes.addressof(self._word)
        init(address, 0)                        # PTHREAD_PROCESS_PRIVATE
        lock(address)
        self.wait = lambda: lock(address)       # spins without the GIL
        self.open = lambda: unlock(address)


class _Helper:
    """One helper thread. Between jobs it waits either spinning at ``go``, the job then in
    ``slot`` (None parks it), or asleep on ``mailbox``; after a job it waits the way the
    caller asked when it gave the job. ``spinning`` is the caller's record of which way
    that is; only the caller changes it."""

    def __init__(self, name: str) -> None:
        self.go, self.done = _Gate(), _Gate()
        self.mailbox: queue.SimpleQueue = queue.SimpleQueue()
        self.slot: tuple[bool, Callable[[], None]] | None = None
        self.spinning = False
        self.error: BaseException | None = None
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        spin = False
        while True:
            if spin:
                self.go.wait()
                given, self.slot = self.slot, None
                if given is None:               # parked
                    spin = False
                    continue
            else:
                given = self.mailbox.get()
            spin, job = given
            try:
                job()
            except BaseException as exc:  # noqa: BLE001 (the caller re-raises it)
                self.error = exc
            self.done.open()

    def start(self, job: Callable[[], None], spin_after: bool) -> None:
        if self.spinning:
            self.slot = (spin_after, job)
            self.go.open()
        else:
            self.mailbox.put((spin_after, job))
        self.spinning = spin_after

    def finish(self) -> BaseException | None:
        """Wait for the job given last; what it raised, if anything."""
        self.done.wait()
        error, self.error = self.error, None
        return error

    def park(self) -> None:
        if self.spinning:
            self.slot = None
            self.go.open()
            self.spinning = False


class Team:
    """``size`` helper threads, for passes that callers run on them one at a time."""

    def __init__(self, size: int) -> None:
        self.helpers = [_Helper(f"gradcheck-conv-{k}") for k in range(size)]
        self.warm_depth = 0     # changed by the main thread only
        self._busy = threading.Lock()

    def run(self, jobs: list[Callable[[], None]], own: Callable[[], None]) -> bool:
        """Run each of ``jobs`` on a helper and ``own`` here, and return when all have
        ended; or return False at once, with nothing run, while another thread's pass holds
        the team."""
        if not self._busy.acquire(blocking=False):
            return False
        try:
            started = self.helpers[:len(jobs)]
            for helper, job in zip(started, jobs):
                helper.start(job, spin_after=self.warm_depth > 0)
            try:
                own()
            finally:
                errors = [helper.finish() for helper in started]
            for error in errors:
                if error is not None:
                    raise error
        finally:
            self._busy.release()
        return True

    def park(self) -> None:
        """Send spinning helpers to sleep until the next pass."""
        with self._busy:
            for helper in self.helpers:
                helper.park()
