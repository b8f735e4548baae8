"""A control group per learner's worker: one memory budget and one process limit for all of
the learner's processes together, and a kill of them all at once, however they were started.

A process cannot leave its cgroup (its files belong to root, and under bubblewrap they are not
even visible), and every process it starts is born in it: ``clone(CLONE_PARENT)`` children and
daemons re-parented to init included. So ``Slot.kill`` ends everything the learner started
without walking a process tree, and ``memory.max`` counts every process's pages (and the files
it writes to a tmpfs) against one budget.

The groups are made under the grader's own cgroup, in each hierarchy that offers a control:
cgroup v2 (``cgroup.kill``, and ``memory``/``pids`` where they are enabled there) and, on a
v1/v2 hybrid, the v1 ``memory`` and ``pids`` hierarchies. That needs write access to the
grader's cgroup: root, or a delegated subtree (systemd's ``Delegate=yes``). Where there is
none, ``Slot.create`` returns None and the report says the limits are per process.
"""

from __future__ import annotations

import atexit
import itertools
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass, field

# Room for the interpreter, NumPy and the worker's own pages on top of --memory.
HEADROOM_BYTES = 64 * 2**20
_KILL_WAIT_S = 5.0


@dataclass
class _Group:
    """One hierarchy's folder for gradcheck's groups, and what a group there controls."""

    folder: str                      # <mount>/<grader's cgroup>/gradcheck-<pid>
    version: int
    controls: set[str] = field(default_factory=set)


class _Hierarchies:
    """The grader's cgroups, found once per process."""

    def __init__(self):
        self.groups: list[_Group] = []
        self.problem = ""
        self._names = itertools.count(1)
        self._lock = threading.Lock()
        try:
            self._discover()
        except OSError as exc:
            self.groups, self.problem = [], f"cgroups are not writable here ({exc.strerror})"
        if self.groups:
            atexit.register(self._remove_folders)
        elif not self.problem:
            self.problem = "no cgroup hierarchy offers memory, pids or kill here"

    @property
    def controls(self) -> set[str]:
        return set().union(*(g.controls for g in self.groups)) if self.groups else set()

    def next_name(self) -> str:
        with self._lock:
            return f"w{next(self._names)}"

    def _discover(self) -> None:
        mounts = _mounts()
        own = _own_cgroups()
        taken: set[str] = set()
        for version, options, point, root in mounts:
            path = own.get("" if version == 2 else next((c for c in options if c in own), None))
            if path is None or not path.startswith(root):
                continue
            base = os.path.join(point, path[len(root):].lstrip("/"))
            wanted = _controls(version, options, base) - taken
            if not wanted:
                continue
            folder = os.path.join(base, f"gradcheck-{os.getpid()}")
            _remove_stale(base)
            os.makedirs(folder, exist_ok=True)
            if version == 2:
                wanted = _enable_v2(base, folder, wanted)
            self.groups.append(_Group(folder, version, wanted))
            taken |= wanted

    def _remove_folders(self) -> None:
        for group in self.groups:
            _rmdir_tree(group.folder)


_found: _Hierarchies | None = None
_found_lock = threading.Lock()


def hierarchies() -> _Hierarchies:
    """The cgroup hierarchies this grader can use (looked up once)."""
    global _found
    with _found_lock:
        if _found is None:
            _found = _Hierarchies()
        return _found


class Slot:
    """The cgroups of one worker (one per hierarchy used), with its limits set."""

    def __init__(self, folders: list[tuple[str, _Group]]):
        self.folders = folders
        self.controls = set().union(*(g.controls for _, g in folders))

    @classmethod
    def create(cls, memory_mb: int, processes: int) -> "Slot | None":
        """A new slot limited to ``memory_mb`` (+ headroom) and ``processes`` processes (and
        threads) in all, or None where cgroups cannot be used."""
        found = hierarchies()
        if not found.groups:
            return None
        name = found.next_name()
        folders = []
        try:
            for group in found.groups:
                folder = os.path.join(group.folder, name)
                os.mkdir(folder)
                folders.append((folder, group))
                _set_limits(folder, group, memory_mb * 2**20 + HEADROOM_BYTES, processes)
        except OSError:
            Slot(folders).remove()
            return None
        return cls(folders)

    def join_fds(self) -> list[int]:
        """Descriptors of the slot's ``cgroup.procs``: a process writing "0" to each joins."""
        fds = []
        for folder, _ in self.folders:
            fds.append(os.open(os.path.join(folder, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC))
        return fds

    def kill(self) -> None:
        """SIGKILL every process in the slot (``remove`` then waits for them to be gone)."""
        if any("kill" in group.controls for _, group in self.folders):
            for folder, group in self.folders:
                if "kill" in group.controls:  # atomic: no fork escapes it
                    _write(os.path.join(folder, "cgroup.kill"), "1")
            return
        deadline = time.monotonic() + _KILL_WAIT_S
        while time.monotonic() < deadline:    # v1 only: signal each, until none is left
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.001)

    def pids(self) -> set[int]:
        """The processes in the slot now (as the grader's PID namespace numbers them)."""
        found: set[int] = set()
        for folder, _ in self.folders:
            try:
                with open(os.path.join(folder, "cgroup.procs")) as f:
                    found.update(int(line) for line in f if line.strip())
            except (OSError, ValueError):
                pass
        return found

    def oom_kills(self) -> int:
        """How many of the slot's processes the kernel killed for its memory budget."""
        total = 0
        for folder, group in self.folders:
            if "memory" in group.controls:
                name = "memory.events" if group.version == 2 else "memory.oom_control"
                total += _field(os.path.join(folder, name), "oom_kill")
        return total

    def remove_later(self) -> None:
        """``remove``, on a thread of its own: the caller (a job of ``grade``) goes on while
        the kernel tears the killed processes down, which takes milliseconds. Pending
        removals are finished before the grader exits."""
        _removals().put(self)

    def remove(self) -> None:
        """Delete the slot's cgroups once the processes ``kill`` ended are gone (a cgroup
        with a process in it cannot be deleted: success means none is left)."""
        deadline = time.monotonic() + _KILL_WAIT_S
        for folder, _ in self.folders:
            while True:
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError:               # the last processes are still exiting
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.0005)


