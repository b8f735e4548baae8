"""A worker starts before the grader imports NumPy; inside the worker, the wire binds NumPy's
functions before any learner code can monkeypatch them."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

import gradcheck_cli.sandbox.inside as inside
from gradcheck_cli.sandbox.process import PYTHON_FLAGS


def _run(code: str, *args: str, flags=()) -> str:
    done = subprocess.run([sys.executable, *flags, "-c", code, *args], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_starting_a_worker_needs_no_numpy_in_the_grader():
    # `gradcheck run` starts the learner's worker first, so that its start-up overlaps the
    # grader's imports: everything on that path must come without NumPy.
    out = _run("import sys, gradcheck_cli.grading.run, gradcheck_cli.sandbox; "
               "print('numpy' in sys.modules)")
    assert out == "False"


def test_the_worker_side_wire_binds_numpy_at_import():
    # As the worker loads it (start.py's package), before any learner code runs.
    probe = ("import sys; folder, numpy_dir = sys.argv[1:]; sys.path.append(numpy_dir); "
             "sys.path.insert(0, folder); import start; start.load_package(); "
             "import importlib; wire = importlib.import_module(start.PACKAGE + '.wire'); "
             "import numpy; real = numpy.frombuffer; numpy.frombuffer = None; "
             "print(wire._frombuffer is real)")
    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    folder = os.path.dirname(inside.__file__)
    assert _run(probe, folder, numpy_dir, flags=PYTHON_FLAGS) == "True"
