"""The learner's own modules beside the submission, read by the grader and sent to the worker.

``python grads.py`` puts the script's folder first on ``sys.path``, so a learner's
``import helper`` (a ``helper.py`` beside it) or ``from mypkg.layers import ...`` works. The
worker cannot read the learner's folder (bubblewrap binds none of it, Landlock allows none of
it), so the grader reads the Python sources of that folder and sends them with the submission;
the worker imports them from memory (``inside/modules.py``). Only ``.py`` files travel, never
another learner's: in a batch, every other submission's file and folder is left out; and
never what a symbolic link names (a link is not followed). A submission inside a package
(``cs231n/layer_utils.py``) gets that package's folder, not what lies beside the package.

Bounded, so that a submission saved in a home folder does not send a virtual environment: at
most ``MAX_DEPTH`` folders deep, ``MAX_FILES`` files and ``MAX_BYTES`` bytes, skipping hidden
folders, ``__pycache__`` and installed environments.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import lru_cache

from ..errors import UsageError
from ..pysource import read_learner_file

MAX_DEPTH = 4
MAX_FILES = 256
MAX_BYTES = 8 << 20
MAX_ENTRIES = 4096                      # directory entries looked at in all
_SKIPPED_FOLDERS = frozenset({"__pycache__", "site-packages", "dist-packages", "node_modules",
                              "venv", "env"})


@dataclass
class LearnerFiles:
    """The folder the modules come from, and each module's path in it ('/'-separated)."""

    folder: str
    names: list[str] = field(default_factory=list)
    sources: list[bytes] = field(default_factory=list)
    package: str = ""           # the submission's package (cs231n.classifiers), if in one


def collect(submission: str, hidden=frozenset(), shared=()) -> LearnerFiles:
    """The ``.py`` files of the folder of ``submission`` (absolute), none of ``hidden``'s,
    then the course's ``shared`` modules (absolute paths of ``.py`` files or package folders)
    that the folder does not hold a module of the same name of.

    ``hidden`` holds absolute paths (files or folders) of other learners' work; the
    submission itself is never sent twice (the worker has it already).
    """
    folder, package = package_of(submission)
    found = LearnerFiles(folder, package=package)
    budget = {"entries": MAX_ENTRIES, "bytes": MAX_BYTES}
    hidden = _normalized(tuple(hidden))
    own = os.path.normpath(submission)
    if package:
        # The package's own folder only: what is beside it (other learners' folders, if
        # its __init__.py was a learner's own, an answer key) is not the package's.
        top = package.split(".")[0]
        _walk(os.path.normpath(os.path.join(folder, top)), top + "/", 1, hidden, own, found,
              budget)
    else:
        _walk(os.path.normpath(folder), "", 0, hidden, own, found, budget)
    for path in shared:
        path = os.path.normpath(path)
        name = os.path.basename(path)
        if any(n == name or n.startswith(name + "/") for n in found.names):
            continue                    # the learner's own module of that name comes first
        if os.path.isdir(path):
            _walk(path, name + "/", 1, hidden, own, found, budget)
        elif name.endswith(".py") and os.path.isfile(path) and len(found.names) < MAX_FILES:
            _add(path, name, found, budget)
    return found


def package_of(submission: str) -> tuple[str, str]:
    """The folder the learner's modules come from, and the submission's package: its own
    folder and "", or, for a file inside a package (``cs231n/layer_utils.py``, whose
    ``from .layers import *`` needs it), the folder above the outermost package and its
    dotted name, as a course's ``from cs231n.layer_utils import *`` imports it."""
    folder, parts = os.path.dirname(submission), []
    while len(parts) < MAX_DEPTH and os.path.basename(folder).isidentifier() \
            and os.path.isfile(os.path.join(folder, "__init__.py")):
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    return folder, ".".join(parts)


