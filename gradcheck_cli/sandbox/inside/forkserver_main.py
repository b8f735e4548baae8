"""The fork server: NumPy and the worker's code imported once, then a worker forked per request.

``ForkServer`` (the grader's handle, ``sandbox/forkserver.py``) starts it as
``python -I -S -B -u start.py forkserver SOCKET_FD MODE NUMPY_DIR``. It never imports a
submission: each process it forks becomes a worker exactly as a spawned one would
(``serve.run_worker``: limits, user, import guard, the submission, calls), on pipes the grader
created and passed over the socket.

Two modes:

- ``slots``, under bubblewrap: each worker gets a slot of its own (``slot.py``): PID, mount and
  IPC namespaces, its own /proc and tmpfs work directory, its cgroups joined before anything
  runs. Ending the slot (killing its init) ends everything the learner started.
- ``plain`` (the fallback): where the kernel allows it, the server first enters new network
  and PID namespaces, so every worker has no network and no worker can see or signal a process
  outside them. The namespace's first process, forked before any worker, only reaps: when it
  dies (with the server), the kernel kills whatever is left in it. Processes a dead worker left
  behind are adopted by it (or by this server) and killed here; the grader's cgroup kill, where
  there is one, catches the rest.

Messages on the socket (SOCK_SEQPACKET, one JSON object each)::

    server → grader   {"kind": "ready", "pid", "network", "pid_namespace", "slots", "problem"}
    grader → server   {"op": "fork", "workdir", "env", "tmpfs_bytes"}
                      + descriptors: request, response, output, then cgroup.procs to join
    server → grader   {"kind": "forked", "pid"} | {"kind": "fork_failed", "error"}
                      "forked" carries the process's credentials (SCM_CREDENTIALS), which the
                      kernel translates to the grader's PID namespace ("ns_only": true if
                      not), and a pidfd of the process where the kernel has them
    grader → server   {"op": "kill", "pid"}      kill that worker and all it started
    server → grader   {"kind": "exited", "pid", "status"}   status like Popen.returncode
    grader → server   {"op": "exit"}             or the grader hangs up: kill everything, exit
"""

import array
import gc
import json
import os
import select
import signal
import socket
import struct

from . import confine, limits, slot, tree
from .limits import PR_SET_CHILD_SUBREAPER, PR_SET_PDEATHSIG, prctl
from .serve import run_worker

MAX_MESSAGE = 1 << 16
MAX_FDS = 8                              # three pipes and a cgroup per hierarchy


