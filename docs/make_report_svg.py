"""Regenerate docs/report.svg: the rich report a learner sees, recorded as a picture.

Run from anywhere: ``python docs/make_report_svg.py`` (it uses this checkout's gradcheck). It grades two submissions with a fixed
seed: examples/mistakes.py on softmax and matmul (small arrays, side by side) and a sigmoid that
overflows on a 12 × 40 input (a heat map of the wrong elements).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))       # this checkout's gradcheck, installed or not

from gradcheck_cli.grading.runner import RunOptions, grade_submission  # noqa: E402
from gradcheck_cli.report.formats import RenderOptions  # noqa: E402
from gradcheck_cli.report.formats.rich import render  # noqa: E402
from gradcheck_cli.selection import select_exercises  # noqa: E402

OUTPUT = ROOT / "docs" / "report.svg"
SEED = 7
WIDTH = 100
SUBMISSIONS = [
    # (submission, exercise folder or None for the shipped catalog, exercises)
    ("examples/mistakes.py", None, ["softmax", "matmul"]),
    ("tests/submissions/wrong/not_finite_overflow.py", "tests/grading/specs", ["sigmoid_wide"]),
]


def main() -> None:
    console = Console(record=True, width=WIDTH, force_terminal=True, color_system="truecolor",
                      highlight=False, file=io.StringIO())     # recorded, not printed
    for i, (submission, folder, names) in enumerate(SUBMISSIONS):
        exercises = select_exercises(ROOT / folder if folder else None, names)
        report = grade_submission(ROOT / submission, exercises, RunOptions(seed=SEED))
        report.submission = submission            # as typed, not the machine's path
        if i:
            console.print()
        console.print(f"[bold]$[/] gradcheck run {submission}"
                      + "".join(f" -e {n}" for n in names)
                      + (f" --exercises {folder}" if folder else "") + f" --seed {SEED}")
        render(report, console, RenderOptions(color=True))
    console.save_svg(str(OUTPUT), title="gradcheck run")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
