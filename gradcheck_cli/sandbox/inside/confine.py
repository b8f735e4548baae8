"""What the operating system can take away from the learner's process, where it lets us.

- ``enter_namespaces``: a new network namespace (no interface but a loopback that is down, so
  no connection leaves it) and, for a fork server, a new PID namespace; as root directly, as
  another user inside a new user namespace where the kernel allows one.
- ``drop_privileges``: a worker started by root becomes ``nobody``.
- ``limit_processes``: RLIMIT_NPROC, which the kernel counts per real user and never applies to
  root: hence the drop.

Runs in the worker and the fork server (see ``__init__.py``): the standard library only.
Every step reports what it did as plain data for the report's ``sandbox`` section; none of them
fails the worker.
"""

from __future__ import annotations

import os
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
CAP_DAC_READ_SEARCH = 2
_CAPABILITY_VERSION_3 = 0x20080522

UNPRIVILEGED_USER = "nobody"
_FALLBACK_UID = 65534

_libc = None


def libc():
    """The C library through ctypes, or None where there is none."""
    global _libc
    if _libc is None:
        try:
            import ctypes
            _libc = ctypes.CDLL(None, use_errno=True)
        except (OSError, ImportError):
            _libc = False
    return _libc or None


def _os_error(what: str) -> OSError:
    import ctypes
    errno = ctypes.get_errno()
    return OSError(errno, f"{what}: {os.strerror(errno)}")


# ---------------------------------------------------------------------------- namespaces


def enter_namespaces(pid_namespace: bool = False) -> tuple[str, bool]:
    """Cut the network (and, if asked, start a PID namespace for the next children).

    Returns the network's state for the report, ``"cut"`` or ``"not cut: <reason>"``, and
    whether the PID namespace was entered.
    """
    if not sys.platform.startswith("linux"):
        return f"not cut: network namespaces need Linux, not {sys.platform}", False
    flags = [CLONE_NEWNET | CLONE_NEWPID, CLONE_NEWNET] if pid_namespace else [CLONE_NEWNET]
    reason = ""
    for wanted in flags:
        try:
            _unshare_as_anyone(wanted)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            continue
        return "cut", bool(wanted & CLONE_NEWPID)
    return f"not cut: {reason}", False


def _unshare_as_anyone(flags: int) -> None:
    """unshare(flags); a user who is not root needs a user namespace of its own for it."""
    if os.geteuid() == 0:
        unshare(flags)
        return
    uid, gid = os.geteuid(), os.getegid()
    try:
        _prctl(PR_SET_DUMPABLE, 1)      # else /proc/self/uid_map belongs to root
    except OSError:
        pass
    unshare(flags | CLONE_NEWUSER)
    # The same ids inside as outside: files keep their owners, signals their permissions. If
    # this fails, the namespaces are entered all the same; the ids just look unmapped inside.
    for path, text in (("/proc/self/setgroups", "deny"), ("/proc/self/uid_map", f"{uid} {uid} 1"),
                       ("/proc/self/gid_map", f"{gid} {gid} 1")):
        try:
            _write(path, text)
        except OSError:
            pass


def unshare(flags: int) -> None:
    """unshare(2): the calling process leaves the namespaces named by ``flags``."""
    if hasattr(os, "unshare"):                  # Python 3.12+
        os.unshare(flags)
        return
    c = libc()
    if c is None or not hasattr(c, "unshare"):
        raise OSError(0, "unshare is not available")
    if c.unshare(flags) != 0:
        raise _os_error("unshare")


def setns(fd: int, flags: int) -> None:
    """setns(2): join the namespace open as ``fd``."""
    if hasattr(os, "setns"):                    # Python 3.12+
        os.setns(fd, flags)
        return
    c = libc()
    if c is None or c.setns(fd, flags) != 0:
        raise _os_error("setns")


def last_error() -> str:
    """The C library's last error, in words."""
    import ctypes
    return os.strerror(ctypes.get_errno())


def join_cgroups(fds) -> None:
    """Move this process into the cgroups whose ``cgroup.procs`` the grader opened for it
    (its children follow); the descriptors are closed."""
    for fd in fds:
        try:
            os.write(fd, b"0")                  # 0: the writing process
        finally:
            os.close(fd)


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


# ---------------------------------------------------------------------------- the user


