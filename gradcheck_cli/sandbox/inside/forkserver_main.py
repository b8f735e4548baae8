"""The fork server: NumPy and the worker's code imported once, then a worker forked per request.

``ForkServer`` (the grader's handle, ``sandbox/forkserver.py``) starts it as
``python -I -B -u start.py forkserver SOCKET_FD NUMPY_DIR``. It never imports a submission:
each process it forks becomes a worker exactly as a spawned one would (``serve.run_worker``:
limits, user, import guard, the submission, calls), on pipes the grader created and passed
over the socket.

Messages on the socket (SOCK_SEQPACKET, one JSON object each)::

    server → grader   {"kind": "ready", "pid", "network", "pid_namespace"}
    grader → server   {"op": "fork", "workdir", "env"} + 3 descriptors (request, response, output)
    server → grader   {"kind": "forked", "pid"} | {"kind": "fork_failed", "error"}
    grader → server   {"op": "kill", "pid"}      kill that worker and all it started
    server → grader   {"kind": "exited", "pid", "status"}   status like Popen.returncode
    grader → server   {"op": "exit"}             or the grader hangs up: kill everything, exit

Where the kernel allows it, the server first enters new network and PID namespaces, so every
worker has no network, and no worker can see or signal a process outside them (the grader
included). The namespace's first process, forked before any worker, only reaps: when it dies
(with the server), the kernel kills whatever is left in the namespace. Processes a dead worker
left behind are adopted by it (or by this server, without a PID namespace) and killed here.
"""

import json
import os
import select
import signal
import socket

from . import confine, limits, tree
from .limits import PR_SET_CHILD_SUBREAPER, PR_SET_PDEATHSIG, prctl
from .serve import run_worker

MAX_MESSAGE = 1 << 16


class Server:
    """The server's state: its socket, its live workers, the namespace's reaper."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.workers: set[int] = set()     # forked and not yet reaped: their pids are ours
        self.reaper: int | None = None      # the PID namespace's first process
        self.wake_r, self.wake_w = os.pipe()

    # -- start

    def start(self) -> None:
        """Enter the namespaces, start the reaper, say ready."""
        network, pid_namespace = confine.enter_namespaces(pid_namespace=True)
        limits.INHERITED_NETWORK = network
        limits.INHERITED_PID_NAMESPACE = pid_namespace
        limits.FORKED = True
        prctl(PR_SET_CHILD_SUBREAPER, 1)    # orphans come here when there is no reaper
        if pid_namespace:
            self.reaper = self._fork_reaper()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.send({"kind": "ready", "pid": os.getpid(), "network": network,
                   "pid_namespace": pid_namespace})

    def _fork_reaper(self) -> int:
        pid = os.fork()
        if pid == 0:
            try:
                self._close_server_fds()
                prctl(PR_SET_PDEATHSIG, signal.SIGKILL)   # the server's death ends the namespace
                reap_forever()
            finally:
                os._exit(0)
        return pid

    # -- serve

    def serve(self) -> None:
        """Answer requests until the grader says exit or hangs up."""
        while True:
            try:
                readable, _, _ = select.select([self.sock, self.wake_r], [], [])
            except InterruptedError:
                continue
            if self.wake_r in readable:
                _drain(self.wake_r)
            self.reap()
            if self.sock in readable and not self.handle_request():
                return

    def handle_request(self) -> bool:
        """One request; False when the server should stop."""
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, 3)
        except InterruptedError:
            return True
        except OSError:
            return False
        if not data:
            return False
        try:
            request = json.loads(data)
        except ValueError:
            request = {}
        op = request.get("op")
        if op == "fork" and len(fds) == 3:
            self.fork_worker(request, fds)
            return True
        for fd in fds:
            os.close(fd)
        if op == "kill":
            pid = int(request.get("pid", 0))
            if pid in self.workers:         # unreaped: the pid surely names our worker
                tree.kill_tree(pid)
            return True
        return op != "exit"

    def fork_worker(self, request: dict, fds: list[int]) -> None:
        """Fork a worker on the grader's pipes; it never returns into this loop."""
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            self.send({"kind": "fork_failed", "error": str(exc)})
            return
        if pid == 0:
            try:
                self.become_worker(request, *fds)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)
        self.workers.add(pid)
        self.send({"kind": "forked", "pid": pid})

    def become_worker(self, request: dict, request_fd: int, response_fd: int,
                      output_fd: int) -> None:
        """In the forked process: the grader's pipes, its own session, directory and
        environment; then the worker's life (``serve.run_worker``), which ends in ``_exit``."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self._close_server_fds()
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(output_fd)
        env = {str(k): str(v) for k, v in dict(request.get("env") or {}).items()}
        os.chdir(str(request["workdir"]))
        os.environ.clear()
        os.environ.update(env)
        run_worker(request_fd, response_fd)

    def _close_server_fds(self) -> None:
        self.sock.close()
        for fd in (self.wake_r, self.wake_w):
            os.close(fd)

    # -- children

    def reap(self) -> None:
        """Reap what has ended; report workers' exits; kill what dead workers left behind."""
        ended = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in self.workers:
                self.workers.discard(pid)
                ended = True
                self.send({"kind": "exited", "pid": pid,
                           "status": os.waitstatus_to_exitcode(status)})
            elif pid == self.reaper:
                self.reaper = None
        if ended:
            self.sweep()

    def sweep(self) -> None:
        """Kill the orphans of dead workers: the adopter's children that are not workers."""
        adopter = self.reaper if self.reaper is not None else os.getpid()
        keep = self.workers | {self.reaper}
        tree.kill_trees(pid for pid in tree.children_of(adopter) if pid not in keep)

    def shutdown(self) -> None:
        """Kill every worker and the namespace (with all it holds), then reap."""
        tree.kill_trees(list(self.workers))
        if self.reaper is not None:
            try:
                os.kill(self.reaper, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.sweep()

    def send(self, message: dict) -> None:
        try:
            self.sock.send(json.dumps(message).encode("utf-8"))
        except OSError:                     # the grader is gone; shutdown follows
            pass


def reap_forever() -> None:
    """The PID namespace's first process: reap whatever is adopted, until killed."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        signal.sigwait({signal.SIGCHLD})


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def main(args: list[str]) -> None:
    """``SOCKET_FD [NUMPY_DIR]``, as ``start.py forkserver`` passes them."""
    server = Server(socket.socket(fileno=int(args[0])))
    server.start()
    try:
        server.serve()
    finally:
        server.shutdown()
