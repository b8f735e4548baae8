"""The README's examples run and print what it shows."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_python_api_example_runs_as_written():
    text = README.read_text()
    section = text[text.index("## Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own documentation, not a spec
    result = namespace["result"]
    assert result.passed is False
    assert [d.id for d in result.diagnoses] == ["sign_flipped"]
    grad = namespace["vjp"](namespace["ops"].softmax, (namespace["x"],), namespace["dz"])
    np.testing.assert_allclose(grad, [-0.141817, -0.140770, 0.282587], atol=5e-7)


def test_quickstart_is_exactly_two_commands():
    text = README.read_text()
    block = re.search(r"## Quickstart\n\n```bash\n(.*?)```", text, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip()]
    assert commands == ["pip install . && gradcheck run examples/solutions.py",
                        "pip install -e '.[test]' && pytest"]


def grad_softmax(x, dz):
    """The README's grad_softmax: the diagonal of the Jacobian only."""
    e = np.exp(x - np.max(x))
    s = e / e.sum()
    return dz * s * (1 - s)


def test_the_learners_check_example_runs_and_shows_the_report_it_prints():
    text = README.read_text()
    section = text[text.index("### Checking one function from a notebook or a REPL"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```text\n>>> (.*?)\n(.*?)```", section, re.S)
    namespace: dict = {"grad_softmax": grad_softmax}
    exec(compile(code, "README.md", "exec"), namespace)  # our own documentation, not a spec
    assert (namespace["result"].passed, namespace["result"].score) == (False, 0.0)

    displayed = eval(shown.group(1), namespace)  # noqa: S307 - the README's own example
    assert str(displayed) == shown.group(2)


@pytest.mark.parametrize("example", ["examples/first_hour.py", "examples/mistakes.py"])
def test_the_run_examples_are_what_gradcheck_run_prints(example):
    import subprocess
    import sys

    text = README.read_text()
    block = re.search(r"```text\n\$ (gradcheck run " + re.escape(example) + r"[^\n]*)\n(.*?)```",
                      text, re.S)
    command = block.group(1).split() + ["--format", "plain"]
    gradcheck = Path(sys.executable).parent / "gradcheck"
    done = subprocess.run([str(gradcheck), *command[1:]], capture_output=True, text=True,
                          cwd=README.parent, timeout=120)
    assert done.returncode == 1
    assert done.stdout == block.group(2)


def test_the_partial_file_count_of_exercises_not_attempted_is_right(tmp_path):
    import subprocess
    import sys

    text = " ".join(README.read_text().split())
    said = re.search(r"A file with the four functions .*? `not attempted: (\d+) exercises", text)
    source = (README.parent / "examples" / "solutions.py").read_text()
    four = tmp_path / "four.py"
    four.write_text(source)                  # the 30 grad_* ones: keep four of them
    names = re.findall(r"^def (grad_\w+)", source, re.M)
    keep = {"grad_sigmoid", "grad_softmax", "grad_matmul", "grad_conv2d"}
    assert keep <= set(names)
    for name in set(names) - keep:
        four.write_text(four.read_text().replace(f"def {name}(", f"def _unused_{name}("))
    gradcheck = Path(sys.executable).parent / "gradcheck"
    done = subprocess.run([str(gradcheck), "run", str(four), "--format", "plain"],
                          capture_output=True, text=True, timeout=120)
    assert f"not attempted: {said.group(1)} exercises" in done.stdout, done.stdout


def test_the_check_your_own_layer_examples_print_what_the_readme_shows(gradcheck, monkeypatch):
    import shlex

    text = README.read_text()
    section = text[text.index("### Check your own layer"):]
    block = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    runs = [chunk for chunk in block.split("$ gradcheck ")[1:]]
    assert len(runs) == 3
    monkeypatch.chdir(README.parent / "tests" / "fixtures" / "cs231n")
    for chunk in runs:
        command, shown = chunk.split("\n", 1)
        run = gradcheck(*shlex.split(command))
        assert run.code == 0, run.text
        assert run.out.rstrip("\n") == shown.rstrip("\n")
