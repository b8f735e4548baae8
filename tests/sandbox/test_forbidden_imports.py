"""One list of refused imports: `run`, `grade` and `check` refuse a library the same way."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck_cli.sandbox import (ALWAYS_FORBIDDEN_IMPORTS, DEFAULT_FORBIDDEN_IMPORTS,
                                   SandboxOptions)
from gradcheck_cli.spec.schema import schema_document

REFUSED = Path(__file__).parent.parent / "submissions" / "refused"


def gradcheck(*args, cwd: Path) -> tuple[int, str]:
    """The console command, run as a user runs it: exit code and stdout."""
    done = subprocess.run([sys.executable, "-m", "gradcheck_cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)
    return done.returncode, done.stdout


def refusal(report: dict) -> dict:
    """What a report says about a refused import, whichever command wrote it."""
    exercise = report["exercises"][0]
    return {"passed": report["passed"], "import_error": report["import_error"],
            "status": exercise["status"], "error": exercise["error"],
            "diagnoses": exercise["diagnoses"],
            "forbidden_imports": report["sandbox"]["forbidden_imports"]}


@pytest.mark.parametrize("library", ["torch", "keras"])
def test_check_refuses_an_import_exactly_as_run_and_grade_do(library, tmp_path):
    submission = REFUSED / f"uses_{library}.py"
    code, out = gradcheck("run", submission, "-e", "sigmoid", "--format", "json",
                          "--seed", "1", cwd=tmp_path)
    assert code == 1
    run = refusal(json.loads(out))
    assert f"importing '{library}' is not allowed" in run["import_error"]
    assert run["diagnoses"][0]["id"] == "import_error"

    code, out = gradcheck("check", submission, "--forward", "sigmoid_forward",
                          "--backward", "sigmoid_backward", "--input", "x=3",
                          "--format", "json", cwd=tmp_path)
    assert code == 1
    assert refusal(json.loads(out)) == run

    code, _ = gradcheck("grade", submission, "-e", "sigmoid", "--seed", "1",
                        "--json-dir", tmp_path / "results", cwd=tmp_path)
    assert code == 1
    assert refusal(json.loads((tmp_path / "results" / f"uses_{library}.json").read_text())) == run


def test_an_exercise_file_defaults_to_the_sandboxs_one_list():
    default = schema_document()["properties"]["forbidden_imports"]["default"]
    assert default == list(DEFAULT_FORBIDDEN_IMPORTS)
    assert set(SandboxOptions().refused_imports) == \
        set(DEFAULT_FORBIDDEN_IMPORTS) | set(ALWAYS_FORBIDDEN_IMPORTS)