def drop_privileges(workdir: str, needed_paths) -> dict:
    """As root, become ``nobody`` (owner of ``workdir``); elsewhere, stay who we are.

    The interpreter and NumPy must stay readable for imports the learner makes later. If
    ``nobody`` cannot read ``needed_paths`` (Python installed under /root, say), the process
    keeps one capability, CAP_DAC_READ_SEARCH, that lets it (and what it starts) read and
    list any file; it still cannot write where ``nobody`` cannot, nor signal the grader.
    """
    no_new_privileges()
    uid = os.geteuid()
    if uid != 0:
        return {"uid": uid, "user": "unchanged (not root)"}
    target_uid, target_gid = _unprivileged_ids()
    readable = _readable_as(target_uid, target_gid, needed_paths)
    try:
        os.chown(workdir, target_uid, target_gid)
        if not readable:
            _prctl(PR_SET_KEEPCAPS, 1)
        os.setgroups([])
        os.setresgid(target_gid, target_gid, target_gid)
        os.setresuid(target_uid, target_uid, target_uid)
        if not readable:
            _keep_only_read_capability()
    except OSError as exc:
        return {"uid": os.geteuid(), "user": f"not dropped: {exc}"}
    if readable:
        return {"uid": target_uid, "user": UNPRIVILEGED_USER}
    return {"uid": target_uid, "user": f"{UNPRIVILEGED_USER}, reads any file "
                                       "(the interpreter is not readable by it)"}


_known: dict = {}


def prepare(needed_paths) -> None:
    """Look up, once, what every worker's ``drop_privileges`` needs (a fork server calls this
    before it forks, so no worker reads /etc/passwd or probes the paths again)."""
    if os.geteuid() == 0:
        uid, gid = _unprivileged_ids()
        _readable_as(uid, gid, needed_paths)


def _unprivileged_ids() -> tuple[int, int]:
    if "ids" not in _known:
        _known["ids"] = _look_up_ids()
    return _known["ids"]


def _look_up_ids() -> tuple[int, int]:
    try:
        import pwd
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
        return entry.pw_uid, entry.pw_gid
    except (ImportError, KeyError):
        return _FALLBACK_UID, _FALLBACK_UID


def _readable_as(uid: int, gid: int, paths) -> bool:
    """Whether ``uid`` may read and list every path (asked once with only the effective ids
    changed)."""
    key = (uid, gid, tuple(paths))
    if key not in _known:
        _known[key] = _probe_readable(uid, gid, paths)
    return _known[key]


def _probe_readable(uid: int, gid: int, paths) -> bool:
    try:
        os.setegid(gid)
        os.seteuid(uid)
    except OSError:
        return False
    try:
        return all(os.access(p, os.R_OK | os.X_OK, effective_ids=True) for p in paths)
    finally:
        os.seteuid(0)
        os.setegid(0)


def _keep_only_read_capability() -> None:
    """Effective, permitted, inheritable and ambient: CAP_DAC_READ_SEARCH and nothing else."""
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(_CAPABILITY_VERSION_3, 0)
    data = (Data * 2)()
    bit = 1 << CAP_DAC_READ_SEARCH
    data[0].effective = data[0].permitted = data[0].inheritable = bit
    c = libc()
    if c is None or c.capset(ctypes.byref(header), data) != 0:
        raise _os_error("capset")
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_DAC_READ_SEARCH)


def no_new_privileges() -> bool:
    """No exec can raise privileges again (set-uid programs run as the caller)."""
    try:
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        return True
    except OSError:
        return False


def _prctl(option: int, arg2: int, arg3: int = 0) -> None:
    c = libc()
    if c is None or not sys.platform.startswith("linux"):
        raise OSError(0, "prctl is not available")
    if c.prctl(option, arg2, arg3, 0, 0) != 0:
        raise _os_error("prctl")


# ---------------------------------------------------------------------------- processes


def limit_processes(extra: int):
    """Let this process's user have at most ``extra`` more processes (threads count too).

    RLIMIT_NPROC counts every process of the real user, so the limit is what that user runs
    now plus ``extra``. Returns the limit set, or why there is none.
    """
    try:
        import resource
    except ImportError:
        return "not enforced: no resource limits on this system"
    if not sys.platform.startswith("linux"):
        return "not enforced: counting the user's processes needs Linux's /proc"
    uid = os.getuid()
    if uid == 0:
        return "not enforced: the kernel does not apply it to root"
    limit = _tasks_of(uid) + int(extra)
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
    except (ValueError, OSError) as exc:
        return f"not enforced: {exc}"
    return limit


def _tasks_of(uid: int) -> int:
    """Processes and threads whose real user is ``uid``, from /proc (1 where there is none)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 1
    count = 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                status = f.read()
            real = int(status[status.index(b"\nUid:") + 5:].split()[0])
            if real == uid:
                count += int(status[status.index(b"\nThreads:") + 9:].split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return max(count, 1)
