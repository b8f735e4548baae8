"""A learner's slot in a batch: its own PID, mount and IPC namespaces inside the fork server's.

Used by the fork server when it runs under bubblewrap (as root in a namespace of its own, so
it may create these). For each worker it forks the slot's first process, which is PID 1 of a
new PID namespace, and that process forks the worker::

    fork server ── slot (PID 1: joins the learner's cgroups, mounts, reaps) ── worker ── ...

In the slot's mount namespace a fresh /proc shows the slot's processes only, and fresh tmpfs
file systems (of a bounded size) are its /tmp, the work directory, and /dev/shm. Whatever the
learner does, when the slot's first process ends (the worker ended, or the grader killed the
slot), the kernel kills every process of the namespace, however it was started (re-parented
daemons, ``clone(CLONE_PARENT)`` children), and the tmpfs file systems vanish with the mount
namespace: nothing of the learner's outlives its slot. The slot hands the worker's exit status
to the server through a pipe before it ends.
"""

from __future__ import annotations

import os
import signal
import struct
import sys

from . import confine

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
WORKDIR = "/tmp"
PR_SET_PDEATHSIG = 1
STATUS = struct.Struct("=i")


class SlotError(OSError):
    """The slot's namespaces or mounts could not be made."""


def fork_slot(own_pid_namespace: int, become_worker, join_fds: list[int], tmpfs_bytes: int,
              close_in_child) -> tuple[int, int]:
    """Fork a slot whose worker runs ``become_worker(workdir)``; (its pid, status pipe).

    ``own_pid_namespace`` is an open descriptor of the caller's PID namespace, to go back to;
    ``close_in_child()`` closes, in the slot, what it must not keep of the caller's.
    The status pipe's read end gives the worker's wait status (4 bytes) once it ended; it is
    empty if the slot was killed first.
    """
    status_r, status_w = os.pipe()
    try:
        confine.unshare(confine.CLONE_NEWPID)      # the next child is PID 1 of a new one
        try:
            pid = os.fork()
        finally:
            if os.getpid() != 1:                  # the server: back to its own namespace
                confine.setns(own_pid_namespace, confine.CLONE_NEWPID)
    except OSError:
        os.close(status_r)
        os.close(status_w)
        raise
    if pid == 0:
        try:
            # The slot ends with the server (bubblewrap's init would keep it otherwise).
            confine.libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            close_in_child()
            os.close(status_r)
            _run_slot(become_worker, join_fds, tmpfs_bytes, status_w)
        finally:
            os._exit(70)
    os.close(status_w)
    return pid, status_r


def read_status(status_r: int) -> int | None:
    """The worker's wait status from a slot's status pipe (closed here), None if none came."""
    try:
        data = os.read(status_r, STATUS.size)
    except OSError:
        data = b""
    finally:
        os.close(status_r)
    return STATUS.unpack(data)[0] if len(data) == STATUS.size else None


def _run_slot(become_worker, join_fds: list[int], tmpfs_bytes: int, status_w: int) -> None:
    """In the slot's first process (PID 1): cgroups, mounts, the worker, then reap."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    confine.join_cgroups(join_fds)
    confine.unshare(CLONE_NEWNS | CLONE_NEWIPC)
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    kept = _open_kept_folders()        # before the tmpfs hides them
    _mount("tmpfs", WORKDIR, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_bytes},mode=0700")
    _restore_kept_folders(kept)
    if os.path.isdir("/dev/shm"):
        _mount(WORKDIR, "/dev/shm", None, MS_BIND)
    worker = os.fork()
    if worker == 0:
        os.close(status_w)
        become_worker(WORKDIR)
        os._exit(70)
    os.closerange(3, status_w)         # the learner's pipes are the worker's alone
    os.closerange(status_w + 1, 1 << 16)
    _reap_until(worker, status_w)


def _open_kept_folders() -> list[tuple[str, int]]:
    """The interpreter's and NumPy's folders that lie below /tmp (a virtual environment made
    with ``mktemp``, say), opened so that they can be bound again on top of the slot's tmpfs:
    without them a learner could not import what the server had not imported already."""
    wanted = {os.path.realpath(p) for p in (*sys.path, sys.prefix, sys.base_prefix,
                                            os.path.dirname(sys.executable)) if p}
    below = sorted(p for p in wanted if p.startswith(WORKDIR + "/") and os.path.isdir(p))
    outermost = [p for i, p in enumerate(below)
                 if not any(p.startswith(q + "/") for q in below[:i])]
    return [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in outermost]


def _restore_kept_folders(kept: list[tuple[str, int]]) -> None:
    """Bind each kept folder again, read-only, at its own path inside the new tmpfs."""
    for path, fd in kept:
        folder = WORKDIR
        for part in os.path.relpath(path, WORKDIR).split(os.sep):
            folder = os.path.join(folder, part)
            if not os.path.isdir(folder):
                os.mkdir(folder)
                os.chmod(folder, 0o755)     # the learner's user must pass through
        source = f"/proc/self/fd/{fd}"
        _mount(source, path, None, MS_BIND | MS_REC)
        _mount(source, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)


def _reap_until(worker: int, status_w: int) -> None:
    """Reap everything adopted; when the worker ends, pass on its status and end the slot."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue
        if pid == worker:
            os.write(status_w, STATUS.pack(status))
            os._exit(0)            # the kernel kills whatever is left in the namespace


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    c = confine.libc()
    result = c.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                     flags, data.encode() if data else None)
    if result != 0:
        raise SlotError(f"mount {target}: {confine.last_error()}")
