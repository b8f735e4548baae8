"""A synthetic class of 50 learners whose mistakes are known, graded once for real."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "class"
EXERCISES = ["sigmoid", "softmax", "matmul", "conv2d"]
SEED = 2024
SIZE = 50


def plan(i: int) -> dict[str, str | None]:
    """Which version of each function learner i wrote (None: not written at all)."""
    return {
        "sigmoid": "used_function" if i % 5 == 0 else "forgot_dz" if i % 5 == 1 else "right",
        "softmax": "diagonal" if i < 20 else "right",
        "matmul": None if i >= 45 else "right",
        "conv2d": "flipped" if i % 3 == 0 else "right",
    }


def write_class(folder: Path, size: int = SIZE) -> list[Path]:
    """learner_00.py … : each the functions its plan says, from tests/fixtures/class/."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(size):
        parts = ["import numpy as np", ""]
        for name, version in plan(i).items():
            if version is not None:
                parts += [(FIXTURES / f"{name}_{version}.py").read_text(encoding="utf-8"), ""]
        path = folder / f"learner_{i:02d}.py"
        path.write_text("\n".join(parts), encoding="utf-8")
        files.append(path)
    return files


@dataclass
class GradedClass:
    folder: Path
    json_dir: Path
    exercises: list
    graded: list
    results: object
    seed: int = SEED
    size: int = SIZE

    @staticmethod
    def plan(i: int) -> dict[str, str | None]:
        return plan(i)

    def gradebook(self) -> str:
        from gradcheck_cli import batch
        return batch.gradebook_csv(self.graded, self.exercises, self.seed)


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory) -> GradedClass:
    """The 50 learners graded by the real pipeline into a results folder with its manifest."""
    from gradcheck_cli import batch
    from gradcheck_cli.classroom.grade import grade_class
    from gradcheck_cli.grading.runner import RunOptions
    from gradcheck_cli.selection import select_exercises

    root = tmp_path_factory.mktemp("class")
    write_class(root / "submissions")
    exercises = select_exercises(None, EXERCISES)
    found = batch.discover([root / "submissions"])
    graded, results = grade_class(found, exercises, RunOptions(seed=SEED, timeout=5), jobs=2,
                                  json_dir=root / "results")
    return GradedClass(root / "submissions", root / "results", exercises, graded, results)