_removal_queue: "queue.Queue[Slot] | None" = None


def _removals() -> "queue.Queue[Slot]":
    """The queue of slots to remove, and the thread that removes them (started once)."""
    global _removal_queue
    with _found_lock:
        if _removal_queue is None:
            _removal_queue = queue.Queue()
            threading.Thread(target=_remove_forever, args=(_removal_queue,), daemon=True,
                             name="gradcheck-cgroups").start()
            atexit.register(_finish_removals, _removal_queue)
    return _removal_queue


def _remove_forever(pending: "queue.Queue[Slot]") -> None:
    while True:
        slot = pending.get()
        try:
            slot.remove()
        finally:
            pending.task_done()


def _finish_removals(pending: "queue.Queue[Slot]") -> None:
    """At exit, before the grader's own folders go: the removals still pending (each waits
    at most ``_KILL_WAIT_S`` for its processes)."""
    pending.join()


def describe(slot: Slot | None) -> dict:
    """The report's words for what a slot (or its absence) controls."""
    if slot is None:
        reason = hierarchies().problem
        return {"memory_budget": f"per process ({reason})", "cgroup": f"none: {reason}"}
    memory = ("all of the learner's processes together" if "memory" in slot.controls
              else "per process (no memory cgroup)")
    return {"memory_budget": memory, "cgroup": ", ".join(sorted(slot.controls))}


# ---------------------------------------------------------------------------- the system


def _mounts() -> list[tuple[int, set[str], str, str]]:
    """(version, super options, mount point, root) of each cgroup file system mounted."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, options = fields[sep + 1], set(fields[sep + 3].split(","))
            if fstype in ("cgroup", "cgroup2"):
                version = 2 if fstype == "cgroup2" else 1
                found.append((version, options, fields[4], fields[3]))
    return found


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup per controller ("" for cgroup v2)."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
    return own


def _controls(version: int, options: set[str], base: str) -> set[str]:
    if version == 1:
        return {c for c in ("memory", "pids") if c in options}
    offered = set(_read(os.path.join(base, "cgroup.controllers")).split())
    return {"kill"} | ({"memory", "pids"} & offered)


def _enable_v2(base: str, folder: str, wanted: set[str]) -> set[str]:
    """Let the groups in ``folder`` use memory and pids where the hierarchy allows it."""
    for controller in sorted(wanted - {"kill"}):
        for where in (base, folder):
            _write(os.path.join(where, "cgroup.subtree_control"), f"+{controller}")
        if controller not in _read(os.path.join(folder, "cgroup.subtree_control")).split():
            wanted = wanted - {controller}
    if not os.path.exists(os.path.join(folder, "cgroup.kill")):
        wanted = wanted - {"kill"}               # before Linux 5.14
    return wanted


def _set_limits(folder: str, group: _Group, memory_bytes: int, processes: int) -> None:
    if "memory" in group.controls:
        if group.version == 2:
            _write(os.path.join(folder, "memory.max"), str(memory_bytes), strict=True)
            _write(os.path.join(folder, "memory.swap.max"), "0")
        else:
            _write(os.path.join(folder, "memory.limit_in_bytes"), str(memory_bytes), strict=True)
            _write(os.path.join(folder, "memory.memsw.limit_in_bytes"), str(memory_bytes))
    if "pids" in group.controls:
        _write(os.path.join(folder, "pids.max"), str(processes), strict=True)


def _remove_stale(base: str) -> None:
    """Folders left by graders that were killed before they could clean up."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        pid = name[len("gradcheck-"):]
        if name.startswith("gradcheck-") and pid.isdigit() and not _alive(int(pid)):
            _rmdir_tree(os.path.join(base, name))


def _rmdir_tree(folder: str) -> None:
    try:
        for name in os.listdir(folder):
            child = os.path.join(folder, name)
            if os.path.isdir(child):
                _rmdir_tree(child)
        os.rmdir(folder)
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _field(path: str, key: str) -> int:
    for line in _read(path).splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _write(path: str, text: str, strict: bool = False) -> None:
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError:
        if strict:
            raise
