"""``ForkServer``: start the worker's interpreter and NumPy once, fork a worker per submission.

A fresh worker costs an interpreter start and a NumPy import (tens of milliseconds of CPU);
a fork of a process that has both costs about a millisecond. The server
(``inside/forkserver_main.py``) never runs learner code: each forked process becomes a worker
exactly like a spawned one, with the same limits, and is driven through the same ``Worker``
API::

    with ForkServer() as server:
        with Worker("alice.py", SandboxOptions(timeout=5.0), fork_server=server) as worker:
            ...

Under bubblewrap (``confinement.py``) the server runs inside one sandbox, and gives each
worker a slot of its own namespaces (``inside/slot.py``); in the fallback it confines itself
and its workers as a spawned worker would. Linux only (``ForkServer.supported()``); elsewhere,
and if the server dies, workers are spawned as before.
"""

from __future__ import annotations

import array
import json
import os
import queue
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from . import confinement
from .cgroups import Slot
from .channel import Pipes
from .confinement import Confinement
from .inside.tree import kill_tree
from .options import SandboxOptions
from .process import (SANDBOX_WORKDIR, SandboxError, WorkerProcess, inside_command, make_workdir,
                      open_pipes, remove_workdir, send_init, spawn, tmpfs_bytes, worker_env)

_MAX_MESSAGE = 1 << 16
_KILL_WAIT = 5.0
_CREDENTIALS = struct.Struct("3i")


