"""examples/learner.ipynb, executed headlessly in a Jupyter kernel of this very Python (so the
gradcheck under test is the one imported): check() displays the report as HTML, and
`gradcheck run` grades the same notebook with its check() calls skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "learner.ipynb"
GRADCHECK = Path(sys.executable).parent / "gradcheck"
KERNEL = "gradcheck-under-test"


def kernel_of_this_python(folder: Path) -> dict:
    """A kernel spec in ``folder`` that starts this interpreter; the environment to find it."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gradcheck under test", "language": "python"}))
    return {"JUPYTER_PATH": str(folder), "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
            "JUPYTER_PLATFORM_DIRS": "1", "IPYTHONDIR": str(folder / "ipython")}


def outputs(cell) -> dict[str, str]:
    """A cell's displayed results by MIME type (text/html, text/plain)."""
    found: dict[str, str] = {}
    for out in cell.outputs:
        assert out.output_type != "error", "\n".join(out.get("traceback", []))
        for mime, data in out.get("data", {}).items():
            found[mime] = found.get(mime, "") + data
    return found


def test_the_example_notebook_runs_and_shows_the_reports(tmp_path, monkeypatch):
    for name, value in kernel_of_this_python(tmp_path).items():
        monkeypatch.setenv(name, value)
    notebook = nbformat.read(EXAMPLE, as_version=4)

    NotebookClient(notebook, kernel_name=KERNEL, timeout=180, record_timing=False,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    shown = [outputs(c) for c in notebook.cells if c.cell_type == "code"]
    sigmoid, first_softmax, last = shown[2], shown[4], shown[6]
    assert "PASS" in sigmoid["text/html"] and "sigmoid" in sigmoid["text/html"]
    assert sigmoid["text/html"].startswith('<pre class="gradcheck-report"')
    assert all(out.get("text/html", "").count("<pre") <= 1 for out in shown)   # shown once
    assert "diagonal_jacobian_only" in first_softmax["text/html"]
    assert "FAIL" in first_softmax["text/html"] and "Score" in first_softmax["text/html"]
    assert last["text/plain"] == "(True, 2.0)"


def test_gradcheck_run_grades_the_example_notebook_without_its_check_calls():
    done = subprocess.run([str(GRADCHECK), "run", str(EXAMPLE), "-e", "sigmoid", "-e", "softmax",
                           "--seed", "0", "--format", "json"], capture_output=True, text=True,
                          timeout=180)

    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["import_error"] is None and doc["score"] == 3.0
    # The second grad_softmax, the right one, is the one graded: cells run in order.
    assert {e["name"]: e["cell"] for e in doc["exercises"]} == {"sigmoid": 4, "softmax": 11}
