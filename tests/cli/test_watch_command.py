"""`gradcheck run --watch`, the installed command in a subprocess: a report now, another after
each save of the file or of a module beside it, and Ctrl-C ends it quietly with exit code 0."""

from __future__ import annotations

import json
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

GRADCHECK = Path(sys.executable).parent / "gradcheck"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"
FOOTER = "Ctrl-C stops"

RIGHT = '''from helper import sigmoid


def grad_sigmoid(x, dz):
    s = sigmoid(x)
    return dz * s * (1.0 - s)
'''
HELPER = "import numpy as np\n\n\ndef sigmoid(x):\n    return 1.0 / (1.0 + np.exp(-x))\n"


class Watch:
    """The watching command, its output read line by line as it comes."""

    def __init__(self, *args):
        self.process = subprocess.Popen([str(GRADCHECK), "run", *map(str, args), "--watch"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)

    def next_screen(self, timeout=120.0) -> str:
        """What was printed up to the next "watching ... Ctrl-C stops" line."""
        deadline, text = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, self.process.stderr.read()
                continue
            text.append(line)
            if FOOTER in line:
                return "".join(text)
        raise AssertionError("no report within the time: " + "".join(text))

    def interrupt(self) -> subprocess.CompletedProcess:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        return subprocess.CompletedProcess(self.process.args, code, "",
                                           self.process.stderr.read())


def save(path: Path, text: str) -> None:
    """Write as an editor would, a moment later (so the modification time surely moves)."""
    time.sleep(0.05)
    path.write_text(text)


def test_a_save_of_the_file_or_a_module_beside_it_shows_a_new_report(tmp_path):
    grads, helper = tmp_path / "grads.py", tmp_path / "helper.py"
    grads.write_text(RIGHT)
    helper.write_text(HELPER)
    watch = Watch(grads, "-e", "sigmoid", "--seed", "1", "--format", "plain")
    try:
        first = watch.next_screen()
        save(grads, RIGHT.replace("dz * s * (1.0 - s)", "dz * s"))
        second = watch.next_screen()
        save(grads, RIGHT)
        fixed = watch.next_screen()
        save(helper, HELPER.replace("np.exp(-x)", "np.exp(-2 * x)"))
        helper_saved = watch.next_screen()
    finally:
        done = watch.interrupt()

    assert "PASS  sigmoid" in first and "Score 1/1" in first
    assert "FAIL  sigmoid" in second and "used_function_not_derivative" in second
    assert "graded" in second and "after the save" in second
    assert "PASS  sigmoid" in fixed
    assert "FAIL  sigmoid" in helper_saved     # the helper's mistake, through the import
    assert done.returncode == 0 and "Traceback" not in done.stderr and done.stderr == ""


def test_a_notebook_saved_half_way_is_reported_and_the_watch_goes_on(tmp_path):
    work = tmp_path / "work.ipynb"
    shutil.copy(NOTEBOOKS / "work.ipynb", work)
    whole = work.read_text()
    watch = Watch(work, "-e", "sigmoid", "--seed", "1", "--format", "plain")
    try:
        first = watch.next_screen()
        save(work, whole[:300])
        broken = watch.next_screen()
        doc = json.loads(whole)
        doc["cells"][2]["source"] = ["def grad_sigmoid(x, dz):\n", "    return dz\n"]
        save(work, json.dumps(doc))
        fixed = watch.next_screen()
    finally:
        done = watch.interrupt()

    assert "PASS  sigmoid" in first
    assert "error: " in broken and "this notebook is not valid JSON" in broken
    assert "FAIL  sigmoid" in fixed
    assert done.returncode == 0 and done.stderr == ""


def test_watch_refuses_a_format_that_is_one_document_per_run(tmp_path):
    grads = tmp_path / "grads.py"
    grads.write_text(RIGHT)

    done = subprocess.run([str(GRADCHECK), "run", str(grads), "--watch", "--format", "json"],
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 2 and "--output FILE" in done.stderr and done.stdout == ""
