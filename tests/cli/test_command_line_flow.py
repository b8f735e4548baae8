"""The command line around the grading, driven through the installed `gradcheck` command: what
-e selects, `show` for a spec of one's own, result paths checked before grading, a function
that hangs, Ctrl-C, progress in a log, result names, a reader leaving early, JUnit counts and
--help."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SIGMOID = FIXTURES / "sigmoid"
SIGMOID_RIGHT = SIGMOID / "right.py"
LOOP_AT_IMPORT = ROOT / "tests" / "submissions" / "loop_at_import.py"
GRADCHECK = shutil.which("gradcheck", path=str(Path(sys.executable).parent)) or "gradcheck"


def gradcheck(*args, cwd=ROOT, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([GRADCHECK, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def no_traceback(done: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


def exercise_names(done: subprocess.CompletedProcess) -> list[str]:
    return [e["name"] for e in json.loads(done.stdout)["exercises"]]


# ---------------------------------------------------------------------------- -e and show


def test_a_bare_name_selects_a_group_never_a_tag():
    done = gradcheck("run", "examples/solutions.py", "-e", "activations", "--seed", "1",
                     "--format", "json")
    assert done.returncode == 0, done.stderr
    # attention and rnn_step (group layers) carry the tag activations: not selected.
    assert exercise_names(done) == ["leaky_relu", "log_softmax", "relu",
                                    "softmax_cross_entropy", "tanh"]


def test_tags_and_groups_have_their_own_prefix():
    tagged = gradcheck("run", "examples/solutions.py", "-e", "tag:activations", "--seed", "1",
                       "--format", "json")
    assert tagged.returncode in (0, 1) and tagged.stdout, tagged.stderr
    assert {"attention", "rnn_step", "sigmoid", "relu"} <= set(exercise_names(tagged))
    group = gradcheck("run", "examples/solutions.py", "-e", "group:seed-000", "--seed", "1",
                      "--format", "json")
    assert exercise_names(group) == ["conv2d", "matmul", "sigmoid", "softmax"]


@pytest.mark.parametrize("args, message, fix", [
    (["-e", "jacobian"], "'jacobian' is a tag", "-e tag:jacobian"),
    (["-e", "tag:activatons"], "no exercise has the tag 'activatons'", "tag:activations"),
    (["-e", "group:layer"], "no exercise has the group 'layer'", "group:layers"),
])
def test_a_wrong_selection_says_what_to_write(args, message, fix):
    done = gradcheck("run", "examples/solutions.py", *args)
    assert done.returncode == 2 and message in done.stderr and fix in done.stderr, done.stderr
    no_traceback(done)


def test_run_help_documents_the_prefixes():
    text = gradcheck("run", "--help", "--", timeout=60).stdout
    assert "group:NAME" in " ".join(text.split()) and "tag:NAME" in " ".join(text.split())


def test_show_of_a_spec_outside_the_catalog_prints_a_command_that_works(tmp_path):
    made = gradcheck("new", "my_layer", "--dir", tmp_path, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    shown = gradcheck("show", "my_layer", "--exercises", "my_layer.yaml", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    command = re.search(r"`(gradcheck run FILE\.py [^`]*)`", shown.stdout).group(1)
    assert "--exercises my_layer.yaml" in command
    (tmp_path / "FILE.py").write_text("def unrelated():\n    return 0\n")
    done = gradcheck(*command.split()[1:], "--format", "json", cwd=tmp_path)
    # It runs the exercise (missing from this file), not "unknown exercise".
    assert done.returncode == 1, done.stderr
    [exercise] = json.loads(done.stdout)["exercises"]
    assert exercise["name"] == "my_layer" and exercise["status"] == "missing"


# ---------------------------------------------------------------------------- result paths


@pytest.mark.parametrize("flag, target, message", [
    ("--output", "nope/report.json", "the folder nope does not exist"),
    ("--output", "examples/solutions.py/report.json", "is a file, not a folder"),
    ("--output", "/proc/report.json", "cannot write in the folder /proc"),
])
def test_run_refuses_an_output_it_could_not_write_before_grading(flag, target, message):
    # The file never finishes importing: only a check made before grading returns at all.
    done = gradcheck("run", LOOP_AT_IMPORT, "-e", "sigmoid", "--import-timeout", "600", flag,
                     target, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"{flag} {target}" in done.stderr and message in done.stderr
    no_traceback(done)


@pytest.mark.parametrize("flag, name, message", [
    ("--gradebook", "missing/book.csv", "does not exist"),
    ("--html", "missing/class.html", "does not exist"),
    ("--json-dir", "a_file.txt", "this is a file, not a folder"),
])
def test_grade_checks_every_result_path_before_grading(tmp_path, flag, name, message):
    (tmp_path / "a_file.txt").write_text("not a folder\n")
    results = tmp_path / "results"
    extra = [] if flag == "--json-dir" else ["--json-dir", results]
    done = gradcheck("grade", LOOP_AT_IMPORT, SIGMOID_RIGHT, "-e", "sigmoid",
                     "--import-timeout", "600", flag, tmp_path / name, *extra, timeout=60)
    assert done.returncode == 2 and flag in done.stderr and message in done.stderr, done.stderr
    assert not results.exists() or not list(results.iterdir())   # nothing graded
    no_traceback(done)


@pytest.mark.parametrize("args", [
    ["report", "results", "--html", "missing/class.html"],
    ["merge", "results-1", "results-2", "--gradebook", "missing/book.csv"],
])
def test_merge_and_report_check_where_they_write_before_reading(tmp_path, args):
    done = gradcheck(*args, cwd=tmp_path)
    assert done.returncode == 2 and f"{args[-2]} {args[-1]}" in done.stderr, done.stderr
    assert "the folder missing does not exist" in done.stderr
    no_traceback(done)


# ---------------------------------------------------------------------------- time limits


def test_a_function_that_timed_out_is_not_called_again():
    done = gradcheck("run", SIGMOID / "never_returns.py", "-e", "sigmoid",
                     "--timeout", "0.5", "--seed", "1", "--format", "json", "--show-hidden")
    assert done.returncode == 1, done.stderr
    [sigmoid] = json.loads(done.stdout)["exercises"]
    cases = sigmoid["cases"]
    assert sigmoid["status"] == "timeout" and len(cases) >= 4
    assert all(c["status"] == "timeout" for c in cases)
    assert "did not return within 0.5 s" in cases[0]["message"]
    for case in cases[1:]:
        assert "was not called again" in case["message"] and case["duration_s"] == 0


def test_the_import_timeout_follows_timeout_or_its_own_flag():
    def import_error(*args):
        done = gradcheck("run", LOOP_AT_IMPORT, "-e", "sigmoid", "--format", "json", *args)
        assert done.returncode == 1, done.stderr
        return json.loads(done.stdout)["exercises"][0]["error"]

    assert "longer than 0.5 s (--import-timeout sets the limit)" in import_error("--timeout",
                                                                                 "0.5")
    assert "longer than 0.7 s" in import_error("--timeout", "5", "--import-timeout", "0.7")


# ---------------------------------------------------------------------------- grade as a batch


def _class_of(folder: Path, source: Path, names) -> Path:
    for name in names:
        (folder / name).mkdir(parents=True)
        shutil.copy(source, folder / name / "grads.py")
    return folder


def test_results_are_named_after_the_learners(tmp_path):
    klass = _class_of(tmp_path / "class", SIGMOID_RIGHT, ["alice", "bob"])
    results = tmp_path / "results"
    done = gradcheck("grade", klass / "alice" / "grads.py", klass / "bob" / "grads.py",
                     "-e", "sigmoid", "--seed", "3", "--json-dir", results)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in results.glob("*.json") if p.name != "manifest.json") \
        == ["alice.json", "bob.json"]


def test_grade_prints_progress_lines_when_not_on_a_terminal(tmp_path):
    klass = _class_of(tmp_path / "class", SIGMOID_RIGHT, ["alice", "bob", "carol"])
    done = gradcheck("grade", klass, "-e", "sigmoid", "--seed", "3", "-j", "2")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("graded ")]
    assert lines and lines[-1].startswith("graded 3/3 (100%)"), done.stderr


def _interrupted(tmp_path, hammer: bool):
    klass = _class_of(tmp_path / "class", SIGMOID / "slow.py",
                      [f"learner{i}" for i in range(6)])
    shutil.copy(SIGMOID_RIGHT, klass / "aaron.py")          # graded first, done quickly
    results = tmp_path / "results"
    book = tmp_path / "book.csv"
    # Its own session, so that the signal reaches the whole group, as a terminal's Ctrl-C.
    proc = subprocess.Popen([GRADCHECK, "grade", klass, "-e", "sigmoid", "--seed", "2", "-j",
                             "2", "--json-dir", results, "--gradebook", book],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not list(results.glob("aaron.json")) and proc.poll() is None:
        assert time.monotonic() < deadline, "no result was written"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    if hammer:
        # Ctrl-C again and again until it is gone: some press lands while it shuts down.
        while proc.poll() is None:
            time.sleep(0.01)
            try:
                os.killpg(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                break
    # The slow learners need 30 s per call: stopping only after them would time out here.
    _, err = proc.communicate(timeout=20)
    return proc.returncode, err, results, book


def test_ctrl_c_stops_grade_at_once_leaving_complete_files_only(tmp_path):
    code, err, results, book = _interrupted(tmp_path, hammer=False)
    assert code == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert not book.exists()
    assert [p.name for p in results.iterdir()] == ["aaron.json"]
    assert json.loads((results / "aaron.json").read_text(encoding="utf-8"))["passed"] is True


def test_more_ctrl_c_exit_quietly(tmp_path):
    code, err, results, _ = _interrupted(tmp_path, hammer=True)
    assert code == 130, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert not [p for p in results.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------- output


def test_a_reader_leaving_early_ends_the_run_quietly_with_its_code():
    # The JSON of every exercise is larger than a pipe's buffer: the writer meets the closed
    # pipe, as with `gradcheck run ... --format json | head -c 100`.
    args = [GRADCHECK, "run", "examples/solutions.py", "--seed", "1", "--format", "json"]
    whole = subprocess.run(args, cwd=ROOT, capture_output=True, timeout=120)
    assert len(whole.stdout) > 2**16 and whole.returncode in (0, 1)
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(100).startswith(b"{")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == whole.returncode, err
    assert err == ""


def test_junit_counts_a_failing_exercise_once():
    done = gradcheck("run", "examples/mistakes.py", "-e", "softmax", "-e", "sigmoid",
                     "--seed", "7", "--format", "junit")
    assert done.returncode == 1, done.stderr
    suite = ET.fromstring(done.stdout).find("testsuite")
    statuses = {e["name"]: e["status"] for e in json.loads(gradcheck(
        "run", "examples/mistakes.py", "-e", "softmax", "-e", "sigmoid", "--seed", "7",
        "--format", "json").stdout)["exercises"]}
    failing = sum(s == "failed" for s in statuses.values())
    assert failing >= 1
    # softmax fails on 4 or more cases: still one testcase, one failure.
    assert [tc.get("name") for tc in suite.findall("testcase")] == ["softmax", "sigmoid"]
    assert int(suite.get("tests")) == 2 and int(suite.get("failures")) == failing


COMMANDS = ["run", "grade", "check", "merge", "report", "list", "show", "new", "validate",
            "schema"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_metavars_not_types(command):
    done = subprocess.run([GRADCHECK, command, "--help"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert not re.search(r"<(bool|int|float|path|str|text|list|function)\b", done.stdout), \
        done.stdout
    usage = next(line for line in done.stdout.splitlines() if "Usage:" in line)
    assert not re.search(r"[{}]", usage), usage         # typer's {ARG}: not a shell's usage


@pytest.mark.parametrize("command", ["run", "grade", "check"])
def test_help_lists_the_exit_codes(command):
    text = " ".join(gradcheck(command, "--help", timeout=60).stdout.split())
    assert "Exit code: 0" in text
    assert re.search(r"\b1 [a-z]", text) and re.search(r"\b2 (gradcheck|the check) could not",
                                                        text), text
