"""Resource limits and confinement of a worker process, applied before the learner's code runs.

A fork server sets ``INHERITED_NETWORK``, ``INHERITED_PID_NAMESPACE`` and ``FORKED`` before it
forks: the network it already cut for every worker, and that a worker's parent is that server
(whose death must end the worker).

The init message (``config``) says how the grader confined the worker: ``confinement`` is
``bwrap`` (a private, read-only view of the file system already) or ``process`` (the host's:
Landlock then restricts it), and ``slot`` lists what the learner's cgroups control
(``memory``, ``pids``, ``kill``) and, for a spawned worker, the descriptors to join them by.
"""

import os
import sys

import numpy as np

from . import confine, landlock, seccomp

try:
    import resource
except ImportError:                 # not POSIX: no limits, the timeout still holds
    resource = None

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

INHERITED_NETWORK = None
INHERITED_PID_NAMESPACE = False
FORKED = False
# What a learner's code may still read (besides the interpreter and NumPy) and write.
_SYSTEM_READABLE = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc/ld.so.cache",
                    "/etc/localtime", "/dev/zero", "/dev/urandom", "/dev/random")
_SYSTEM_WRITABLE = ("/dev/null",)


def apply_limits(config: dict) -> tuple[list[str], dict]:
    """Resource limits and confinement for this process and its children.

    Returns the names of the limits applied and the confinement as the report shows it:
    network, user, process limit, file system, /proc, system calls.
    """
    slot = config.get("slot") or {}
    confine.join_cgroups(slot.get("join_fds") or ())
    applied = []
    if sys.platform.startswith("linux") and prctl(PR_SET_CHILD_SUBREAPER, 1):
        # Orphans of the learner's processes re-parent to the worker: the grader finds them.
        applied.append("subreaper")
    if resource is not None:
        if _set_limit(resource.RLIMIT_CORE, 0, 0):
            applied.append("no_core_dumps")
        limit = _vm_bytes() + int(config["memory_mb"]) * 2**20
        if _set_limit(resource.RLIMIT_AS, limit, limit):   # hard too: the learner cannot lift it
            applied.append("address_space")
        # Hard: all the CPU time this process may ever use, a little over the submission's
        # deadline; each call then arms a soft limit (SIGXCPU) below it.
        total = _cpu_seconds() + int(config["deadline"]) + 5
        if _set_limit(resource.RLIMIT_CPU, total, total):
            applied.append("cpu_time")
    network = INHERITED_NETWORK
    if network is None:
        network, _ = confine.enter_namespaces()
    workdir = os.getcwd()
    user = confine.drop_privileges(workdir, _interpreter_paths())
    if FORKED:
        # A forked worker ends with its fork server (set after the user changed: that clears it).
        prctl(PR_SET_PDEATHSIG, 9)
    if "pids" in slot.get("controls", ()):
        processes = int(config.get("process_limit", 64))      # the cgroup counts them
    else:
        processes = confine.limit_processes(int(config.get("process_limit", 64)))
    if config.get("confinement") == "bwrap":
        files = "a read-only view of the interpreter and NumPy, a private /tmp"
        proc = "its own processes only"
    else:
        files = landlock.restrict([*_interpreter_paths(), *_SYSTEM_READABLE],
                                  [workdir, *_SYSTEM_WRITABLE])
        proc = "not readable" if files.startswith("Landlock") else "the host's"
        if files.startswith("Landlock") and "reads any file" in str(user.get("user")):
            user = {**user, "user": f"{confine.UNPRIVILEGED_USER}, with a read capability "
                                    "that Landlock bounds"}
    return applied, {"network": network, "pid_namespace": INHERITED_PID_NAMESPACE or config.get("confinement") == "bwrap",
                     "process_limit": processes, **user, "filesystem": files, "proc": proc,
                     "syscalls": seccomp.install()}


def prctl(option: int, value: int) -> bool:
    """Set one of Linux's per-process flags; False where that is not possible."""
    c = confine.libc()
    if c is None or not sys.platform.startswith("linux"):
        return False
    try:
        return c.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def arm_cpu_limit(seconds: float) -> None:
    """Let the next piece of learner code use ``seconds`` of CPU time, then SIGXCPU.

    A backstop for a worker whose grader is gone; the grader's wall-clock timeout comes first.
    """
    if resource is None:
        return
    _set_limit(resource.RLIMIT_CPU, _cpu_seconds() + int(seconds) + 1, None)


def _cpu_seconds() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int(usage.ru_utime + usage.ru_stime)


def prepare() -> None:
    """What every forked worker would otherwise work out again (a fork server calls this)."""
    confine.prepare(_interpreter_paths())
    seccomp.prepare()


def _interpreter_paths() -> list[str]:
    """What the learner's later imports read: the interpreter's installation (its standard
    library and extension modules) and NumPy (with the libraries a wheel brings)."""
    numpy_dir = os.path.dirname(np.__file__)
    paths = {sys.base_prefix, sys.base_exec_prefix, os.path.dirname(os.__file__), numpy_dir,
             numpy_dir + ".libs"}
    return sorted(p for p in paths if os.path.exists(p))


def _set_limit(which, soft, hard) -> bool:
    try:
        _, current_hard = resource.getrlimit(which)
        if hard is None:
            hard = current_hard
        if current_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        resource.setrlimit(which, (soft, hard))
        return True
    except (ValueError, OSError):
        return False


def _vm_bytes() -> int:
    """This process's address space now (interpreter + NumPy), which the limit comes on top of."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 512 * 2**20
