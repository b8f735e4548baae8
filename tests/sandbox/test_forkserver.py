"""The fork server: the same grades as spawned workers, nothing left running when it stops,
and a batch that goes on (spawning) when it dies."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli import batch
from gradcheck_cli.grading.runner import RunOptions
from gradcheck_cli.report.formats.json import report_json
from gradcheck_cli.sandbox import ForkServer, SandboxOptions, Worker
from gradcheck_cli.selection import select_exercises

pytestmark = pytest.mark.skipif(not ForkServer.supported(), reason="no fork server here")

TESTS = Path(__file__).resolve().parent.parent
SUBMISSIONS = TESTS / "submissions"
EXAMPLES = TESTS.parent / "examples"
# One of each way to fail (with the right ones and the examples: every status).
WRONG = ("crashed", "exception", "hardcoded", "import_error", "memory_limit", "missing_function",
         "timeout", "transposed", "wrong_type")
X, DZ = np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0])


def _without_timings(doc):
    """A report's JSON minus what differs from run to run: durations and the sandbox section."""
    if isinstance(doc, dict):
        return {k: _without_timings(v) for k, v in doc.items()
                if k not in ("duration_s", "sandbox")}
    if isinstance(doc, list):
        return [_without_timings(v) for v in doc]
    return doc


def test_a_batch_grades_the_same_forked_as_spawned(monkeypatch):
    exercises = select_exercises(None, ["sigmoid", "softmax", "matmul", "conv2d"])
    wrong = [SUBMISSIONS / "wrong" / f"{name}.py" for name in WRONG]
    subs = batch.discover([SUBMISSIONS / "right", *wrong, EXAMPLES / "mistakes.py",
                           EXAMPLES / "solutions.py"])
    options = RunOptions(seed=7, timeout=0.3)
    forked = batch.grade_batch(subs, exercises, options, jobs=2)
    monkeypatch.setattr(ForkServer, "supported", staticmethod(lambda: False))
    spawned = batch.grade_batch(subs, exercises, options, jobs=2)
    launches = {g.report.sandbox["launch"] for g in forked if g.report}
    assert launches == {"fork"}
    assert {g.report.sandbox["launch"] for g in spawned if g.report} == {"spawn"}
    statuses = {e.status for g in forked if g.report for e in g.report.exercises}
    assert statuses >= {"passed", "failed", "error", "timeout", "missing"}   # a real mix
    for a, b in zip(forked, spawned):
        assert a.status() == b.status()
        assert (a.report is None) == (b.report is None)
        if a.report is not None:
            assert _without_timings(report_json(a.report, True)) == \
                _without_timings(report_json(b.report, True)), a.submission.label


def test_closing_the_server_kills_every_worker_and_what_they_started(watch):
    server = ForkServer().start()
    worker = Worker(SUBMISSIONS / "spawns.py", SandboxOptions(timeout=5.0), fork_server=server)
    assert worker.call("grad_spawn", [X, DZ]).status == "ok"
    assert len(watch(worker).look()) >= 3
    server.close()
    assert not server.running
    worker.close()


def test_workers_die_with_a_killed_server_and_later_ones_are_spawned(watch):
    server = ForkServer().start()
    with Worker(SUBMISSIONS / "spawns.py", SandboxOptions(timeout=5.0),
                fork_server=server) as worker:
        assert worker.call("grad_spawn", [X, DZ]).status == "ok"
        assert len(watch(worker).look()) >= 3
        os.kill(server.pid, signal.SIGKILL)
        result = worker.call("grad_spawn", [X, DZ])         # its worker died with the server
        assert result.status == "crashed"
        assert worker.call("grad_spawn", [X, DZ]).status == "ok"
        assert worker.describe()["launch"] == "spawn"
    assert not server.running
    server.close()
