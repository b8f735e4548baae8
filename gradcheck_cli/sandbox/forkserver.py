"""``ForkServer``: start the worker's interpreter and NumPy once, fork a worker per submission.

A fresh worker costs an interpreter start and a NumPy import (tens of milliseconds of CPU);
a fork of a process that has both costs about a millisecond. The server
(``inside/forkserver_main.py``) never runs learner code: each forked process becomes a worker
exactly like a spawned one, with the same limits, and is driven through the same ``Worker``
API::

    with ForkServer() as server:
        with Worker("alice.py", SandboxOptions(timeout=5.0), fork_server=server) as worker:
            ...

Linux only (``ForkServer.supported()``); elsewhere, and if the server dies, workers are
spawned as before.
"""

from __future__ import annotations

import json
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from .channel import Pipes
from .inside.tree import kill_tree
from .options import SandboxOptions
from .process import (SandboxError, WorkerProcess, inside_command, open_pipes, send_init, spawn,
                      worker_env)

_MAX_MESSAGE = 1 << 16
_KILL_WAIT = 5.0


class ForkServer:
    """A long-lived process with NumPy imported that forks a fresh worker per request.

    Thread-safe: the threads of a batch share one server. ``start()`` (or ``with``) launches
    it; ``close()`` kills it and every worker it forked.
    """

    def __init__(self, startup_timeout: float = 60.0):
        self.startup_timeout = startup_timeout
        self.pid: int | None = None
        self.network = "not cut: the fork server is not running"
        self.pid_namespace = False
        self._popen: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._workdir: str | None = None
        self._replies: queue.Queue = queue.Queue()
        self._exits: dict[int, int] = {}
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
                "pid_namespace": self.pid_namespace}

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
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        workdir = tempfile.mkdtemp(prefix="gradcheck-forkserver-")
        command = inside_command("forkserver", str(theirs.fileno()))
        try:
            with open(os.path.join(workdir, "server.log"), "wb") as log:
                popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, pass_fds=(theirs.fileno(),), cwd=workdir,
                                         env=worker_env(workdir), start_new_session=True)
        except OSError as exc:
            ours.close()
            shutil.rmtree(workdir, ignore_errors=True)
            raise SandboxError(f"could not start the fork server: {exc}") from None
        finally:
            theirs.close()
        self._popen, self._sock, self._workdir = popen, ours, workdir
        self._finalizer = weakref.finalize(self, _stop, popen, ours, workdir)
        self._running = True
        return self

    def wait_ready(self) -> None:
        """Wait until the server has started; SandboxError (and the server stopped) if not."""
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
            self.pid = int(ready["pid"])
            self.network = str(ready.get("network"))
            self.pid_namespace = bool(ready.get("pid_namespace"))
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
        workdir = tempfile.mkdtemp(prefix="gradcheck-worker-")
        pipes, theirs = open_pipes(options)
        request = {"op": "fork", "workdir": workdir, "env": worker_env(workdir)}
        try:
            with self._fork_lock:
                socket.send_fds(self._sock, [json.dumps(request).encode("utf-8")], list(theirs))
                reply = self._replies.get(timeout=options.startup_timeout)
        except (OSError, queue.Empty) as exc:
            reply = {"kind": "fork_failed", "error": f"no answer ({exc or 'timed out'})"}
            self.close()                # a late answer must not be taken for the next request
        finally:
            for fd in theirs:
                os.close(fd)
        if reply.get("kind") != "forked":
            pipes.close()
            shutil.rmtree(workdir, ignore_errors=True)
            raise SandboxError(f"the fork server could not fork a worker: "
                               f"{reply.get('error', reply)}")
        return send_init(ForkedProcess(self, int(reply["pid"]), pipes, workdir), path, options)

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
                return _decode(self._sock.recv(_MAX_MESSAGE))
            if self._popen.poll() is not None:
                return None

    def _read_messages(self) -> None:
        """The server's messages: fork replies to the launcher, exits to whoever waits."""
        sock = self._sock
        while True:
            try:
                data = sock.recv(_MAX_MESSAGE)
            except OSError:
                data = b""
            if not data:
                break
            message = _decode(data)
            if message is None:
                continue
            if message.get("kind") == "exited":
                with self._changed:
                    self._exits[int(message["pid"])] = int(message["status"])
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
    """A worker forked by a ``ForkServer``; the server reaps it and kills it."""

    launch = "fork"

    def __init__(self, server: ForkServer, pid: int, pipes: Pipes, workdir: str):
        super().__init__(pid, pipes, workdir)
        self.server = server

    def exit_status(self, grace: float = 1.0) -> int | None:
        """How the worker ended, as the server saw it, or None if it is still running."""
        return self.server.exit_status(self.pid, grace)

    def _kill(self) -> None:
        self.server.kill(self.pid)
        self.server.exit_status(self.pid, _KILL_WAIT)
        self.server.forget(self.pid)


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