class ForkServer:
    """A long-lived process with NumPy imported that forks a fresh worker per request.

    Thread-safe: the threads of a batch share one server. ``start()`` (or ``with``) launches
    it; ``close()`` kills it and every worker it forked.
    """

    def __init__(self, startup_timeout: float = 60.0, confinement: str | None = None):
        self.startup_timeout = startup_timeout
        self.wanted = confinement              # None: as $GRADCHECK_CONFINEMENT says
        self.confinement: Confinement | None = None
        self.slots = False                      # a slot of namespaces per worker (bubblewrap)
        self.pid: int | None = None
        self.network = "not cut: the fork server is not running"
        self.pid_namespace = False
        self._popen: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._workdir: str | None = None
        self._replies: queue.Queue = queue.Queue()
        self._exits: dict[int, int] = {}
        self._abandoned: set[int] = set()
        self._changed = threading.Condition()
        self._fork_lock = threading.Lock()
        self._running = False
        self._ready = False
        self._ready_lock = threading.Lock()
        self._finalizer: weakref.finalize | None = None

    @staticmethod
    def supported() -> bool:
        """Whether this system can run a fork server (Linux, with descriptor passing)."""
        return (sys.platform.startswith("linux") and hasattr(os, "fork")
                and hasattr(socket, "send_fds") and hasattr(socket, "SOCK_SEQPACKET")
                and bool(sys.executable))

    @property
    def running(self) -> bool:
        """True while the server answers requests."""
        return self._running

    def __enter__(self) -> "ForkServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ForkServer(pid={self.pid}, {'running' if self._running else 'stopped'})"

    def describe(self) -> dict[str, Any]:
        """What the server could take away from its workers, as plain data."""
        if self._running:
            try:
                self.wait_ready()
            except SandboxError:
                pass
        return {"running": self._running, "network": self.network,
                "pid_namespace": self.pid_namespace, "slots": self.slots,
                **(self.confinement.describe() if self.confinement else {})}

    # -- lifecycle

    def start(self) -> "ForkServer":
        """Launch the server; it gets ready (imports NumPy) while the caller goes on.

        SandboxError if it cannot even be launched. A server that fails while getting ready
        makes ``launch`` raise SandboxError, and ``Worker`` then spawns its worker instead.
        """
        if self._popen is not None:
            return self
        if not self.supported():
            raise SandboxError("a fork server needs Linux; workers are started one by one")
        self._start(confinement.choose(self.wanted))
        return self

    def _start(self, confined: Confinement) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        workdir = tempfile.mkdtemp(prefix="gradcheck-forkserver-")
        mode = "slots" if confined.name == "bwrap" else "plain"
        command = inside_command("forkserver", str(theirs.fileno()), mode)
        if confined.name == "bwrap":
            command = [*confinement.bwrap_command(1 << 20), "--", *command]
        try:
            with open(os.path.join(workdir, "server.log"), "wb") as log:
                popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, pass_fds=(theirs.fileno(),),
                                         cwd=workdir, env=worker_env(workdir),
                                         start_new_session=True)
        except OSError as exc:
            ours.close()
            shutil.rmtree(workdir, ignore_errors=True)
            raise SandboxError(f"could not start the fork server: {exc}") from None
        finally:
            theirs.close()
        self.confinement = confined
        self._popen, self._sock, self._workdir = popen, ours, workdir
        self._finalizer = weakref.finalize(self, _stop, popen, ours, workdir)
        self._running = True

    def wait_ready(self) -> None:
        """Wait until the server has started; SandboxError (and the server stopped) if not.

        A server under bubblewrap that cannot give its workers namespaces of their own is
        replaced by one in the fallback confinement, which says why.
        """
        with self._ready_lock:
            if self._ready:
                return
            if not self._running:
                raise SandboxError("the fork server is not running")
            ready = self._first_message(time.monotonic() + self.startup_timeout)
            if ready is None or ready.get("kind") != "ready":
                log = self._log()
                self.close()
                raise SandboxError(f"the fork server did not start; it printed:\n{log}")
            if self.confinement.name == "bwrap" and not ready.get("slots"):
                self.close()
                self._start(Confinement("process", f"bubblewrap's fork server could not give "
                                                   f"each worker its namespaces "
                                                   f"({ready.get('problem')})"))
                ready = self._first_message(time.monotonic() + self.startup_timeout)
                if ready is None or ready.get("kind") != "ready":
                    log = self._log()
                    self.close()
                    raise SandboxError(f"the fork server did not start; it printed:\n{log}")
            self.pid = int(ready.get("host_pid") or ready["pid"])
            self.network = str(ready.get("network"))
            self.pid_namespace = bool(ready.get("pid_namespace"))
            self.slots = bool(ready.get("slots"))
            self._ready = True
            threading.Thread(target=self._read_messages, name="gradcheck-forkserver",
                             daemon=True).start()

    def close(self) -> None:
        """Stop the server, killing every worker it forked; idempotent."""
        self._running = False
        if self._finalizer is not None:
            self._finalizer()
        with self._changed:
            self._changed.notify_all()

    # -- workers

    def launch(self, path: str, options: SandboxOptions) -> "ForkedProcess":
        """Fork a worker for the submission at absolute ``path``; it begins importing at once."""
        self.wait_ready()
        if not self._running:
            raise SandboxError("the fork server has stopped")
        # The learner's processes and the worker (a slot's init is in no learner's cgroup).
        slot = Slot.create(options.memory_mb, options.process_limit + 1)
        join = slot.join_fds() if slot is not None else []
        if self.slots:
            folder, workdir = None, SANDBOX_WORKDIR     # the slot's own tmpfs
        else:
            folder, workdir = make_workdir()
        pipes, theirs = open_pipes(options)
        request = {"op": "fork", "workdir": workdir, "env": worker_env(workdir),
                   "tmpfs_bytes": tmpfs_bytes(options)}
        try:
            with self._fork_lock:
                socket.send_fds(self._sock, [json.dumps(request).encode("utf-8")],
                                [*theirs, *join])
                reply = self._replies.get(timeout=options.startup_timeout)
        except (OSError, queue.Empty) as exc:
            reply = {"kind": "fork_failed", "error": f"no answer ({exc or 'timed out'})"}
            self.close()                # a late answer must not be taken for the next request
        finally:
            for fd in (*theirs, *join):
                os.close(fd)
        if reply.get("kind") != "forked":
            if reply.get("pidfd") is not None:
                os.close(reply["pidfd"])
            pipes.close()
            if slot is not None:
                slot.remove()
            if folder is not None:
                remove_workdir(folder)
            raise SandboxError(f"the fork server could not fork a worker: "
                               f"{reply.get('error', reply)}")
        pipes.watch(reply.get("pidfd"))
        process = ForkedProcess(self, int(reply["pid"]), reply.get("host_pid"), pipes, folder,
                                slot, self.confinement)
        return send_init(process, path, options)

    def exit_status(self, pid: int, grace: float) -> int | None:
        """The worker's exit status once the server has reaped it (waiting up to ``grace``)."""
        deadline = time.monotonic() + grace
        with self._changed:
            while pid not in self._exits and self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
            return self._exits.get(pid)

    def kill(self, pid: int) -> None:
        """Kill a worker and everything it started (the server does it: it holds the pid)."""
        self._send({"op": "kill", "pid": pid})

    def forget(self, pid: int) -> None:
        """Drop what is known about an ended worker."""
        with self._changed:
            self._exits.pop(pid, None)

    def abandon(self, pid: int) -> None:
        """Stop waiting for a worker the grader has ended itself: its exit is dropped when the
        server reports it (always before the pid can name another worker)."""
        with self._changed:
            if self._exits.pop(pid, None) is None:
                self._abandoned.add(pid)

    # -- internals

    def _send(self, message: dict) -> None:
        try:
            self._sock.send(json.dumps(message).encode("utf-8"))
        except OSError:
            pass

    def _first_message(self, deadline: float) -> dict | None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([self._sock], [], [], min(remaining, 0.1))
            if readable:
                return _receive(self._sock)
            if self._popen.poll() is not None:
                return None

    def _read_messages(self) -> None:
        """The server's messages: fork replies to the launcher, exits to whoever waits."""
        sock = self._sock
        while True:
            message = _receive(sock)
            if message is None:
                break
            if not message:
                continue
            if message.get("kind") == "exited":
                with self._changed:
                    pid = int(message["pid"])
                    if pid in self._abandoned:
                        self._abandoned.discard(pid)
                    else:
                        self._exits[pid] = int(message["status"])
                    self._changed.notify_all()
            else:
                self._replies.put(message)
        self._running = False
        self._replies.put({"kind": "fork_failed", "error": "the fork server has stopped"})
        with self._changed:
            self._changed.notify_all()

    def _log(self) -> str:
        try:
            return Path(self._workdir, "server.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""


class ForkedProcess(WorkerProcess):
    """A worker forked by a ``ForkServer``; the server reaps it and kills it.

    ``server_pid`` is its number in the server's PID namespace (the server's to use); ``pid``
    the grader's own for it, when the kernel translated it (else the same).
    """

    launch = "fork"

    def __init__(self, server: ForkServer, server_pid: int, host_pid: int | None, pipes: Pipes,
                 workdir: str | None, slot: Slot | None, confined: Confinement):
        super().__init__(host_pid or server_pid, pipes, workdir, slot, confined)
        self.server = server
        self.server_pid = server_pid

    def exit_status(self, grace: float = 1.0) -> int | None:
        """How the worker ended, as the server saw it, or None if it is still running."""
        return self.server.exit_status(self.server_pid, grace)

    def _kill(self) -> None:
        if self.slot is not None:       # its cgroup was killed whole: nothing to wait for here
            self.server.abandon(self.server_pid)
            return
        self.server.kill(self.server_pid)
        self.server.exit_status(self.server_pid, _KILL_WAIT)
        self.server.forget(self.server_pid)


def _receive(sock: socket.socket) -> dict | None:
    """The next message, {} for an unreadable one, None once the server hung up.

    ``host_pid`` is the pid its credentials carry, as the grader numbers it: the server's own
    for "ready", the forked process's for "forked", which also brings its ``pidfd``.
    """
    space = socket.CMSG_SPACE(_CREDENTIALS.size) + socket.CMSG_SPACE(4)
    try:
        data, ancillary, _, _ = sock.recvmsg(_MAX_MESSAGE, space)
    except OSError:
        return None
    fds = [fd for level, kind, value in ancillary
           if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS)
           for fd in array.array("i", value[:len(value) - len(value) % 4])]
    message = (_decode(data) or {}) if data else None
    if message is None or message.get("kind") != "forked" or len(fds) > 1:
        for fd in fds:
            os.close(fd)
    else:
        message["pidfd"] = fds[0] if fds else None
    if message and not message.get("ns_only"):
        for level, kind, value in ancillary:
            if (level, kind) == (socket.SOL_SOCKET, socket.SCM_CREDENTIALS) \
                    and len(value) >= _CREDENTIALS.size:
                message["host_pid"] = _CREDENTIALS.unpack(value[:_CREDENTIALS.size])[0]
    return message


def _decode(data: bytes) -> dict | None:
    try:
        message = json.loads(data)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _stop(popen: subprocess.Popen, sock: socket.socket, workdir: str) -> None:
    """Ask the server to exit, then make sure it and everything under it is gone."""
    try:
        sock.send(b'{"op": "exit"}')
    except OSError:
        pass
    try:
        popen.wait(timeout=_KILL_WAIT)
    except subprocess.TimeoutExpired:
        kill_tree(popen.pid)
        popen.wait()
    try:                                     # its group, should anything remain in it
        os.killpg(popen.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    sock.close()
    shutil.rmtree(workdir, ignore_errors=True)


def launch(path: str, options: SandboxOptions,
           fork_server: ForkServer | None = None) -> WorkerProcess:
    """A worker for the submission at absolute ``path``, forked by ``fork_server`` when it is
    running, else spawned; it begins importing at once."""
    if fork_server is not None and fork_server.running:
        try:
            return fork_server.launch(path, options)
        except SandboxError:                    # the server died: this worker is spawned
            pass
    return spawn(path, options)
