"""Starting a worker process, and ending it together with every process it started."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import GradcheckError
from . import wire
from .channel import Capture, Pipes
from .options import SandboxOptions

CHILD_SCRIPT = Path(__file__).with_name("child.py")
# Isolated (no user site, no PYTHON* variables, no script folder on sys.path), no .pyc files
# next to the learner's file, unbuffered output so nothing printed before a crash is lost.
PYTHON_FLAGS = ("-I", "-B", "-u", "-X", "utf8")
# One BLAS thread per worker: graders run several workers side by side.
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class SandboxError(GradcheckError):
    """The grader could not run a worker process at all (not the learner's fault)."""


class WorkerProcess:
    """A running worker: its process, its pipes and its private working directory."""

    def __init__(self, popen: subprocess.Popen, pipes: Pipes, workdir: str):
        self.popen = popen
        self.pipes = pipes
        self.workdir = workdir
        self.limits: list[str] = []
        self._ended = False

    @property
    def capture(self) -> Capture:
        """The learner's output not yet taken."""
        return self.pipes.capture

    def exit_status(self, grace: float = 1.0) -> int | None:
        """How the process ended, like ``Popen.returncode``, or None if it is still running.

        The process is not reaped, so its pid stays reserved until ``end`` has killed what
        it may have left behind.
        """
        deadline = time.monotonic() + grace
        while True:
            status = _peek_status(self.popen)
            if status is not None or time.monotonic() >= deadline:
                return status
            time.sleep(0.005)

    def end(self) -> None:
        """Kill the worker and all its descendants, keep their last output, free everything."""
        if self._ended:
            return
        self._ended = True
        if self.popen.returncode is None:        # not reaped: the pid still names our worker
            kill_tree(self.popen.pid)
        try:
            self.popen.wait(timeout=5.0)
        except subprocess.TimeoutExpired:        # stuck in the kernel; the OS finishes it
            pass
        self.pipes.drain_output()
        self.pipes.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def spawn(path: str, options: SandboxOptions) -> WorkerProcess:
    """Start a worker for the submission at absolute ``path``; it begins importing at once."""
    if os.name != "posix" or not sys.executable:
        raise SandboxError("gradcheck runs learner code in a worker process, which needs a "
                           "POSIX system (Linux or macOS) and a known Python executable")
    workdir = tempfile.mkdtemp(prefix="gradcheck-worker-")
    request_r, request_w = os.pipe()
    response_r, response_w = os.pipe()
    output_r, output_w = os.pipe()
    for fd in (request_w, response_r):
        _widen_pipe(fd)
    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    command = [sys.executable, *PYTHON_FLAGS, str(CHILD_SCRIPT), str(request_r),
               str(response_w), numpy_dir]
    try:
        popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output_w,
                                 stderr=output_w, pass_fds=(request_r, response_w),
                                 cwd=workdir, env=worker_env(workdir), start_new_session=True)
    except OSError as exc:
        for fd in (request_w, response_r, output_r):
            os.close(fd)
        shutil.rmtree(workdir, ignore_errors=True)
        raise SandboxError(f"could not start the worker process: {exc}") from None
    finally:
        for fd in (request_r, response_w, output_w):
            os.close(fd)
    max_payload = (options.memory_mb + 512) * 2**20
    pipes = Pipes(request_w, response_r, output_r, Capture(options.capture_limit), max_payload)
    process = WorkerProcess(popen, pipes, workdir)
    init = {"op": "init", "path": path, "timeout": options.timeout,
            "import_timeout": options.effective_import_timeout,
            "memory_mb": options.memory_mb, "forbidden_imports": list(options.refused_imports)}
    try:
        pipes.send(wire.encode_parts(init), time.monotonic() + options.startup_timeout)
    except Exception:
        process.end()
        raise
    return process


def worker_env(workdir: str) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's (tokens, paths) reaches learner code."""
    env = {"PATH": os.defpath, "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8",
           "MALLOC_ARENA_MAX": "2"}
    env.update({name: "1" for name in _THREAD_VARIABLES})
    return env


def describe_exit(status: int | None) -> str:
    """`exit status 3` or `signal SIGSEGV (Segmentation fault)`, for a message."""
    if status is None:
        return "it closed its channel to the grader"
    if status >= 0:
        return f"exit status {status}"
    number = -status
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    text = signal.strsignal(number) or ""
    return f"signal {name} ({text})" if text else f"signal {name}"


def _widen_pipe(fd: int) -> None:
    """Fewer, larger writes for big arrays (Linux lets a pipe hold 1 MiB unprivileged)."""
    try:
        import fcntl
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass


# ---------------------------------------------------------------------------- killing


def kill_tree(pid: int) -> None:
    """SIGKILL a worker and its descendants, even those that left its process group.

    Everything is stopped first so that nothing can fork while the tree is being walked.
    The worker is a child subreaper (on Linux), so orphaned grandchildren are still found
    under it.
    """
    _signal_group(pid, signal.SIGSTOP)
    _signal(pid, signal.SIGSTOP)
    stopped = {pid}
    for _ in range(20):
        new = _descendants(stopped) - stopped
        if not new:
            break
        for child in new:
            _signal(child, signal.SIGSTOP)
        stopped |= new
    for member in stopped:
        _signal(member, signal.SIGKILL)
    _signal_group(pid, signal.SIGKILL)


def _descendants(roots: set[int]) -> set[int]:
    """Pids below ``roots`` in the process tree, read from /proc (empty where there is none)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return set()
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _peek_status(popen: subprocess.Popen) -> int | None:
    """The exit status of a child that has ended, without reaping it."""
    if popen.returncode is not None:
        return popen.returncode
    waitid = getattr(os, "waitid", None)
    if waitid is None:                           # no peeking here: reap
        return popen.poll()
    try:
        info = waitid(os.P_PID, popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return popen.poll()
    if info is None:
        return None
    if info.si_code == os.CLD_EXITED:
        return info.si_status
    return -info.si_status
