"""The `gradcheck` entry point starts NumPy with one BLAS thread, unless the user said otherwise.

A command's arithmetic is on small arrays, and extra BLAS threads spin at NumPy's import,
taking the CPU the learner's worker is starting on. A fresh process is the only honest test:
the setting counts only before NumPy is imported.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
from gradcheck_cli import cli
sys.argv = ["gradcheck", "--version"]
try:
    cli.main()
except SystemExit:
    pass
import numpy
from threadpoolctl import threadpool_info
print(*[pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"])
"""

VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS",
             "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def blas_threads(**env: str) -> list[int]:
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    done = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env},
                          capture_output=True, text=True, timeout=120, check=True)
    return [int(n) for n in done.stdout.split()[-1:]]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: NumPy starts one thread anyway")
def test_the_command_line_runs_numpy_on_one_blas_thread():
    assert blas_threads() == [1]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: NumPy starts one thread anyway")
@pytest.mark.parametrize("variable", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"])
def test_a_users_own_setting_wins(variable):
    """Whichever variable the user set: OpenBLAS reads its own before OMP_NUM_THREADS, so
    setting it would silently override the user's OMP_NUM_THREADS."""
    assert blas_threads(**{variable: "2"}) == [2]
