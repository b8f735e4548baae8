"""A hostile corpus: one submission per attack (tests/submissions/hostile/). Each must get the
right status, leave the rest of its file gradable, and leave no process behind; spawned and
forked workers alike (see conftest.py)."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.sandbox import SandboxOptions, Worker
from gradcheck_cli.selection import select_exercises

from .conftest import CONFINEMENTS

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"),
                                 reason="the containment tested here is Linux's"),
              pytest.mark.parametrize("confinement", CONFINEMENTS, indirect=True),
              pytest.mark.usefixtures("launch")]

HOSTILE = Path(__file__).resolve().parent.parent / "submissions" / "hostile"
OPTIONS = SandboxOptions(timeout=3.0, import_timeout=5.0)

# CONTRACTS §2, sigmoid worked example.
X = np.array([3.0, 4.0, 5.0])
DZ = np.array([1.0, 2.0, 3.0])
SIGMOID_GRAD = np.array([0.045177, 0.035325, 0.019944])


def hostile(name: str) -> str:
    return str(HOSTILE / f"{name}.py")


def attack(worker: Worker, function: str = "grad_attack", x=X):
    return worker.call(function, [("x", np.asarray(x, dtype=float)), ("dz", DZ)])


def assert_still_graded(worker: Worker) -> None:
    """The file's honest function is graded as usual after the attack."""
    result = attack(worker, "grad_sigmoid")
    assert result.status == "ok", result.message
    np.testing.assert_allclose(result.values[0], SIGMOID_GRAD, atol=1e-6)


def test_infinite_loop_times_out(watch):
    with Worker(hostile("infinite_loop"), SandboxOptions(timeout=0.5)) as w:
        watch(w)
        result = attack(w)
        assert (result.status, result.diagnosis) == ("timeout", "timeout")
        assert result.duration_s < 3.0
        assert_still_graded(w)


def test_memory_bomb_hits_the_memory_limit(watch):
    with Worker(hostile("memory_bomb"), SandboxOptions(timeout=5.0, memory_mb=200)) as w:
        watch(w)
        result = attack(w)
        assert (result.status, result.diagnosis) == ("memory_limit", "memory_limit")
        assert "200 MB" in result.message
        assert_still_graded(w)


def test_fork_bomb_is_stopped_by_the_process_limit_and_all_of_it_killed(watch):
    with Worker(hostile("fork_bomb"), OPTIONS) as w:
        watcher = watch(w)
        result = attack(w)
        assert result.status == "ok", result.message
        started, refused = result.values[0]
        limit = w.describe()["process_limit"]
        if isinstance(limit, int):          # enforced: not root, or root's worker dropped it
            # the user's other processes count too, so "at most the limit", not exactly 64
            assert refused == 1 and 0 < started <= limit < 500
        assert len(watcher.look()) >= started   # all of them are still asleep under it
        assert_still_graded(w)


def test_os_exit_in_a_call_is_a_crash(watch):
    with Worker(hostile("os_exit"), OPTIONS) as w:
        watch(w)
        result = attack(w)
        assert (result.status, result.diagnosis) == ("crashed", "crashed")
        assert "exit status 0" in result.message
        assert_still_graded(w)
        assert w.restarts == 1


def test_sys_exit_at_import_is_an_import_error():
    with Worker(hostile("exit_at_import"), OPTIONS) as w:
        failure = w.import_error
        assert failure is not None and failure.kind == "exit"
        assert "sys.exit(0)" in failure.message
        result = attack(w, "grad_sigmoid")
        assert (result.status, result.diagnosis) == ("error", "import_error")


def test_megabytes_of_output_are_capped(watch):
    limit = 4096
    with Worker(hostile("flood_output"), SandboxOptions(timeout=5.0, capture_limit=limit)) as w:
        watch(w)
        flood = attack(w)
        assert flood.status == "ok", flood.message
        kept, _, marker = flood.stdout.rpartition("\n… ")
        assert len(kept) == limit and marker.endswith("bytes truncated")
        assert int(marker.split()[0]) == 16 * 2**20 - limit     # 8 MiB on each stream
        printer = attack(w, "grad_leave_a_printer")             # prints until killed
        assert printer.status == "ok", printer.message
        honest = attack(w, "grad_sigmoid")
        assert honest.status == "ok"
        assert len(honest.stdout.partition("\n… ")[0]) <= limit  # its noise is capped too


def test_monkeypatching_numpy_and_the_grader_changes_no_verdict():
    [sigmoid] = select_exercises(None, ["sigmoid"])
    report = grade_submission(hostile("monkeypatch_grader"), [sigmoid],
                              RunOptions(seed=3, timeout=5.0))
    [exercise] = report.exercises
    assert exercise.status == "failed" and exercise.score == 0.0
    assert all(case.status == "failed" for case in exercise.cases)
    with Worker(hostile("monkeypatch_grader"), OPTIONS) as w:
        assert attack(w, "grad_grader_reached").values[0].tolist() == [0.0]


