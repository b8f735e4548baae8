"""A batch removes every cgroup it made, though it removes them on a thread of its own (the
jobs do not wait for the kernel to tear killed workers down)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from gradcheck_cli.sandbox import cgroups

ROOT = Path(__file__).resolve().parents[2]


def test_after_a_batch_no_cgroup_of_its_own_is_left(tmp_path):
    groups = cgroups.hierarchies().groups
    assert groups, "these tests run as root, where cgroups can be made"
    for i in range(6):
        shutil.copy(ROOT / "examples" / "solutions.py", tmp_path / f"learner_{i}.py")
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-m", "gradcheck_cli", "grade", str(tmp_path),
                              "-e", "sigmoid", "-e", "softmax", "--json-dir", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    sandbox = json.loads((out / "learner_0.json").read_text())["sandbox"]
    assert "none" not in sandbox["cgroup"], sandbox        # the workers had cgroups
    for group in groups:
        left = os.path.join(os.path.dirname(group.folder), f"gradcheck-{child.pid}")
        assert not os.path.exists(left), f"{left} outlived its grader"
