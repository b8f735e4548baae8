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

from ..errors import GradcheckError
from ..notebook import NotebookError, is_notebook, read_notebook
from ..pysource import read_learner_file
from . import cgroups, confinement, learner_files
from .cgroups import Slot
from .channel import Capture, Pipes
from .confinement import Confinement
from .inside import wire
from .inside.tree import kill_tree
from .options import SandboxOptions


# The script every process that runs learner code starts from (a worker, a fork server).
START_SCRIPT = Path(__file__).parent / "inside" / "start.py"
# Isolated (no user site, no PYTHON* variables, no script folder on sys.path), no site-packages
# (NumPy's folder is added alone), no .pyc files next to the learner's file, unbuffered output
# so nothing printed before a crash is lost.
PYTHON_FLAGS = ("-I", "-S", "-B", "-u", "-X", "utf8")
# One BLAS thread per worker: graders run several workers side by side.
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# The work directory inside bubblewrap: a tmpfs of the sandbox's own.
SANDBOX_WORKDIR = "/tmp"


class SandboxError(GradcheckError):
    """The grader could not run a worker process at all (not the learner's fault)."""


class WorkerProcess:
    """A running worker: its pipes, its cgroups (``slot``) and its work directory.

    How it was started (``spawn``, or forked by a ``ForkServer``) decides how its exit is seen
    and how it is killed: the subclasses. ``workdir`` is the host folder to delete afterwards
    (None under bubblewrap, whose work directory is a tmpfs that vanishes with the sandbox).
    """

    launch = "spawn"

    def __init__(self, pid: int, pipes: Pipes, workdir: str | None, slot: Slot | None,
                 confined: Confinement):
        self.pid = pid
        self.pipes = pipes
        self.workdir = workdir
        self.slot = slot
        self.confinement = confined
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
        return self.slot is not None and self.slot.oom_kills() > 0

    def describe(self) -> dict:
        """How this worker was confined, for the report's ``sandbox`` section."""
        if self.confinement.name == "bwrap":
            kill = "PID namespace" + (" and cgroup" if self.slot is not None else "")
        else:
            kill = "cgroup" if self.slot is not None else "process tree (no cgroup)"
        return {**self.confinement.describe(), "kill": kill, **cgroups.describe(self.slot)}

    def end(self) -> None:
        """Kill the worker and everything the learner started, keep their last output, free
        everything (the work directory too, whatever the learner did to it)."""
        if self._ended:
            return
        self._ended = True
        if self.slot is not None:
            self.slot.kill()                 # all of it at once, however it was started
        self._kill()
        self.pipes.drain_output()
        self.pipes.close()
        if self.slot is not None:
            self.slot.remove_later()         # killed already: only the folders are left
        if self.workdir is not None:
            remove_workdir(self.workdir)

    def _kill(self) -> None:
        """Kill the process tree and wait (a little) for the worker to be gone."""
        raise NotImplementedError


class SpawnedProcess(WorkerProcess):
    """A worker started as a fresh interpreter (in bubblewrap or not), a child of the grader."""

    def __init__(self, popen: subprocess.Popen, pipes: Pipes, workdir: str | None,
                 slot: Slot | None, confined: Confinement):
        super().__init__(popen.pid, pipes, workdir, slot, confined)
        self.popen = popen

    def exit_status(self, grace: float = 1.0) -> int | None:
        """The exit status, seen without reaping the process.

        Unreaped, its pid stays reserved until ``end`` has killed what it may have left behind.
        bubblewrap passes its command's exit status on, and a death by signal N as 128 + N.
        """
        deadline = time.monotonic() + grace
        while True:
            status = _peek_status(self.popen)
            if status is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.005)
        if status is not None and self.confinement.name == "bwrap" and 128 < status < 128 + 65:
            return -(status - 128)
        return status

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


def submission_source(path: str) -> bytes:
    """The Python source to import: the file's bytes, or a notebook's code cells as Python."""
    if is_notebook(path):
        return read_notebook(path).text.encode("utf-8")
    return read_learner_file(path)


