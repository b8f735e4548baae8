"""The hostile corpus against every confinement path, end to end through the command line.

Each file of tests/submissions/hostile/escapes/ attacks from ``grad_sigmoid`` (every attack is
bounded in count and time and stops on its own). The test writes its targets into the file: a
token its processes are named after, a TCP listener on 127.0.0.1 and a Unix socket anyone may
connect to (in a folder of its own), a world-writable folder, and another learner's file. Then
``gradcheck run`` (a spawned worker) and ``gradcheck grade`` (forked workers, with an honest
learner graded alongside) must leave: no process of the learner's alive, no file outside its
work directory changed, no connection on either listener, a complete report, exit code 0 or 1.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import stat
import tempfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcheck_cli.cli import app

from .conftest import CONFINEMENTS

pytestmark = pytest.mark.parametrize("confinement", CONFINEMENTS, indirect=True)

HOSTILE = Path(__file__).resolve().parent.parent / "submissions" / "hostile" / "escapes"
ATTACKS = sorted(p.stem for p in HOSTILE.glob("*.py"))
STATUSES = {"passed", "failed", "error", "timeout", "missing"}
# Bounded: a process that escaped would stop by itself after this many seconds.
SECONDS = 20
LIMITS = ["--timeout", "3", "--deadline", "4", "--memory", "128", "--seed", "1", "-e", "sigmoid"]
VICTIM = '''"""An honest learner graded in the same batch, named so that a survivor can find it."""
import ctypes
import numpy as np

ctypes.CDLL(None).prctl(15, NAME, 0, 0, 0)


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
'''


class Scene:
    """What the attacks aim at, and how to tell afterwards that none of it was touched."""

    def __init__(self):
        self.token = secrets.token_hex(4)
        self.root = Path(tempfile.mkdtemp(prefix="gradcheck-escapes-"))
        os.chmod(self.root, 0o755)                       # anyone may look in, as in /tmp
        self.outside = self.root / "outside"
        self.outside.mkdir(mode=0o777)
        os.chmod(self.outside, 0o777)
        (self.outside / "grades.csv").write_text("alice,4\n")
        os.chmod(self.outside / "grades.csv", 0o666)
        self.classroom = self.root / "class"
        self.classroom.mkdir()
        os.chmod(self.classroom, 0o755)
        self.victim = self.classroom / "zz_victim.py"
        self.victim.write_text(VICTIM.replace("NAME", repr(f"gcv{self.token}".encode())))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.tcp.setblocking(False)
        sockets = self.root / "sockets"
        sockets.mkdir(mode=0o755)
        self.unix_path = sockets / "listener.sock"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(str(self.unix_path))
        os.chmod(self.unix_path, 0o777)
        self.unix.listen(8)
        self.unix.setblocking(False)
        self.before = self.snapshot()

    def targets(self) -> dict:
        return {"token": self.token, "port": self.tcp.getsockname()[1],
                "unix": str(self.unix_path), "outside": str(self.outside),
                "victim": str(self.victim), "seconds": SECONDS}

    def learner(self, attack: str) -> Path:
        """The attack's file with the targets filled in, in the class folder."""
        source = (HOSTILE / f"{attack}.py").read_text()
        assert "TARGETS = {}" in source, f"{attack}.py has no TARGETS line"
        path = self.classroom / f"{attack}.py"
        path.write_text(source.replace("TARGETS = {}", f"TARGETS = {self.targets()!r}", 1))
        os.chmod(path, 0o644)
        return path

    def snapshot(self) -> dict:
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns, stat.S_IMODE(p.stat().st_mode))
                for p in sorted(self.outside.iterdir())}

    def survivors(self, wait: float = 2.0) -> list[str]:
        """Processes named after the token still running (waiting a little for them)."""
        deadline = time.monotonic() + wait
        while True:
            found = []
            for entry in os.listdir("/proc"):
                try:
                    comm = Path(f"/proc/{entry}/comm").read_text().strip()
                    state = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1][1:2]
                except (OSError, IndexError):
                    continue
                if self.token in comm and state not in (b"Z", b"X"):
                    found.append(f"{entry} {comm}")
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def assert_untouched(self) -> None:
        assert self.survivors() == [], "a process of the learner's outlived its worker"
        assert self.snapshot() == self.before, "a file outside the work directory changed"
        for folder in ("/tmp", "/var/tmp", "/dev/shm"):
            assert not list(Path(folder).glob(f"*{self.token}*")), f"a file was left in {folder}"
        assert not list(Path("/tmp").glob(f"gradcheck-worker-*/*{self.token}*")) and \
            not list(Path("/tmp").glob(f"gradcheck-worker-*/*/*{self.token}*")), \
            "a work directory was kept"
        for listener in (self.tcp, self.unix):
            with pytest.raises(BlockingIOError):
                listener.accept()
            listener.close()

    def remove(self) -> None:
        self.tcp.close()
        self.unix.close()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def scene():
    made = Scene()
    yield made
    made.remove()


def assert_complete(doc: dict) -> None:
    """A report with the exercise and every case judged, in strict JSON."""
    [exercise] = doc["exercises"]
    assert exercise["name"] == "sigmoid" and exercise["status"] in STATUSES
    assert exercise["cases"] and all(c["status"] in STATUSES for c in exercise["cases"])
    assert doc["sandbox"]["confinement"] in CONFINEMENTS
    json.dumps(doc, allow_nan=False)


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_run_contains_the_attack(attack, confinement, scene):
    learner = scene.learner(attack)
    started = time.monotonic()
    done = CliRunner().invoke(app, ["run", str(learner), *LIMITS, "--format", "json"])
    assert done.exit_code in (0, 1), done.output
    doc = json.loads(done.stdout)
    assert_complete(doc)
    assert doc["sandbox"]["confinement"] == confinement
    assert doc["passed"] is False or attack not in ("huge_reply", "complex_reply", "slow_crash")
    assert time.monotonic() - started < 12                   # the deadline holds
    scene.assert_untouched()


def test_a_batch_contains_every_attack_and_grades_the_honest_learner(confinement, scene,
                                                                     tmp_path):
    learners = [scene.learner(attack) for attack in ATTACKS]
    results, book = tmp_path / "json", tmp_path / "gradebook.csv"
    done = CliRunner().invoke(app, ["grade", str(scene.classroom), *LIMITS, "--jobs", "2",
                                    "--json-dir", str(results), "--gradebook", str(book)])
    assert done.exit_code == 1, done.output
    assert "Traceback" not in done.output
    for learner in learners:
        doc = json.loads((results / f"{learner.stem}.json").read_text())
        assert_complete(doc)
        assert doc["sandbox"]["launch"] == "fork"
        assert doc["sandbox"]["confinement"] == confinement
    victim = json.loads((results / "zz_victim.json").read_text())
    assert victim["passed"] is True, victim["exercises"][0]
    assert book.read_text().count("\n") == len(learners) + 2         # header, every learner
    scene.assert_untouched()
