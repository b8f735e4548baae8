"""The learner's worker process, driven through ``Worker`` with real submission files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.errors import UsageError
from gradcheck_cli.sandbox import CallResult, SandboxOptions, Worker

from .conftest import CONFINEMENTS

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="the worker needs a POSIX system"),
              pytest.mark.usefixtures("launch")]      # each test: spawned, then forked

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"
OPTIONS = SandboxOptions(timeout=5.0, import_timeout=5.0)

# CONTRACTS §2, sigmoid worked example.
X = np.array([3.0, 4.0, 5.0])
DZ = np.array([1.0, 2.0, 3.0])
SIGMOID_GRAD = np.array([0.045177, 0.035325, 0.019944])


def submission(name: str) -> str:
    return str(SUBMISSIONS / f"{name}.py")


def line_of(name: str, text: str, exact: bool = False) -> int:
    """The 1-based line of the first line of a submission file holding (or being) ``text``."""
    for number, line in enumerate(Path(submission(name)).read_text().splitlines(), start=1):
        if line == text if exact else text in line:
            return number
    raise AssertionError(f"{text!r} not in {name}.py")


def sigmoid_call(worker: Worker, function: str = "grad_sigmoid") -> CallResult:
    return worker.call(function, [("x", X), ("dz", DZ)])


def assert_sigmoid_ok(result: CallResult) -> None:
    assert result.status == "ok", result.message
    np.testing.assert_allclose(result.values[0], SIGMOID_GRAD, atol=1e-6)


# ---------------------------------------------------------------------------- working code


def test_correct_submission_lists_functions_lines_and_import_output():
    with Worker(submission("correct"), OPTIONS) as w:
        assert w.import_error is None
        assert w.import_stdout == "importing the correct submission\n"
        assert w.functions["grad_sigmoid"] == line_of("correct", "def grad_sigmoid(")
        assert w.functions["grad_matmul_both"] == line_of("correct", "def grad_matmul_both(")
        # a decorated function points at its decorator, where an annotation belongs
        assert w.functions["grad_double"] == line_of("correct", "@logged")
        assert "np" not in w.functions and "functools" not in w.functions
        result = sigmoid_call(w)
        assert_sigmoid_ok(result)
        assert result.diagnosis is None and result.mutated == () and result.stdout == ""
        assert 0.0 <= result.duration_s < 1.0


def test_results_keep_dtype_and_come_one_array_per_gradient():
    x, y = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    dz = np.ones((2, 4))
    with Worker(submission("correct"), OPTIONS) as w:
        as_float32 = sigmoid_call(w, "grad_sigmoid_float32")
        assert as_float32.values[0].dtype == np.float32
        np.testing.assert_allclose(as_float32.values[0], SIGMOID_GRAD, atol=1e-6)
        as_list = sigmoid_call(w, "grad_sigmoid_list")
        assert as_list.values[0].dtype == np.float64
        assert_sigmoid_ok(as_list)
        both = w.call("grad_matmul_both", {"x": x, "y": y, "dz": dz}, n_results=2)
        assert both.status == "ok"
        np.testing.assert_array_equal(both.values[0], dz @ y.T)
        np.testing.assert_array_equal(both.values[1], x.T @ dz)


def test_missing_function_is_reported_without_breaking_the_worker():
    with Worker(submission("correct"), OPTIONS) as w:
        missing = sigmoid_call(w, "grad_softmax")
        assert (missing.status, missing.diagnosis) == ("missing", "missing_function")
        assert "grad_softmax" in missing.message and missing.values == ()
        assert_sigmoid_ok(sigmoid_call(w))


# ---------------------------------------------------------------------------- failing calls


def test_exception_reports_type_text_and_only_the_learners_frames():
    path = submission("raising")
    with Worker(path, OPTIONS) as w:
        result = sigmoid_call(w)
        assert (result.status, result.diagnosis) == ("error", "exception")
        assert result.message.startswith("ValueError: cannot reshape array of size 3")
        assert [(f["file"], f["function"], f["line"]) for f in result.frames] == [
            (path, "grad_sigmoid", line_of("raising", "return _outer(s, dz)")),
            (path, "_outer", line_of("raising", "return np.dot(")),
        ]
        assert result.frames[-1]["source"] == "return np.dot(x, dz.reshape(2, -1))"
        exited = sigmoid_call(w, "grad_exits")
        assert (exited.status, exited.diagnosis) == ("error", "exception")
        assert exited.message == "grad_exits called sys.exit(4)"
        assert w.restarts == 0                  # an exception does not cost the process


@pytest.mark.parametrize("function, n_results, words", [
    ("grad_none", 1, ["returned None", "return"]),
    ("grad_ragged", 1, ["ragged", "[[1.0, 2.0], [3.0]]"]),
    ("grad_string", 1, ["a str", "dz * s * (1 - s)"]),
    ("grad_dict", 1, ["a dict", "not an array of numbers"]),
    ("grad_pair", 2, ["an ndarray", "expected a tuple of 2 arrays"]),
    ("grad_triple", 2, ["returned 3 values", "expected 2"]),
])
def test_unusable_results_are_wrong_type(function, n_results, words):
    x = np.ones((2, 2))
    args = [("x", x), ("y", x), ("dz", x)] if n_results == 2 else [("x", x), ("dz", x)]
    with Worker(submission("wrong_types"), OPTIONS) as w:
        result = w.call(function, args, n_results=n_results)
        assert (result.status, result.diagnosis) == ("error", "wrong_type")
        assert result.message.startswith(function)
        for word in words:
            assert word in result.message
        assert result.values == ()


def test_timeout_kills_the_call_and_the_next_function_is_still_graded():
    with Worker(submission("infinite_loop"), SandboxOptions(timeout=0.5)) as w:
        started = time.monotonic()
        result = sigmoid_call(w, "grad_loop")
        assert (result.status, result.diagnosis) == ("timeout", "timeout")
        assert "0.5 s" in result.message
        assert 0.5 <= result.duration_s < 3.0 and time.monotonic() - started < 3.0
        assert_sigmoid_ok(sigmoid_call(w))
        assert w.restarts == 1


@pytest.mark.parametrize("function, cause, stdout", [
    ("grad_os_exit", "exit status 7", "leaving now\n"),
    ("grad_sigkill", "SIGKILL", ""),
    ("grad_segfault", "SIGSEGV", ""),
])
def test_a_crash_during_a_call_is_reported_and_the_worker_restarts(function, cause, stdout):
    with Worker(submission("crashes"), OPTIONS) as w:
        result = sigmoid_call(w, function)
        assert (result.status, result.diagnosis) == ("crashed", "crashed")
        assert cause in result.message and result.stdout == stdout
        assert_sigmoid_ok(sigmoid_call(w))
        assert w.restarts == 1


def test_memory_bomb_hits_the_limit_and_the_worker_recovers():
    with Worker(submission("memory_bomb"), SandboxOptions(timeout=5.0, memory_mb=256)) as w:
        result = sigmoid_call(w, "grad_bomb")
        assert (result.status, result.diagnosis) == ("memory_limit", "memory_limit")
        assert "256 MB" in result.message
        assert_sigmoid_ok(sigmoid_call(w))


# ---------------------------------------------------------------------------- output, inputs


def test_output_is_captured_per_call_from_both_streams_and_capped():
    limit = 65536
    printed = 4096 * 1024                       # 4096 lines of 1023 x's and a newline
    with Worker(submission("chatty"), SandboxOptions(timeout=5.0, capture_limit=limit)) as w:
        assert w.import_stdout == "import-time line\n"
        loud = sigmoid_call(w, "grad_chatty")
        assert loud.status == "ok"
        kept, _, marker = loud.stdout.rpartition("\n… ")
        assert kept == ("x" * 1023 + "\n") * 64
        assert marker == f"{printed - limit} bytes truncated"
        quiet = sigmoid_call(w, "grad_quiet_stderr")
        assert quiet.stdout == "to stdout\nto stderr\n"


def test_in_place_changes_are_reported_and_never_reach_the_graders_arrays():
    x, dz = X.copy(), DZ.copy()
    with Worker(submission("mutates"), OPTIONS) as w:
        result = w.call("grad_sigmoid", [("x", x), ("dz", dz)])
        assert_sigmoid_ok(result)
        assert result.mutated == ("x", "dz")
        assert w.call("grad_keeps_inputs", [("x", x), ("dz", dz)]).mutated == ()
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(dz, DZ)


def test_monkeypatching_numpy_in_the_worker_does_not_change_what_the_grader_sees():
    with Worker(submission("monkeypatch"), OPTIONS) as w:
        assert w.import_error is None
        wrong = sigmoid_call(w)
        assert wrong.status == "ok"
        np.testing.assert_array_equal(wrong.values[0], [1.0, 2.0, 3.0])
        seen = sigmoid_call(w, "grad_inputs_seen")
        np.testing.assert_array_equal(seen.values[0], X + 10.0 * DZ)


@pytest.mark.parametrize("confinement", CONFINEMENTS, indirect=True)
def test_learner_code_gets_a_scrubbed_environment_and_a_private_working_directory(
        monkeypatch, confinement):
    monkeypatch.setenv("GRADCHECK_TEST_SECRET", "token")
    with Worker(submission("environment"), OPTIONS) as w:
        result = w.call("grad_look_around", [("x", X), ("dz", DZ)])
        assert result.status == "ok", result.message
        # the grader's variable is not there; the working directory is writable
        assert result.values[0].tolist() == [0.0, 1.0]
        workdir = Path(result.stdout.strip())
        if confinement == "bwrap":
            assert str(workdir) == "/tmp"        # the sandbox's own tmpfs, not the host's
        else:
            assert workdir != SUBMISSIONS and (workdir / "scratch.txt").is_file()
    assert confinement == "bwrap" or not workdir.parent.exists()
    assert not (SUBMISSIONS / "scratch.txt").exists()


# ---------------------------------------------------------------------------- imports


def test_syntax_error_names_file_line_and_offending_line():
    path = submission("syntax_error")
    with Worker(path, OPTIONS) as w:
        failure = w.import_error
        assert failure.kind == "syntax_error"
        assert failure.line == line_of("syntax_error", "def grad_sigmoid(x, dz)")
        assert failure.message.startswith(f"{path}:{failure.line}: SyntaxError: ")
        assert "\n    def grad_sigmoid(x, dz)\n" in failure.message
        assert w.functions == {}
        call = sigmoid_call(w)
        assert (call.status, call.diagnosis) == ("error", "import_error")
        assert call.message == failure.message


def test_exception_at_import_has_the_learners_frames():
    path = submission("exception_at_import")
    with Worker(path, OPTIONS) as w:
        failure = w.import_error
        assert failure.kind == "exception"
        assert [(f["function"], f["line"]) for f in failure.frames] == [
            ("<module>", line_of("exception_at_import", "_self_test()", exact=True)),
            ("_self_test", line_of("exception_at_import", "+ undefined_name")),
        ]
        assert failure.message.startswith(
            f"{path}:{failure.line}: NameError: name 'undefined_name' is not defined")


def test_sys_exit_at_import_is_an_import_error_with_a_hint():
    with Worker(submission("exit_at_import"), OPTIONS) as w:
        failure = w.import_error
        assert failure.kind == "exit"
        assert "sys.exit(3)" in failure.message
        assert failure.line == line_of("exit_at_import", "sys.exit(3)")
        assert "__main__" in failure.hint
        assert failure.stdout == "testing my gradient\n"
        assert sigmoid_call(w).diagnosis == "import_error"


@pytest.mark.parametrize("name, cause, stdout", [
    ("os_exit_at_import", "exit status 5", "about to leave\n"),
    ("signal_at_import", "SIGSEGV", ""),
])
def test_process_death_at_import_is_an_import_error(name, cause, stdout):
    with Worker(submission(name), OPTIONS) as w:
        failure = w.import_error
        assert failure.kind == "crashed"
        assert "while importing" in failure.message and cause in failure.message
        assert failure.stdout == stdout
        call = sigmoid_call(w)
        assert (call.status, call.diagnosis) == ("error", "import_error")


def test_an_import_that_never_ends_times_out():
    with Worker(submission("loop_at_import"), SandboxOptions(import_timeout=0.5)) as w:
        failure = w.import_error
        assert failure.kind == "timeout" and "0.5 s" in failure.message


def test_forbidden_module_at_import_is_refused_even_when_installed():
    with Worker(submission("forbidden_import"), SandboxOptions(forbidden_imports=("torch",))) as w:
        failure = w.import_error
        assert failure.kind == "forbidden_import"
        assert failure.line == line_of("forbidden_import", "import torch")
        assert "gradcheck: importing 'torch' is not allowed in this exercise" in failure.message


def test_forbidden_module_imported_inside_a_function_fails_that_call():
    with Worker(submission("lazy_forbidden_import"), SandboxOptions(forbidden_imports=())) as w:
        assert w.import_error is None
        grader = sigmoid_call(w, "grad_uses_grader")
        assert (grader.status, grader.diagnosis) == ("error", "exception")
        assert "importing 'gradcheck_cli' is not allowed" in grader.message
        assert grader.frames[-1]["line"] == line_of("lazy_forbidden_import",
                                                    "import gradcheck_cli")
        assert sigmoid_call(w, "grad_plain").status == "ok"
    with Worker(submission("lazy_forbidden_import"), SandboxOptions()) as w:
        refused = sigmoid_call(w)
        assert (refused.status, refused.diagnosis) == ("error", "exception")
        assert "importing 'torch' is not allowed" in refused.message


# ---------------------------------------------------------------------------- processes


def test_processes_the_learner_starts_die_with_the_worker(watch):
    with Worker(submission("spawns"), OPTIONS) as w:
        result = sigmoid_call(w, "grad_spawn")
        assert result.status == "ok", result.message
        # plain, escaped (own session) and orphaned (its parent exited) sleepers
        assert len(watch(w).look()) >= 3
    # the watch fixture checks that they all died with the worker


def test_processes_the_learner_starts_die_when_the_call_times_out(watch):
    with Worker(submission("spawns"), SandboxOptions(timeout=1.5)) as w:
        assert w.import_error is None
        watcher = watch(w)
        result = sigmoid_call(w, "grad_spawn_then_loop")
        assert result.status == "timeout"
        assert len(result.stdout.split()) == 4          # it printed its pids, then looped
        assert len(watcher.seen) >= 3


# ---------------------------------------------------------------------------- misuse


def test_a_missing_submission_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="submission file not found"):
        Worker(tmp_path / "nope.py")


@pytest.mark.parametrize("options", [dict(timeout=0), dict(timeout=-1.0), dict(memory_mb=1)])
def test_bad_limits_are_usage_errors(options):
    with pytest.raises(UsageError):
        SandboxOptions(**options)