def send_init(process: WorkerProcess, path: str, options: SandboxOptions,
              join_fds: list[int] = ()) -> WorkerProcess:
    """Tell a new worker which submission to import (its bytes, and those of the learner's
    modules beside it: the worker need not be able to read any file) and under which limits
    and confinement."""
    init = {"op": "init", "path": path, "timeout": options.timeout,
            "import_timeout": options.effective_import_timeout, "deadline": options.deadline,
            "memory_mb": options.memory_mb, "process_limit": options.process_limit,
            "forbidden_imports": list(options.refused_imports),
            "confinement": process.confinement.name,
            "slot": {"controls": sorted(process.slot.controls) if process.slot else [],
                     "join_fds": list(join_fds)}}
    # Only now, with the worker's process started: it imports NumPy meanwhile, and so can we.
    import numpy as np

    try:
        source = [np.frombuffer(submission_source(path), dtype=np.uint8)]
    except OSError as exc:
        init["read_error"], source = f"cannot read the submission: {exc.strerror}", []
    except NotebookError as exc:
        where = f" (line {exc.line})" if exc.line else ""
        init["read_error"], source = f"cannot read the notebook{where}: {exc.message}", []
    else:
        # The modules beside it, which the worker cannot read itself: import as Python would.
        modules = learner_files.collect(path, options.hidden_paths, options.shared_paths)
        init["folder"], init["modules"] = modules.folder, modules.names
        init["package"] = modules.package
        source += [np.frombuffer(data, dtype=np.uint8) for data in modules.sources]
    try:
        process.pipes.send(wire.encode_parts(init, source),
                           time.monotonic() + options.startup_timeout)
    except Exception:
        process.end()
        raise
    return process


def spawn(path: str, options: SandboxOptions) -> WorkerProcess:
    """Start a fresh interpreter as the worker for the submission at absolute ``path``: in
    bubblewrap where it runs, else confining itself (``confinement.py``)."""
    if os.name != "posix" or not sys.executable:
        raise SandboxError("gradcheck runs learner code in a worker process, which needs a "
                           "POSIX system (Linux or macOS) and a known Python executable")
    confined = confinement.choose(options.confinement)
    slot = Slot.create(options.memory_mb, options.process_limit + 1)     # + the worker
    join = slot.join_fds() if slot is not None else []
    pipes, (request_r, response_w, output_w) = open_pipes(options)
    command = inside_command("worker", str(request_r), str(response_w))
    if confined.name == "bwrap":
        folder, cwd = None, None
        command = [*confinement.bwrap_command(tmpfs_bytes(options)), "--", *command]
        env = worker_env(SANDBOX_WORKDIR)
    else:
        folder, cwd = make_workdir()
        env = worker_env(cwd)
    try:
        popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output_w,
                                 stderr=output_w, pass_fds=(request_r, response_w, *join),
                                 cwd=cwd, env=env, start_new_session=True)
    except OSError as exc:
        pipes.close()
        if slot is not None:
            slot.remove()
        if folder is not None:
            remove_workdir(folder)
        raise SandboxError(f"could not start the worker process: {exc}") from None
    finally:
        for fd in (request_r, response_w, output_w, *join):
            os.close(fd)
    pipes.watch(_pidfd(popen.pid))               # our unreaped child: the pid is surely it
    return send_init(SpawnedProcess(popen, pipes, folder, slot, confined), path, options, join)


def inside_command(role: str, *args: str) -> list[str]:
    """The command line that starts ``inside/start.py`` as ``role`` (worker, forkserver).

    The last argument is where the grader found NumPy: the only folder of installed packages
    the process looks in (``-S``).
    """
    return [confinement.interpreter(), *PYTHON_FLAGS, str(START_SCRIPT), role, *args,
            confinement.numpy_dir()]


def tmpfs_bytes(options: SandboxOptions) -> int:
    """The size of a learner's private /tmp: its memory budget (tmpfs pages are memory)."""
    return options.memory_mb * 2**20


def make_workdir() -> tuple[str, str]:
    """A private work directory on the host: (the folder to delete, the directory to use).

    The directory sits in a folder of the grader's that the learner's user may enter but not
    change, so the learner cannot rename the directory away to keep it.
    """
    folder = tempfile.mkdtemp(prefix="gradcheck-worker-")
    os.chmod(folder, 0o711)
    work = os.path.join(folder, "work")
    os.mkdir(work, 0o700)
    return folder, work


def remove_workdir(folder: str) -> None:
    """Delete a work directory, however deep or strange the learner made it."""
    try:
        shutil.rmtree(folder, ignore_errors=True)
    except RecursionError:                   # deeper than Python's recursion: rm walks by fd
        pass
    if os.path.lexists(folder):
        subprocess.run(["rm", "-rf", "--", folder], stdin=subprocess.DEVNULL,
                       capture_output=True, check=False)


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


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when process ``pid`` ends (Linux 5.3+), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


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
