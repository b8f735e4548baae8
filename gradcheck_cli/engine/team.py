"""The helper threads of ``threads.for_each_chunk``, and how the caller waits for them.

On a machine whose idle cores sleep (a virtual machine's, above all), waking a sleeping
thread takes tens of microseconds, and ``threading``'s locks, queues and futures sleep. A
convolution's pass over its samples lasts about a millisecond, and the caller waits for its
last helper at the end of every pass: woken from a sleep, it paid 60-75 µs there.

So the caller waits by spinning: each helper, when its job is done, opens a gate, a glibc
spinlock called through ``ctypes`` (which releases the GIL around the call: the spinning
caller holds no GIL and sees the gate open within a microsecond). It spins only while its
own pass's helpers finish their last chunks. Between passes the helpers sleep on a queue
and take no CPU: spinning there too was tried, and it took the cores from whatever the
caller computes between passes (a BLAS call with its own threads ran at half speed).

Without glibc's spinlocks (macOS, Windows, musl), a gate is a plain lock: everything works
the same, only the caller's wait sleeps.

Ctrl-C: Python raises KeyboardInterrupt in the main thread between any two bytecodes, so a
pass may be abandoned with a job given but not recorded, or a gate opened but not passed.
Jobs carry numbers that are never reused, and the caller waits until its helper's last
finished job is the one it gave: nothing an abandoned pass leaves behind lets a later pass
return before its helpers are done.
"""

from __future__ import annotations

import ctypes
import itertools
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


class _Gate:
    """A gate, created shut, that one thread opens and another passes (shutting it behind
    it). Opening an open gate leaves it open."""

    def __init__(self) -> None:
        if _SPINLOCKS is None:
            lock = threading.Lock()
            lock.acquire()

            def open_() -> None:
                if lock.locked():
                    lock.release()
            self.wait, self.open = lock.acquire, open_
            return
        spin_lock, unlock, init = _SPINLOCKS
        self._word = ctypes.c_int(0)            # a pthread_spinlock_t is an int in glibc
        address = ctypes.addressof(self._word)
        init(address, 0)                        # PTHREAD_PROCESS_PRIVATE
        spin_lock(address)
        self.wait = lambda: spin_lock(address)  # spins without the GIL
        self.open = lambda: unlock(address)


_numbers = itertools.count(1)       # jobs' numbers, never reused; next() is atomic


class _Helper:
    """One helper thread: it takes numbered jobs from its queue, asleep while there is none,
    and after each one records its number and opens ``done``."""

    def __init__(self, name: str) -> None:
        self.done = _Gate()
        self.mailbox: queue.SimpleQueue = queue.SimpleQueue()
        self.given = self.finished = 0
        self.error: tuple[int, BaseException] | None = None
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        while True:
            number, job = self.mailbox.get()
            try:
                job()
            except BaseException as exc:  # noqa: BLE001 (the caller re-raises it)
                self.error = (number, exc)
            self.finished = number
            self.done.open()

    def start(self, job: Callable[[], None]) -> None:
        number = next(_numbers)
        self.mailbox.put((number, job))
        self.given = number

    def finish(self) -> BaseException | None:
        """Wait until the job given last has ended; what it raised, if anything.

        Safe after a KeyboardInterrupt at any point of an earlier pass: a job given but
        not recorded in ``given`` only makes that pass's wait end early (and that pass
        was abandoned), and a gate it left open is passed once more, the numbers deciding.
        """
        while self.finished != self.given:
            self.done.wait()
        error, self.error = self.error, None
        return error[1] if error is not None and error[0] == self.given else None


class Team:
    """``size`` helper threads, for passes that callers run on them one at a time."""

    def __init__(self, size: int) -> None:
        self.helpers = [_Helper(f"gradcheck-conv-{k}") for k in range(size)]
        self._busy = threading.Lock()

    def run(self, jobs: list[Callable[[], None]], own: Callable[[], None]) -> bool:
        """Run each of ``jobs`` on a helper and ``own`` here, and return when all have
        ended; or return False at once, with nothing run, while another thread's pass holds
        the team. ``own`` may stop early (an exception); the jobs run to their end."""
        if not self._busy.acquire(blocking=False):
            return False
        try:
            started = self.helpers[:len(jobs)]
            for helper, job in zip(started, jobs):
                helper.start(job)
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
