"""`gradcheck run --watch`: grade the submission again each time it, or a file beside it, is saved.

What does not change between saves is done once: the exercises are loaded and their cases and
references computed before the first run, and a fork server (where the system has one) keeps an
interpreter with NumPy imported, so a save costs a fork, the learner's import and the calls.
Every run still gets a fresh worker: the learner's code never outlives the report it made.

Changes are found by polling: the modification times and sizes of the ``.py`` and ``.ipynb``
files in the submission's folder and its subfolders (a helper module, a package beside it),
every ``interval`` seconds. Polling needs no dependency and works on every file system, network
mounts and containers' bind mounts included.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..errors import GradcheckError
from ..notebook import is_notebook, read_notebook
from .options import RunOptions

INTERVAL = 0.1                  # seconds between two looks at the files
SETTLE = 0.03                   # a save in several writes: wait until the files stand still
WATCHED_SUFFIXES = (".py", ".ipynb")
# A folder bigger than these is not one learner's (a home folder, say): watch its first part.
_MAX_FILES = 2000
_MAX_FOLDERS = 200
_MAX_DEPTH = 3


Snapshot = dict[str, tuple[int, int]]


def snapshot(folder: Path) -> Snapshot:
    """(modification time, size) of each watched file under ``folder``."""
    found: Snapshot = {}
    base = len(folder.parts)
    for visited, (root, dirs, files) in enumerate(os.walk(folder)):
        depth = len(Path(root).parts) - base
        dirs[:] = [] if depth >= _MAX_DEPTH or visited >= _MAX_FOLDERS else sorted(
            d for d in dirs if not d.startswith((".", "__")))
        for name in sorted(files):
            if name.endswith(WATCHED_SUFFIXES) and not name.startswith("."):
                path = os.path.join(root, name)
                try:
                    info = os.stat(path)
                except OSError:          # removed between listing and looking
                    continue
                found[path] = (info.st_mtime_ns, info.st_size)
                if len(found) >= _MAX_FILES:
                    return found
    return found


def wait_for_change(folder: Path, before: Snapshot, interval: float = INTERVAL,
                    sleep: Callable[[float], None] = time.sleep) -> Snapshot:
    """Block until a watched file under ``folder`` is saved, added or removed; the new state."""
    while True:
        sleep(interval)
        now = snapshot(folder)
        if now != before:
            while True:              # until the editor has finished writing
                sleep(SETTLE)
                settled = snapshot(folder)
                if settled == now:
                    return now
                now = settled


def watch_submission(path: str | Path, selection, options: RunOptions, *,
                     show: Callable, problem: Callable[[GradcheckError], None],
                     interval: float = INTERVAL, runs: int | None = None) -> None:
    """Grade ``path`` now and after every save until Ctrl-C (or ``runs`` gradings), handing
    each report to ``show(report, seconds)``, where ``seconds`` is the time from noticing the
    save to the report (None for the first). A mistake that stops a run (the file gone mid-save, a notebook saved
    half-way) goes to ``problem`` and the watch goes on. Ctrl-C ends it quietly."""
    from .runner import grade_prepared, prepare

    path = Path(path)
    folder = path.resolve().parent
    try:
        with ExitStack() as stack:
            exercises = selection.load()
            server = _fork_server(stack)
            options = replace(options, fork_server=server)
            prepared = prepare(exercises, options.seed)     # once: the same cases every run
            state = snapshot(folder)
            done = 0
            noticed = time.perf_counter()
            while runs is None or done < runs:
                try:
                    if is_notebook(path):
                        read_notebook(path)     # one saved half-way: say so, wait for more
                    report = grade_prepared(path, prepared, options)
                    show(report, time.perf_counter() - noticed if done else None)
                except GradcheckError as exc:
                    if done == 0:
                        raise                   # nothing to watch: a wrong path, say
                    problem(exc)
                done += 1
                if runs is not None and done >= runs:
                    break
                state = wait_for_change(folder, state, interval)
                noticed = time.perf_counter()
    except KeyboardInterrupt:
        return


def _fork_server(stack: ExitStack):
    """A fork server for the runs to come, or None where there is none (spawn each worker)."""
    from ..sandbox import ForkServer, SandboxError

    if not ForkServer.supported():
        return None
    try:
        return stack.enter_context(ForkServer().start())
    except (SandboxError, OSError):
        return None