def check_submission(submission) -> None:
    """UsageError if the submission (a ``Path``) is not there, or is a symbolic link: graded,
    a link would be the file it names, another learner's work or any file the grader reads."""
    if submission.is_symlink():
        raise UsageError(f"{submission} is a symbolic link; gradcheck grades only regular files "
                         "(a link could name another learner's work or the grader's files)",
                         hint=f"pass the file itself: {submission.resolve()}")
    if not submission.is_file():
        raise UsageError(f"submission file not found: {submission}",
                         hint="pass the path of a Python file that defines the functions")


@lru_cache(maxsize=4)
def _normalized(paths: tuple[str, ...]) -> frozenset[str]:
    # A batch passes every learner's paths for each of its submissions: normalised once.
    return frozenset(os.path.normpath(p) for p in paths)


# A folder modified less than this long ago is listed afresh: its modification time may be
# too coarse (a second, two on FAT) to tell this change from the next one.
SETTLED_NS = 3 * 10**9


def _listing(folder: str, hidden: frozenset[str]) -> tuple[int, tuple]:
    """How many entries ``folder`` has, and those that may be sent, sorted by name:
    ``(index, name, path, is_folder)``. Without hidden names, ``hidden`` paths, or what is
    neither a folder nor a ``.py`` file.

    In a batch every learner of a folder of 300 submissions would otherwise scan the other
    299 again, so a listing is kept for the folder's modification time, which changes when
    an entry is added, removed or renamed; a folder changed in the last few seconds is
    listed again every time (as git treats a "racily clean" file). A file's contents are
    read afresh every time.
    """
    try:
        stamp = os.stat(folder).st_mtime_ns
    except OSError:
        return 0, ()
    if time.time_ns() - stamp < SETTLED_NS:
        return _scan(folder, hidden)
    return _kept_scan(folder, stamp, hidden)


@lru_cache(maxsize=64)
def _kept_scan(folder: str, stamp: int, hidden: frozenset[str]) -> tuple[int, tuple]:
    return _scan(folder, hidden)


def _scan(folder: str, hidden: frozenset[str]) -> tuple[int, tuple]:
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError:
        return 0, ()
    kept = []
    for index, entry in enumerate(entries):
        # ``folder`` is normalised, so ``entry.path`` (folder/name) is.
        if entry.name.startswith(".") or entry.path in hidden:
            continue
        try:
            # A link is never followed: it could name another learner's folder or any file
            # the grader can read (/etc/shadow, /proc/self/environ), sent on to the learner.
            if entry.is_dir(follow_symlinks=False):
                kept.append((index, entry.name, entry.path, True))
            elif entry.name.endswith(".py") and entry.is_file(follow_symlinks=False):
                kept.append((index, entry.name, entry.path, False))
        except OSError:
            continue
    return len(entries), tuple(kept)


def _walk(folder: str, prefix: str, depth: int, hidden: frozenset[str], own: str,
          found: LearnerFiles, budget: dict) -> None:
    count, entries = _listing(folder, hidden)
    start = budget["entries"]
    folders = []
    for index, name, path, is_folder in entries:
        # Every entry looked at counts, sent or not: stop where the scan would have stopped.
        if start - (index + 1) < 0 or len(found.names) >= MAX_FILES:
            budget["entries"] = start - (index + 1)
            return
        if path == own:
            continue
        if is_folder:
            if depth < MAX_DEPTH and name not in _SKIPPED_FOLDERS and name.isidentifier():
                folders.append((name, path))
        else:
            _add(path, prefix + name, found, budget)
    budget["entries"] = start - count
    if budget["entries"] < 0 or len(found.names) >= MAX_FILES:
        return                          # nothing more could be sent from below
    for name, path in folders:
        if not os.path.exists(os.path.join(path, "pyvenv.cfg")):
            _walk(path, f"{prefix}{name}/", depth + 1, hidden, own, found, budget)


def _add(path: str, name: str, found: LearnerFiles, budget: dict) -> None:
    try:
        data = read_learner_file(path, budget["bytes"])   # a link swapped in is not followed
    except OSError:
        return
    budget["bytes"] -= len(data)
    found.names.append(name)
    found.sources.append(data)
