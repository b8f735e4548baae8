"""Ending a process together with every process below it, and finding a process's children.

Shared by the grader and the fork server, which runs outside the package: it imports nothing
but the standard library.
"""

from __future__ import annotations

import os
import signal

# Rounds of "stop whatever is new below the stopped set": a process that forked between two
# rounds is caught in the next one.
_ROUNDS = 20


def kill_tree(pid: int) -> None:
    """SIGKILL a process and its descendants, even those that left its process group.

    Everything is stopped first so that nothing can fork while the tree is being walked.
    Workers are child subreapers (on Linux), so orphaned grandchildren are still found under
    them. ``pid`` must not have been reaped yet: only then does it surely name our process.
    """
    _signal_group(pid, signal.SIGSTOP)
    _signal(pid, signal.SIGSTOP)
    stopped = {pid}
    for _ in range(_ROUNDS):
        new = descendants(stopped) - stopped
        if not new:
            break
        for child in new:
            _signal(child, signal.SIGSTOP)
        stopped |= new
    for member in stopped:
        _signal(member, signal.SIGKILL)
    _signal_group(pid, signal.SIGKILL)


def kill_trees(pids) -> None:
    """``kill_tree`` for several processes."""
    for pid in pids:
        kill_tree(pid)


def parents() -> dict[int, list[int]]:
    """Every process's children, read from /proc (empty where there is none)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return children
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def children_of(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    return list(parents().get(pid, ()))


def descendants(roots) -> set[int]:
    """Pids below ``roots`` in the process tree."""
    children = parents()
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
