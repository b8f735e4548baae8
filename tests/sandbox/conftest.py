"""Every worker test runs twice: with a freshly spawned worker and with one forked from a
fork server, since both must behave the same. Tests that take the ``confinement`` fixture
with ``indirect`` parameters run under each confinement path too: bubblewrap and the
fallback (``GRADCHECK_CONFINEMENT``); the others run under the one this system chooses."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from gradcheck_cli.sandbox import ForkServer, forkserver, worker
from gradcheck_cli.sandbox.confinement import ENVIRONMENT, choose
from gradcheck_cli.sandbox.inside.tree import descendants

LAUNCHES = ["spawn", "fork"]
CONFINEMENTS = ["bwrap", "process"]


@pytest.fixture(scope="session")
def fork_servers():
    """One fork server per confinement for the whole session, as a batch would have."""
    servers: dict[str, ForkServer] = {}
    yield servers
    for server in servers.values():
        server.close()


@pytest.fixture
def confinement(request, monkeypatch) -> str:
    """The confinement path of the test's workers: a parameter, else the system's choice."""
    name = getattr(request, "param", None) or choose("auto").name
    monkeypatch.setenv(ENVIRONMENT, name)
    return name


@pytest.fixture
def fork_server(confinement, fork_servers) -> ForkServer:
    """The session's fork server for the test's confinement."""
    server = fork_servers.get(confinement)
    if server is None or not server.running:
        server = fork_servers[confinement] = ForkServer(confinement=confinement).start()
    return server


@pytest.fixture(params=LAUNCHES)
def launch(request, monkeypatch, confinement) -> str:
    """How the tests' workers start: "spawn" or "fork" (from the session's fork server)."""
    if request.param == "fork":
        server = request.getfixturevalue("fork_server")
        monkeypatch.setattr(worker, "launch", lambda path, options, fork_server=None:
                            forkserver.launch(path, options, server))
    return request.param


# ---------------------------------------------------------------------------- processes


def alive(pid: int) -> bool:
    """True if the process runs (a zombie waiting to be reaped does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X")


def wait_dead(pids, seconds: float = 3.0) -> list[int]:
    """The pids still alive after waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        living = [p for p in pids if alive(p)]
        if not living or time.monotonic() > deadline:
            return living
        time.sleep(0.02)


class Watcher(threading.Thread):
    """Collects the pids below a worker (whichever process it has now) while the test runs:
    what the learner starts dies with the worker, so it must be seen before."""

    def __init__(self, worker):
        super().__init__(daemon=True)
        self.worker = worker
        self.seen: set[int] = set()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.01):
            self.look()

    def look(self) -> set[int]:
        """Record (and return) the pids below the worker now."""
        pid = self.worker.pid
        found = descendants({pid}) if pid is not None else set()
        self.seen |= found
        return found

    def stop(self) -> None:
        self.stopped.set()
        self.join()


@pytest.fixture
def watch():
    """``watch(worker)`` records every process below the worker while the test runs; when
    the test is over (the worker closed), every one of them must be gone."""
    watchers: list[Watcher] = []

    def start(worker) -> Watcher:
        watcher = Watcher(worker)
        watcher.start()
        watchers.append(watcher)
        return watcher

    yield start
    seen: set[int] = set()
    for watcher in watchers:
        watcher.stop()
        seen |= watcher.seen
    assert wait_dead(seen) == [], "processes the learner started outlived its worker"
