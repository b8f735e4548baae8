"""Choosing the confinement: bubblewrap where it runs, the fallback (and why) where it does
not, a clear exit 2 when the one asked for cannot run; and what the report says of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcheck_cli.cli import app
from gradcheck_cli.sandbox import confinement
from gradcheck_cli.sandbox.confinement import ConfinementError, choose

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "examples" / "solutions.py"


@pytest.fixture
def no_bwrap(monkeypatch):
    """A system without bubblewrap installed."""
    monkeypatch.setattr(confinement.shutil, "which", lambda name: None)
    monkeypatch.setattr(confinement, "_probed", {})


def test_without_bubblewrap_the_fallback_runs_and_says_why(no_bwrap):
    chosen = choose("auto")
    assert chosen.name == "process"
    assert chosen.describe() == {"confinement": "process",
                                 "confinement_note": "bubblewrap (bwrap) is not installed"}


def test_asking_for_bubblewrap_where_it_is_missing_is_the_graders_error(no_bwrap, monkeypatch,
                                                                      gradcheck):
    with pytest.raises(ConfinementError, match="bwrap[)]? is not installed"):
        choose("bwrap")
    monkeypatch.setenv(confinement.ENVIRONMENT, "bwrap")
    done = gradcheck("run", SOLUTIONS, "-e", "sigmoid")
    assert done.code == 2 and "apt-get install bubblewrap" in done.err
    assert "Traceback" not in done.text


def test_an_unknown_confinement_is_refused(monkeypatch, gradcheck):
    monkeypatch.setenv(confinement.ENVIRONMENT, "chroot")
    done = gradcheck("run", SOLUTIONS, "-e", "sigmoid")
    assert done.code == 2 and "not one of auto, bwrap, process" in done.err


@pytest.mark.parametrize("path", ["bwrap", "process"])
def test_the_report_says_which_confinement_ran_and_what_it_did(path, monkeypatch):
    monkeypatch.setenv(confinement.ENVIRONMENT, path)
    done = CliRunner().invoke(app, ["run", str(SOLUTIONS), "-e", "sigmoid", "--format", "json",
                                    "--seed", "1"])
    assert done.exit_code == 0, done.output
    sandbox = json.loads(done.stdout)["sandbox"]
    assert sandbox["confinement"] == path
    assert sandbox["network"] == "cut"
    assert sandbox["syscalls"].startswith("filtered")
    assert sandbox["memory_budget"] == "all of the learner's processes together"
    if path == "bwrap":
        assert sandbox["proc"] == "its own processes only" and sandbox["kill"].startswith("PID")
        assert "confinement_note" not in sandbox
    else:
        assert sandbox["filesystem"].startswith("Landlock") and sandbox["kill"] == "cgroup"
        assert sandbox["confinement_note"] == "the fallback was requested"
