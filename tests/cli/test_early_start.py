"""`gradcheck run` starts the learner's worker before typer parses the command line.

The early start only reads ``sys.argv`` well enough to decide whether to start; typer still
parses it. What a user relies on: a plain run starts one worker (the early one is taken, not
started twice), a run with other limits gets a worker with those limits, a line typer refuses
leaves no worker behind, and the reading agrees with the command's own options.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from gradcheck_cli.cli import app, early
from gradcheck_cli.sandbox import worker as worker_module

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = str(ROOT / "examples" / "solutions.py")


@pytest.fixture
def launches(monkeypatch):
    """The options of every worker process launched, in order."""
    seen = []
    original = worker_module.launch

    def counted(path, options, fork_server):
        seen.append(options)
        return original(path, options, fork_server)
    monkeypatch.setattr(worker_module, "launch", counted)
    return seen


def test_a_run_starts_one_worker_with_the_limits_it_asked_for(gradcheck, launches):
    done = gradcheck("run", SOLUTIONS, "-e", "sigmoid", "--seed", "1", "--timeout", "5",
                     "--memory=512")
    assert done.code == 0, done.text
    assert [(o.timeout, o.memory_mb, o.import_timeout) for o in launches] == [(5.0, 512, 5.0)]


def test_the_defaults_read_early_are_the_commands_own(gradcheck, launches):
    assert gradcheck("run", SOLUTIONS, "-e", "sigmoid", "--seed", "1").code == 0
    assert len(launches) == 1


def test_a_line_typer_refuses_leaves_no_worker(gradcheck, launches):
    done = gradcheck("run", SOLUTIONS, "--seed", "1", "--no-such-flag")
    assert done.code == 2
    assert len(launches) == 1                     # started early, then ended unused
    from gradcheck_cli.grading import run as run_module
    assert run_module._early is None


@pytest.mark.parametrize("argv", [
    ["list"], ["run"], ["run", "--help"], ["run", SOLUTIONS, "--watch"],
    ["run", SOLUTIONS, "-w"], ["run", SOLUTIONS, SOLUTIONS], ["run", "missing.py"],
    ["run", SOLUTIONS, "--timeout", "0"], ["run", SOLUTIONS, "--memory", "lots"],
    ["run", "--seed", SOLUTIONS],        # the file is --seed's value: nothing left to run
    ["run", SOLUTIONS, "-vw"], ["run", "-hv", SOLUTIONS],    # short flags together
    ["run", "-ve", SOLUTIONS],           # the file is -e's value
])
def test_no_early_start_unless_plainly_a_run_of_one_file(argv):
    assert early.read_run(argv) is None


def test_short_flags_together_are_read_as_typer_reads_them():
    assert early.read_run(["run", "-ve", "sigmoid", SOLUTIONS]) == \
        (SOLUTIONS, {"import_timeout": 10.0})
    assert early.read_run(["run", "-vesigmoid", SOLUTIONS])[0] == SOLUTIONS


def test_option_values_are_not_taken_for_the_file():
    assert early.read_run(["run", "-e", "sigmoid", "-o", "out.py", "--seed", "3", SOLUTIONS,
                           "--", ]) == (SOLUTIONS, {"import_timeout": 10.0})
    assert early.read_run(["run", "--import-timeout", "2", "--", SOLUTIONS]) == \
        (SOLUTIONS, {"import_timeout": 2.0})


def test_the_reading_knows_every_option_of_run_that_takes_a_value():
    command = typer.main.get_command(app).commands["run"]
    taking = {name for p in command.params if not getattr(p, "is_flag", True)
              and p.param_type_name == "option" for name in p.opts + p.secondary_opts}
    flags = {name for p in command.params if getattr(p, "is_flag", False)
             for name in p.opts + p.secondary_opts}
    assert taking == set(early.LIMITS) | early.OTHER_VALUES
    assert early.NOT_A_RUN - {"-h", "--help"} <= flags      # help is click's own option
    for limit in early.LIMITS.values():
        (param,) = [p for p in command.params if limit.flag in p.opts]
        assert param.default == limit.default
