"""A plain, non-editable `pip install .` ships the exercise catalog inside the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                           "--wheel-dir", str(out), str(ROOT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = out.glob("gradcheck_cli-*.whl")
    return path


def test_wheel_holds_every_shipped_exercise(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = sorted(p.name for p in (ROOT / "exercises").glob("*.yaml"))
    assert shipped
    for name in shipped:
        assert f"gradcheck_cli/exercises/{name}" in names


def test_installed_package_runs_from_another_directory(wheel, tmp_path):
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                           "--target", str(target), str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    solutions = shutil.copy(ROOT / "examples" / "solutions.py", elsewhere / "mine.py")
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-m", "gradcheck_cli", "run", str(solutions),
                          "-e", "sigmoid", "-e", "conv2d", "--seed", "3", "--format", "plain"],
                         cwd=elsewhere, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Score 4/4" in run.stdout
    # It is the installed copy that ran, with its own catalog, not the checkout's.
    probe = subprocess.run([sys.executable, "-c", "import gradcheck_cli, gradcheck_cli.spec as s; "
                            "print(gradcheck_cli.__file__); print(s.default_catalog_dir())"],
                           cwd=elsewhere, env=env, capture_output=True, text=True)
    file_line, catalog_line = probe.stdout.splitlines()
    assert file_line.startswith(str(target))
    assert catalog_line.startswith(str(target))
