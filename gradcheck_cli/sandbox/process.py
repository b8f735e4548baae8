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
from .channel import Capture, Pipes
from .inside import wire
from .inside.tree import kill_tree
from .options import SandboxOptions


# The script every process that runs learner code starts from (a worker, a fork server).
START_SCRIPT = Path(__file__).parent / "inside" / "start.py"
# Isolated (no user site, no PYTHON* variables, no script folder on sys.path), no .pyc files
# next to the learner's file, unbuffered output so nothing printed before a crash is lost.
PYTHON_FLAGS = ("-I", "-B", "-u", "-X", "utf8")
# One BLAS thread per worker: graders run several workers side by side.
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class SandboxError(GradcheckError):
    """The grader could not run a worker process at all (not the learner's fault)."""


class WorkerProcess:
    """A running worker: its pipes and its private working directory.

    How it was started (``spawn``, or forked by a ``ForkServer``) decides how its exit is seen
    and how it is killed: the subclasses.
    """

    launch = "spawn"

    def __init__(self, pid: int, pipes: Pipes, workdir: str):
        self.pid = pid
        self.pipes = pipes
        self.workdir = workdir
        self._ended = False

    @property
    def capture(self) -> Capture:
        """The learner's output not yet taken."""
        return self.pipes.capture

    def exit_status(self, grace: float = 1.0) -> int | None:
        """How the process ended, like ``Popen.returncode``, or None if it is still running."""
        raise NotImplementedError

    def memory_exceeded(self) -> bool:
        """Whether the kernel killed one of the learner's processes for the memory budget."""
        return False

    def end(self) -> None:
        """Kill the worker and all its descendants, keep their last output, free everything."""
        if self._ended:
            return
        self._ended = True
        self._kill()
        self.pipes.drain_output()
        self.pipes.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _kill(self) -> None:
        """Kill the process tree and wait (a little) for the worker to be gone."""
        raise NotImplementedError


class SpawnedProcess(WorkerProcess):
    """A worker started as a fresh interpreter, a child of the grader."""

    def __init__(self, popen: subprocess.Popen, pipes: Pipes, workdir: str):
        super().__init__(popen.pid, pipes, workdir)
        self.popen = popen

    def exit_status(self, grace: float = 1.0) -> int | None:
        """The exit status, seen without reaping the process.

        Unreaped, its pid stays reserved until ``end`` has killed what it may have left behind.
        """
        deadline = time.monotonic() + grace
        while True:
            status = _peek_status(self.popen)
            if status is not None or time.monotonic() >= deadline:
                return status
            time.sleep(0.005)

    def _kill(self) -> None:
        if self.popen.returncode is None:        # not reaped: the pid still names our worker
            kill_tree(self.popen.pid)
        try:
            self.popen.wait(timeout=5.0)
        except subprocess.TimeoutExpired:        # stuck in the kernel; the OS finishes it
            pass


def open_pipes(options: SandboxOptions) -> tuple[Pipes, tuple[int, int, int]]:
    """The grader's ends of a new worker's pipes, and the worker's ends (request, response,
    output) for the caller to hand over and then close."""
    request_r, request_w = os.pipe()
    response_r, response_w = os.pipe()
    output_r, output_w = os.pipe()
    for fd in (request_w, response_r):
        _widen_pipe(fd)
    max_payload = (options.memory_mb + 512) * 2**20
    pipes = Pipes(request_w, response_r, output_r, Capture(options.capture_limit), max_payload)
    return pipes, (request_r, response_w, output_w)


def send_init(process: WorkerProcess, path: str, options: SandboxOptions) -> WorkerProcess:
    """Tell a new worker which submission to import and under which limits."""
    init = {"op": "init", "path": path, "timeout": options.timeout,
            "import_timeout": options.effective_import_timeout, "deadline": options.deadline,
            "memory_mb": options.memory_mb, "process_limit": options.process_limit,
            "forbidden_imports": list(options.refused_imports)}
    try:
        process.pipes.send(wire.encode_parts(init), time.monotonic() + options.startup_timeout)
    except Exception:
        process.end()
        raise
    return process


def spawn(path: str, options: SandboxOptions) -> WorkerProcess:
    """Start a fresh interpreter as the worker for the submission at absolute ``path``."""
    if os.name != "posix" or not sys.executable:
        raise SandboxError("gradcheck runs learner code in a worker process, which needs a "
                           "POSIX system (Linux or macOS) and a known Python executable")
    workdir = tempfile.mkdtemp(prefix="gradcheck-worker-")
    pipes, (request_r, response_w, output_w) = open_pipes(options)
    command = inside_command("worker", str(request_r), str(response_w))
    try:
        popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output_w,
                                 stderr=output_w, pass_fds=(request_r, response_w),
                                 cwd=workdir, env=worker_env(workdir), start_new_session=True)
    except OSError as exc:
        pipes.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise SandboxError(f"could not start the worker process: {exc}") from None
    finally:
        for fd in (request_r, response_w, output_w):
            os.close(fd)
    return send_init(SpawnedProcess(popen, pipes, workdir), path, options)


def inside_command(role: str, *args: str) -> list[str]:
    """The command line that starts ``inside/start.py`` as ``role`` (worker, forkserver).

    The last argument is where the grader found NumPy: the process looks there too (a user
    site, for example).
    """
    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    return [sys.executable, *PYTHON_FLAGS, str(START_SCRIPT), role, *args, numpy_dir]


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