def test_forbidden_imports_fail_only_the_call_that_makes_them():
    with Worker(hostile("forbidden_import"), SandboxOptions(timeout=5.0)) as w:
        torch = attack(w)
        assert (torch.status, torch.diagnosis) == ("error", "exception")
        assert "importing 'torch' is not allowed" in torch.message
        grader = attack(w, "grad_sneaky")
        assert "importing 'gradcheck_cli' is not allowed" in grader.message
        assert_still_graded(w)


def test_no_connection_leaves_a_worker_whose_network_is_cut():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        with Worker(hostile("network"), OPTIONS) as w:
            result = attack(w, x=[port, 0.0, 0.0])
            assert result.status == "ok", result.message
            network = w.describe()["network"]
            if network != "cut":
                pytest.skip(f"this system does not let the network be cut ({network})")
            assert result.values[0].tolist() == [0.0]
            with pytest.raises(socket.timeout):
                listener.accept()
            assert_still_graded(w)


@pytest.mark.parametrize("launch", ["fork"], indirect=True)   # the target is the fork server
def test_the_fork_server_survives_a_worker_that_tries_to_kill_it(launch, fork_server):
    if not (fork_server.pid_namespace or os.geteuid() == 0):
        pytest.skip("neither a PID namespace nor another user shields the server here")
    with Worker(hostile("kill_grader"), OPTIONS) as w:
        result = attack(w, x=[fork_server.pid, 0.0, 0.0])
        assert result.status == "ok", result.message
        assert result.values[0].tolist() == [0.0]          # neither signal got through
        assert fork_server.running
        assert_still_graded(w)
    with Worker(hostile("infinite_loop"), OPTIONS) as again:
        assert_still_graded(again)
        assert again.describe()["launch"] == "fork"


def test_as_root_the_learner_runs_as_nobody_and_cannot_write_the_graders_files(tmp_path):
    target = tmp_path / "grades.csv"
    spelled = np.frombuffer(str(target).encode(), dtype=np.uint8).astype(float)
    with Worker(hostile("write_outside"), OPTIONS) as w:
        uid = w.describe()["uid"]
        assert attack(w, "grad_identity").values[0].tolist() == [uid, uid]
        if os.geteuid() != 0:
            pytest.skip("the worker changes user only when the grader runs as root")
        assert uid != 0
        assert attack(w, x=spelled).values[0].tolist() == [0.0]
        assert not target.exists()
        assert_still_graded(w)


def test_memory_is_one_budget_for_all_of_a_learners_processes(watch):
    with Worker(hostile("split_memory"), SandboxOptions(timeout=8.0, memory_mb=100)) as w:
        watch(w)
        assert w.describe()["memory_budget"] == "all of the learner's processes together"
        result = attack(w)
        if result.status == "ok":            # the kernel killed children, not the worker
            held = result.values[0][0]
            assert held * 60 <= 100 + 64, f"{held:g} children held 60 MB each"
        else:
            assert (result.status, result.diagnosis) == ("memory_limit", "memory_limit")
        assert_still_graded(w)


def test_the_learner_sees_neither_the_machines_processes_nor_the_graders(confinement):
    with Worker(hostile("look_around"), OPTIONS) as w:
        result = attack(w, x=[os.getpid(), 0.0, 0.0])
        assert result.status == "ok", result.message
        seen, read = result.values[0]
        assert read == 0.0                                  # the grader's command line
        if confinement == "bwrap":
            assert 0 < seen <= 4                            # its slot: itself and its parent
            assert w.describe()["proc"] == "its own processes only"
        else:
            assert seen == -1.0 and w.describe()["proc"] == "not readable"
        assert_still_graded(w)


def test_another_learners_file_and_root_only_files_are_not_readable(tmp_path):
    classroom = Path(tempfile.mkdtemp(prefix="gradcheck-classmate-"))
    try:
        os.chmod(classroom, 0o755)
        classmate = classroom / "classmate.py"
        classmate.write_text("def grad_sigmoid(x, dz):\n    return dz\n")
        os.chmod(classmate, 0o644)                      # readable by anyone on the host
        with Worker(hostile("look_around"), OPTIONS) as w:
            for target in (classmate, Path("/etc/shadow")):
                spelled = np.frombuffer(str(target).encode(), dtype=np.uint8).astype(float)
                result = attack(w, "grad_read", x=spelled)
                assert result.status == "ok", result.message
                assert result.values[0].tolist() == [0.0], f"{target} was read"
    finally:
        shutil.rmtree(classroom, ignore_errors=True)
