"""Which confinement runs the learner's code, and bubblewrap's command line when it is that one.

Two paths, chosen once per grader process:

- ``bwrap`` (preferred): bubblewrap, the tool Flatpak uses, starts every worker (``run``) or the
  fork server (``grade``) in new mount, PID, network, IPC and UTS namespaces, with a fresh
  /proc, a private /tmp, and read-only binds of only what the interpreter and NumPy need: no
  learner's file, no /home, /root, /etc or /run of the host. Under the fork server each learner
  then gets namespaces of its own (``inside/slot.py``).
- ``process`` (the fallback, where bubblewrap is missing or cannot run): the worker confines
  itself (network namespace, another user, Landlock for files).

``GRADCHECK_CONFINEMENT`` (``auto``, ``bwrap`` or ``process``) forces one; the JSON report's
``sandbox`` section says which ran and, for the fallback, why.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import GradcheckError

ENVIRONMENT = "GRADCHECK_CONFINEMENT"
CHOICES = ("auto", "bwrap", "process")
# What the interpreter needs of the system, bound read-only where it exists (a symlink, such
# as /lib -> usr/lib on a merged-/usr system, is recreated as that symlink).
SYSTEM_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc/ld.so.cache",
                "/etc/localtime")
# bwrap's namespaces; as root no user namespace (the worker then drops to nobody itself),
# otherwise one is needed to make the others.
_NAMESPACES = ("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try")
INSIDE = Path(__file__).parent / "inside"


class ConfinementError(GradcheckError):
    """The confinement asked for cannot run here (a grader's problem: exit 2)."""


@dataclass(frozen=True)
class Confinement:
    """The path that runs learner code: ``name`` (bwrap, process) and, for the fallback,
    ``reason`` it was taken."""

    name: str
    reason: str = ""

    def describe(self) -> dict:
        """The report's words for it."""
        out = {"confinement": self.name}
        if self.reason:
            out["confinement_note"] = self.reason
        return out


_lock = threading.Lock()
_probed: dict[str, str] = {}


def requested() -> str:
    """What ``GRADCHECK_CONFINEMENT`` asks for (``auto`` when unset)."""
    value = os.environ.get(ENVIRONMENT, "auto").strip().lower() or "auto"
    if value not in CHOICES:
        raise ConfinementError(f"{ENVIRONMENT}={value!r} is not one of {', '.join(CHOICES)}",
                               hint=f"unset {ENVIRONMENT}, or set it to auto, bwrap or process")
    return value


def choose(wanted: str | None = None) -> Confinement:
    """The confinement to use: bubblewrap where it works, else the process fallback."""
    wanted = wanted or requested()
    if wanted == "process":
        return Confinement("process", "the fallback was requested")
    if not sys.platform.startswith("linux"):
        problem = f"bubblewrap needs Linux, not {sys.platform}"
    else:
        problem = _bwrap_problem()
    if not problem:
        return Confinement("bwrap")
    if wanted == "bwrap":
        raise ConfinementError(f"{ENVIRONMENT}=bwrap, but {problem}",
                               hint="install bubblewrap (Debian/Ubuntu: apt-get install "
                                    "bubblewrap) or let gradcheck fall back (unset the variable)")
    return Confinement("process", problem)


def interpreter() -> str:
    """The interpreter binary itself (a venv's python is a link into its base installation)."""
    return os.path.realpath(sys.executable)


def numpy_dir() -> str:
    """The folder that holds the NumPy the grader imported (site-packages, a user site)."""
    # Found without importing NumPy: a worker can start before the grader has imported it.
    return os.path.dirname(os.path.dirname(importlib.util.find_spec("numpy").origin))


def bwrap_command(tmpfs_bytes: int) -> list[str]:
    """bubblewrap's options up to ``--``: namespaces, the read-only view, a private /tmp of
    ``tmpfs_bytes`` that is the working directory (and vanishes with the sandbox)."""
    command = ["bwrap", *_NAMESPACES, "--die-with-parent", "--new-session"]
    if os.geteuid() != 0:
        command.insert(1, "--unshare-user")
    # The tmpfs first: a bind below /tmp (a package installed there) must land on top of it.
    command += ["--size", str(tmpfs_bytes), "--tmpfs", "/tmp"]
    binds: list[str] = []
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            command += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            binds.append(path)
    numpy_package = os.path.join(numpy_dir(), "numpy")
    binds += [sys.base_prefix, sys.base_exec_prefix, os.path.dirname(interpreter()),
              numpy_package, numpy_package + ".libs", str(INSIDE)]
    binds = _outermost(p for p in binds if os.path.exists(p))
    for path in binds:
        command += ["--ro-bind", path, path]
    # Folders bubblewrap makes on the way to a bind copy the host's modes (/root: 0700);
    # readable ones let the learner's user import without any capability.
    for folder in _made_folders(binds):
        if folder != "/tmp":
            command += ["--chmod", "0755", folder]
    command += ["--proc", "/proc", "--dev", "/dev", "--chdir", "/tmp"]
    return command


def _bwrap_problem() -> str:
    """Why bubblewrap cannot run the worker here ("" when it can); asked once per process."""
    with _lock:
        if "bwrap" not in _probed:
            _probed["bwrap"] = _probe()
        return _probed["bwrap"]


def _probe() -> str:
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    command = [*bwrap_command(1 << 20), "--", interpreter(), "-I", "-S", "-c", ""]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap cannot run here ({exc})"
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap cannot run here ({said[-1] if said else done.returncode})"
    return ""


def _outermost(paths) -> list[str]:
    """The paths, without those inside another one (bound already), in order."""
    chosen: list[str] = []
    for path in sorted({os.path.normpath(p) for p in paths}, key=len):
        if not any(path == c or path.startswith(c.rstrip("/") + "/") for c in chosen):
            chosen.append(path)
    return chosen


def _made_folders(binds: list[str]) -> list[str]:
    """The folders above the binds that are no bind themselves, outermost first."""
    folders = set()
    for path in binds:
        parent = os.path.dirname(path)
        while parent not in ("/", ""):
            folders.add(parent)
            parent = os.path.dirname(parent)
    return sorted(folders, key=lambda p: (p.count("/"), p))
