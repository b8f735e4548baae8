"""The code that runs inside the worker stands alone: the standard library and NumPy only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import gradcheck_cli.sandbox.inside as inside
from gradcheck_cli.sandbox.process import PYTHON_FLAGS

FOLDER = Path(inside.__file__).parent

# Imports every module of the folder the way start.py runs them, then lists what that loaded.
PROBE = """
import importlib, json, pkgutil, sys
before = set(sys.modules)
folder, numpy_dir = sys.argv[1:]
sys.path.append(numpy_dir)
sys.path.insert(0, folder)
import start
start.load_package()
for info in pkgutil.iter_modules([folder]):
    if info.name != "start":
        importlib.import_module(start.PACKAGE + "." + info.name)
print(json.dumps(sorted({name.partition(".")[0] for name in set(sys.modules) - before})))
"""


def test_every_inside_module_imports_without_the_package():
    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    done = subprocess.run([sys.executable, *PYTHON_FLAGS, "-c", PROBE, str(FOLDER), numpy_dir],
                          capture_output=True, text=True, timeout=60, check=True)
    loaded = set(json.loads(done.stdout))
    assert "_gradcheck_inside" in loaded and "numpy" in loaded
    foreign = loaded - set(sys.stdlib_module_names) - {"numpy", "_gradcheck_inside", "start"}
    assert not foreign, f"the worker's code imports more than NumPy: {sorted(foreign)}"
