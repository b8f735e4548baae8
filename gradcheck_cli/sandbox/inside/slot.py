"""A learner's slot in a batch: its own PID, mount and IPC namespaces inside the fork server's.

Used by the fork server when it runs under bubblewrap (as root in a namespace of its own, so
it may create these). For each worker it starts the slot's first process, PID 1 of a new PID
namespace, then forks the worker into that namespace::

    fork server ─┬─ init (PID 1: ``cat`` reading a pipe only the server writes to)
                 └─ worker (PID 2: joins the learner's cgroups, mounts) ── ...

The init is a small program started with ``posix_spawn`` (no copy of the server's memory):
the worker alone is forked from the server, which imported NumPy for it, so a slot costs one
copy of that memory and one tear-down, not two. The init never exits by itself while the
server lives; orphans of the learner are adopted by it (and left unreaped: they are gone
with the namespace). In the worker's mount namespace a fresh /proc shows the slot's
processes only, and fresh tmpfs file systems (of a bounded size) are its /tmp, the work
directory, and /dev/shm.

The server kills the init when the worker has ended, or when the grader asks to kill the
worker: then the kernel kills every process of the namespace, however it was started
(re-parented daemons, ``clone(CLONE_PARENT)`` children), and the tmpfs file systems vanish
with the mount namespace: nothing of the learner's outlives its slot. Should the server die,
the init reads the end of its pipe and exits, which ends the namespace all the same.
"""

from __future__ import annotations

import os
import signal
import sys

from . import confine

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
WORKDIR = "/tmp"
PR_SET_PDEATHSIG = 1
INIT_PROGRAMS = ("/usr/bin/cat", "/bin/cat")


class SlotError(OSError):
    """The slot's namespaces or mounts could not be made."""


def init_program() -> str | None:
    """The program a slot's init runs (``cat``), or None where there is none to run."""
    return next((p for p in INIT_PROGRAMS if os.access(p, os.X_OK)), None)


def fork_slot(own_pid_namespace: int, init: str, become_worker, join_fds: list[int],
              tmpfs_bytes: int, close_in_child) -> tuple[int, int, int]:
    """Start a slot whose worker runs ``become_worker(workdir)``: (worker pid, init pid,
    the init's pipe).

    ``own_pid_namespace`` is an open descriptor of the caller's PID namespace, to go back to;
    ``init`` the program of ``init_program()``; ``close_in_child()`` closes, in the worker,
    what it must not keep of the caller's. Closing the returned pipe (or killing the init)
    ends the slot. Every descriptor the caller holds must be close-on-exec: the init keeps
    none of them.
    """
    hold_r, hold_w = os.pipe()                 # both close-on-exec
    init_pid = pid = None
    try:
        confine.unshare(confine.CLONE_NEWPID)  # the next child is PID 1 of a new one
        try:
            init_pid = os.posix_spawn(init, [init], {}, file_actions=[
                (os.POSIX_SPAWN_DUP2, hold_r, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
            pid = os.fork()                    # PID 2 there
        finally:
            if pid != 0:                       # the server: back to its own namespace
                confine.setns(own_pid_namespace, confine.CLONE_NEWPID)
    except OSError:
        os.close(hold_r)
        os.close(hold_w)
        if init_pid is not None:
            end_slot(init_pid, None)
        raise
    if pid != 0:
        os.close(hold_r)
    else:
        try:
            os.close(hold_r)
            os.close(hold_w)                   # only the server keeps the init alive
            # The worker ends with the server (its init ends then too).
            confine.libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            close_in_child()
            _enter_slot(join_fds, tmpfs_bytes)
            become_worker(WORKDIR)
        finally:
            os._exit(70)
    return pid, init_pid, hold_w


def end_slot(init_pid: int, hold_w: int | None) -> None:
    """Kill a slot's init, and with it every process left in the slot."""
    try:
        os.kill(init_pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if hold_w is not None:
        try:
            os.close(hold_w)
        except OSError:
            pass


def _enter_slot(join_fds: list[int], tmpfs_bytes: int) -> None:
    """In the worker (PID 2 of the slot): cgroups, then its own mounts and IPC."""
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


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    c = confine.libc()
    result = c.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                     flags, data.encode() if data else None)
    if result != 0:
        raise SlotError(f"mount {target}: {confine.last_error()}")
