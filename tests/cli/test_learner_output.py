"""What a learner sees of their own debugging: what a call printed under its case, every
failing case with --verbose, hints that are right for the flags given, and a `*` on a
differing element even without colour."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DEBUGGING = Path(__file__).resolve().parents[1] / "fixtures" / "learner" / "printing" / "debugging.py"
GRADCHECK = Path(sys.executable).with_name("gradcheck")     # the installed console script


def gradcheck(*args, cwd: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([str(GRADCHECK), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=180, env={**os.environ, **env})


def flat(text: str) -> str:
    """The words of a report, whatever rich wrapped or framed."""
    return " ".join(text.replace("│", " ").split())


@pytest.mark.parametrize("fmt", ["plain", "rich"])
def test_what_a_failing_call_printed_is_shown_under_its_case(fmt, tmp_path):
    done = gradcheck("run", DEBUGGING, "-e", "softmax", "-e", "sigmoid", "--format", fmt,
                     "--seed", "1", cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "printed by your code:" in line)
    assert "softmax s = [0.09  0.245 0.665]" in lines[at + 1]          # stdout
    assert "about to return the diagonal only" in lines[at + 2]         # and stderr
    assert all("| " in line for line in lines[at + 1:at + 3])           # marked as the learner's
    # The passing sigmoid printed too, but is not shown without --verbose.
    assert "sigmoid sees x" not in done.stdout


def test_long_output_is_capped_and_says_how_to_see_more(tmp_path):
    done = gradcheck("run", DEBUGGING, "-e", "matmul", "--format", "plain", "--seed", "1",
                     cwd=tmp_path)
    printed = [line for line in done.stdout.splitlines() if "| step" in line]
    assert len(printed) == 12
    assert "… 28 more line(s) (--verbose shows more, --format json all that was kept)" \
        in done.stdout
    verbose = gradcheck("run", DEBUGGING, "-e", "matmul", "--format", "plain", "--seed", "1",
                        "--verbose", cwd=tmp_path)
    # Every failing case in full (the worked example and 3 hidden ones), all 40 lines each.
    assert sum("| step" in line for line in verbose.stdout.splitlines()) == 4 * 40
    assert "--verbose shows more" not in verbose.stdout


@pytest.mark.parametrize("fmt", ["plain", "rich"])
def test_verbose_shows_passing_cases_output_too(fmt, tmp_path):
    done = gradcheck("run", DEBUGGING, "-e", "sigmoid", "--format", fmt, "--seed", "1",
                     "--verbose", cwd=tmp_path)
    assert done.returncode == 0
    text = flat(done.stdout)
    assert "case 'worked-example' passed; printed by your code:" in text
    assert "| sigmoid sees x of shape (3,)" in text


@pytest.mark.parametrize("fmt", ["plain", "rich"])
def test_verbose_shows_every_failing_case_and_no_hint_points_back(fmt, tmp_path):
    default = flat(gradcheck("run", DEBUGGING, "-e", "softmax", "--format", fmt, "--seed", "1",
                             cwd=tmp_path).stdout)
    assert "(--show-hidden shows them)" in default            # the hidden cases failed too
    hidden = flat(gradcheck("run", DEBUGGING, "-e", "softmax", "--format", fmt, "--seed", "1",
                            "--show-hidden", cwd=tmp_path).stdout)
    assert "--show-hidden shows" not in hidden                 # they are shown: no such hint
    assert "(--verbose shows every case)" in hidden
    verbose = flat(gradcheck("run", DEBUGGING, "-e", "softmax", "--format", fmt, "--seed", "1",
                             "--verbose", cwd=tmp_path).stdout)
    for name in ("worked-example", "random-1", "random-2", "random-3", "large-scores"):
        assert f"case {name}" in verbose.replace("'", "")       # each one pictured
    assert "--show-hidden" not in verbose and "--verbose shows" not in verbose


def test_a_differing_element_carries_a_star_without_colour(tmp_path):
    done = gradcheck("run", DEBUGGING, "-e", "softmax", "--format", "rich", "--seed", "1",
                     cwd=tmp_path, NO_COLOR="1")
    assert "\x1b[" not in done.stdout                          # no colour at all
    assert "*0.0819251" in done.stdout and "*0.369673" in done.stdout
    assert "*-0.141817" not in done.stdout                     # the expected values unmarked


@pytest.mark.parametrize("fmt", ["plain", "rich"])
def test_what_the_file_printed_at_its_top_level_is_one_line_and_whole_with_verbose(fmt,
                                                                                 tmp_path):
    (tmp_path / "grads.py").write_text(
        "import numpy as np\nprint('hello from the top')\nprint('testing', 1 + 1)\n\n"
        "def grad_tanh(x, dz):\n    return dz * (1 - np.tanh(x) ** 2)\n")
    quiet = gradcheck("run", "grads.py", "-e", "tanh", "--format", fmt, cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stdout
    assert "your file printed 2 lines while being imported (--verbose shows them)" in \
        flat(quiet.stdout)
    assert "hello from the top" not in quiet.stdout
    loud = gradcheck("run", "grads.py", "-e", "tanh", "--format", fmt, "--verbose", cwd=tmp_path)
    assert "printed while importing: | hello from the top | testing 2" in flat(loud.stdout)
