"""Regenerate docs/class-report.png: the class report of a demo class, as headless Chromium shows it.

Run from anywhere: ``python docs/make_class_report_png.py`` (it uses this checkout's gradcheck
and needs Debian's ``chromium``). It writes 40 demo submissions, each of the four worked
exercises right (examples/solutions.py), wrong (examples/mistakes.py) or not written, drawn
with a fixed random seed; grades them with `gradcheck grade --html`; and takes a screenshot of
the page with the learner table sorted by score.
"""

from __future__ import annotations

import ast
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "class-report.png"
EXERCISES = {"sigmoid": 0.25, "softmax": 0.4, "matmul": 0.2, "conv2d": 0.35}   # share wrong
LEARNERS, SEED, WINDOW = 40, 7, (1280, 2900)   # down to the learner table


def functions(path: Path) -> dict[str, str]:
    source = path.read_text(encoding="utf-8")
    return {node.name: ast.get_source_segment(source, node)
            for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def write_class(folder: Path) -> None:
    right = functions(ROOT / "examples" / "solutions.py")
    wrong = functions(ROOT / "examples" / "mistakes.py")
    draw = random.Random(SEED)
    for i in range(LEARNERS):
        parts = ["import numpy as np", ""]
        for name, p_wrong in EXERCISES.items():
            roll = draw.random()
            if roll < 0.05:
                continue                                    # not written
            parts += [(wrong if roll < p_wrong else right)[f"grad_{name}"], "", ""]
        (folder / f"student_{i + 1:02d}.py").write_text("\n".join(parts), encoding="utf-8")


def main() -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("needs Chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="gradcheck-class-") as tmp:
        tmp = Path(tmp)
        (tmp / "class").mkdir()
        write_class(tmp / "class")
        selection = [arg for name in EXERCISES for arg in ("-e", name)]
        subprocess.run([sys.executable, "-m", "gradcheck_cli", "grade", str(tmp / "class"),
                        *selection, "--seed", str(SEED), "--html", str(tmp / "class.html")],
                       cwd=ROOT, capture_output=True, check=False)
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                        f"--user-data-dir={tmp / 'profile'}",
                        f"--window-size={WINDOW[0]},{WINDOW[1]}", "--virtual-time-budget=5000",
                        f"--screenshot={OUTPUT}",
                        (tmp / "class.html").as_uri() + "#sort=score:desc"],
                       capture_output=True, check=True, timeout=180)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
