"""Time: each call has its timeout, the whole submission a deadline, and the CPU-time backstop
is a hard limit the learner cannot lift."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.sandbox import SandboxOptions, Worker
from gradcheck_cli.selection import select_exercises

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="the worker needs a POSIX system"),
              pytest.mark.usefixtures("launch")]

HOSTILE = Path(__file__).resolve().parent.parent / "submissions" / "hostile"
X, DZ = np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0])


def call(worker: Worker, function: str):
    return worker.call(function, [("x", X), ("dz", DZ)])


def test_calls_past_the_deadline_are_not_made_and_say_why(tmp_path):
    learner = tmp_path / "loops.py"
    source = (HOSTILE / "infinite_loop.py").read_text()
    learner.write_text(source + "\n\n" + source[source.index("def grad_attack"):
                                                source.index("def grad_sigmoid")]
                       .replace("grad_attack", "grad_attack_again"))
    options = SandboxOptions(timeout=0.6, import_timeout=5.0, deadline=1.0)
    with Worker(learner, options) as w:
        assert w.import_error is None
        started = time.monotonic()
        first = call(w, "grad_attack")                 # the call's own timeout
        assert first.status == "timeout" and "within 0.6 s" in first.message
        again = call(w, "grad_attack")                 # hung once: not called again
        assert again.status == "timeout" and "not called again" in again.message
        assert again.duration_s == 0
        second = call(w, "grad_attack_again")          # cut short by the deadline
        assert second.status == "timeout" and "deadline of 1 s" in second.message
        third = call(w, "grad_sigmoid")                # nothing left: not even tried
        assert (third.status, third.diagnosis) == ("timeout", "timeout")
        assert "was not called" in third.message
        assert time.monotonic() - started < 2.0
        assert w.describe()["deadline_s"] == 1.0


def test_a_slow_import_counts_against_the_deadline(tmp_path):
    learner = tmp_path / "slow.py"
    learner.write_text("import time\ntime.sleep(30)\n")
    with Worker(learner, SandboxOptions(timeout=1.0, import_timeout=20.0, deadline=0.5)) as w:
        started = time.monotonic()
        failure = w.import_error
        assert failure is not None and failure.kind == "timeout"
        assert "deadline of 0.5 s" in failure.message
        assert time.monotonic() - started < 2.0


def test_a_graded_file_past_its_deadline_is_reported_whole(tmp_path):
    learner = tmp_path / "loops.py"
    source = (HOSTILE / "infinite_loop.py").read_text()
    loop = source[source.index("def grad_attack"):source.index("def grad_sigmoid")]
    learner.write_text(source.replace("def grad_sigmoid", "def grad_honest")
                       .replace("def grad_attack", "def grad_sigmoid")
                       + "\n\n" + loop.replace("grad_attack(x, dz)", "grad_matmul(x, y, dz)"))
    exercises = select_exercises(None, ["sigmoid", "matmul", "softmax"])
    started = time.monotonic()
    report = grade_submission(learner, exercises, RunOptions(seed=2, timeout=0.3, deadline=0.5))
    assert time.monotonic() - started < 5.0
    sigmoid, matmul, softmax = report.exercises
    assert (sigmoid.status, matmul.status, softmax.status) == ("timeout", "timeout", "missing")
    for ex in (sigmoid, matmul):
        assert ex.cases and all(c.status == "timeout" for c in ex.cases)
    # sigmoid hung once and was not called again; matmul's first call met the deadline.
    assert "not called again" in sigmoid.cases[-1].message
    assert "deadline of 0.5 s" in matmul.cases[0].message
    assert "deadline of 0.5 s" in matmul.cases[-1].message
    assert report.to_json()["sandbox"]["deadline_s"] == 0.5


def test_the_cpu_time_backstop_is_a_hard_limit_the_learner_cannot_lift():
    with Worker(HOSTILE / "lift_limits.py", SandboxOptions(timeout=5.0, deadline=40.0)) as w:
        result = call(w, "grad_attack")
        assert result.status == "ok", result.message
        raised, hard = result.values[0]
        assert raised == 0.0 and 0 < hard <= 40 + 5 + 10
        assert "cpu_time" in w.describe()["limits"]