class Server:
    """The server's state: its socket, its live workers, the namespace's reaper."""

    def __init__(self, sock: socket.socket, mode: str = "plain"):
        self.sock = sock
        sock.set_inheritable(False)        # passed across exec to us, but to no one else
        self.mode = mode
        self.workers: set[int] = set()     # forked and not yet reaped: their pids are ours
        self.slots: dict[int, tuple[int, int]] = {}  # worker -> its slot's init, init's pipe
        self.init = slot.init_program()     # what a slot's init runs (slots mode)
        self.reaper: int | None = None      # the PID namespace's first process (plain mode)
        self.own_pid_namespace: int | None = None
        self.wake_r, self.wake_w = os.pipe()

    # -- start

    def start(self) -> None:
        """Enter the namespaces, start the reaper (or check that slots work), say ready."""
        problem = ""
        if self.mode == "slots":
            network, _ = confine.enter_namespaces()
            self.own_pid_namespace = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
            problem = self._try_a_slot()
            pid_namespace = not problem
        else:
            network, pid_namespace = confine.enter_namespaces(pid_namespace=True)
        limits.INHERITED_NETWORK = network
        limits.INHERITED_PID_NAMESPACE = pid_namespace
        limits.FORKED = True
        limits.prepare()
        # Every object so far is the workers' to share: the collector never walks (and so
        # never copies) their pages in a forked process.
        gc.freeze()
        prctl(PR_SET_CHILD_SUBREAPER, 1)    # orphans come here when there is no reaper
        if pid_namespace and self.mode != "slots":
            self.reaper = self._fork_reaper()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.send({"kind": "ready", "pid": os.getpid(), "network": network,
                   "pid_namespace": pid_namespace, "slots": self.mode == "slots" and not problem,
                   "problem": problem})

    def _try_a_slot(self) -> str:
        """Why slots cannot be made here ("" if a trial slot ran)."""
        if self.init is None:
            return f"no program for a slot's init (none of {', '.join(slot.INIT_PROGRAMS)})"
        try:
            pid, init_pid, hold = slot.fork_slot(self.own_pid_namespace, self.init,
                                                 lambda workdir: os._exit(0), [], 1 << 20,
                                                 self._close_server_fds)
        except OSError as exc:
            return f"no slot namespaces: {exc}"
        _, status = os.waitpid(pid, 0)
        slot.end_slot(init_pid, hold)
        os.waitpid(init_pid, 0)
        if status != 0:
            return f"a trial slot failed (its worker's status {status})"
        return ""

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
            data, fds, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, MAX_FDS)
        except InterruptedError:
            return True
        except OSError:
            return False
        if not data:
            return False
        for fd in fds:                      # a slot's init (exec'd) must keep none of them
            os.set_inheritable(fd, False)
        try:
            request = json.loads(data)
        except ValueError:
            request = {}
        op = request.get("op")
        if op == "fork" and len(fds) >= 3:
            self.fork_worker(request, fds)
            return True
        for fd in fds:
            os.close(fd)
        if op == "kill":
            pid = int(request.get("pid", 0))
            if pid in self.workers:         # unreaped: the pid surely names our worker
                if pid in self.slots:
                    _kill(self.slots[pid][0])   # the slot's init: the kernel does the rest
                else:
                    tree.kill_tree(pid)
            return True
        return op != "exit"

    def fork_worker(self, request: dict, fds: list[int]) -> None:
        """Fork a worker on the grader's pipes; it never returns into this loop."""
        pipes, join = fds[:3], fds[3:]
        try:
            if self.mode == "slots":
                pid, init_pid, hold = slot.fork_slot(
                    self.own_pid_namespace, self.init,
                    lambda workdir: self.become_worker(request, *pipes, workdir=workdir),
                    join, int(request.get("tmpfs_bytes") or 1 << 26), self._close_server_fds)
                self.slots[pid] = (init_pid, hold)
            else:
                pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            self.send({"kind": "fork_failed", "error": str(exc)})
            return
        if pid == 0:
            try:
                self._close_server_fds()
                confine.join_cgroups(join)
                self.become_worker(request, *pipes)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)
        self.workers.add(pid)
        self.send_forked(pid)

    def become_worker(self, request: dict, request_fd: int, response_fd: int,
                      output_fd: int, workdir: str | None = None) -> None:
        """In the forked process: the grader's pipes, its own session, directory and
        environment; then the worker's life (``serve.run_worker``), which ends in ``_exit``."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(output_fd)
        env = {str(k): str(v) for k, v in dict(request.get("env") or {}).items()}
        os.chdir(workdir or str(request["workdir"]))
        os.environ.clear()
        os.environ.update(env)
        run_worker(request_fd, response_fd)

    def _close_server_fds(self) -> None:
        """In a forked process: nothing of the server's stays open."""
        self.sock.close()
        holds = [hold for _, hold in self.slots.values()]
        for fd in (self.wake_r, self.wake_w, self.own_pid_namespace, *holds):
            if fd is not None:
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
                if pid in self.slots:           # the rest of the slot goes with its init
                    slot.end_slot(*self.slots.pop(pid))
                self.send({"kind": "exited", "pid": pid,
                           "status": os.waitstatus_to_exitcode(status)})
            elif pid == self.reaper:
                self.reaper = None
        if ended:
            self.sweep()

    def sweep(self) -> None:
        """Kill the orphans of dead workers: the adopter's children that are not workers."""
        if self.mode == "slots":            # a slot's orphans die with its namespace
            return
        adopter = self.reaper if self.reaper is not None else os.getpid()
        keep = self.workers | {self.reaper}
        tree.kill_trees(pid for pid in tree.children_of(adopter) if pid not in keep)

    def shutdown(self) -> None:
        """Kill every worker and the namespace (with all it holds), then reap."""
        if self.mode == "slots":
            for init_pid, hold in self.slots.values():
                slot.end_slot(init_pid, hold)
        else:
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

    def send_forked(self, pid: int) -> None:
        """Say a worker was forked, with its credentials (the grader gets its own pid for it)
        and a pidfd (readable once it ended, whoever else holds its pipes)."""
        data = json.dumps({"kind": "forked", "pid": pid}).encode("utf-8")
        creds = struct.pack("3i", pid, os.getuid(), os.getgid())
        try:                                # unreaped: the pid surely names our process
            fds = [os.pidfd_open(pid)]
        except (AttributeError, OSError):
            fds = []
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        try:
            self.sock.sendmsg([data], [*rights,
                                       (socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)])
        except PermissionError:             # another's pid needs CAP_SYS_ADMIN
            try:
                self.sock.sendmsg([json.dumps({"kind": "forked", "pid": pid,
                                               "ns_only": True}).encode("utf-8")], rights)
            except OSError:
                pass
        except OSError:
            pass
        finally:
            for fd in fds:
                os.close(fd)


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


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main(args: list[str]) -> None:
    """``SOCKET_FD MODE [NUMPY_DIR]``, as ``start.py forkserver`` passes them."""
    server = Server(socket.socket(fileno=int(args[0])), args[1] if len(args) > 2 else "plain")
    server.start()
    try:
        server.serve()
    finally:
        server.shutdown()
