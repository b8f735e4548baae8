"""The class report's cost: grading N submissions (default 1,000) with --html, and what the HTML
part adds to the grading time (target: under 5 %).

Generates N submissions as bench_grade.py does (each of the four worked exercises right or
wrong), then

- grades them as `gradcheck grade DIR --json-dir R --gradebook G --html H` does, in this
  process, timing the grading apart from the class report page (summary, charts, every
  learner's section, writing the file). The grading already builds the JSON document of each
  result the page is made from; they are built once more and timed, and the ratio is given
  with and without them;
- times `gradcheck report R --html H2` as a separate command (start-up and reading every JSON
  result included), which rebuilds the same page from the results folder.

Run from the repository root:

    python benchmarks/bench_class_report.py [--n 1000] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_grade import EXERCISES, ROOT, generate  # noqa: E402

from gradcheck_cli import batch  # noqa: E402
from gradcheck_cli.classroom.grade import grade_class  # noqa: E402
from gradcheck_cli.classroom.page import write_class_report  # noqa: E402
from gradcheck_cli.classroom.results import from_graded  # noqa: E402
from gradcheck_cli.grading.runner import RunOptions  # noqa: E402
from gradcheck_cli.selection import select_exercises  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="submissions to generate")
    parser.add_argument("--jobs", type=int, default=None,
                        help="submissions at once (default: grade's own default)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gradcheck-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "submissions").mkdir()
        generate(tmp / "submissions", args.n)
        exercises = select_exercises(None, list(EXERCISES))
        found = batch.discover([tmp / "submissions"])
        options = RunOptions(seed=args.seed)

        started = time.perf_counter()
        graded, _ = grade_class(found, exercises, options, jobs=args.jobs,
                                json_dir=tmp / "results")
        batch.write_gradebook(tmp / "gradebook.csv", graded, exercises, args.seed)
        grading_s = time.perf_counter() - started

        # What --html adds: the report's JSON documents, then the page.
        started = time.perf_counter()
        results = from_graded(graded, range(len(graded)), exercises, args.seed)
        docs_s = time.perf_counter() - started
        started = time.perf_counter()
        write_class_report(tmp / "class.html", results)
        page_s = time.perf_counter() - started
        size = (tmp / "class.html").stat().st_size

        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gradcheck_cli", "report", str(tmp / "results"),
                        "--html", str(tmp / "again.html")], cwd=ROOT, check=True,
                       capture_output=True)
        report_s = time.perf_counter() - started

    print(f"{args.n} submissions × {len(EXERCISES)} exercises, "
          f"{args.jobs or batch.default_jobs()} job(s), "
          f"{os.cpu_count()} core(s)")
    print(f"grading (JSON results, manifest, gradebook): {grading_s:7.2f} s  "
          f"{args.n / grading_s:6.1f} submissions/s")
    print(f"--html page: {page_s:.3f} s, {size / 1e6:.1f} MB "
          f"({100 * page_s / grading_s:.2f} % of the grading; target < 5 %)")
    print(f"  with the JSON documents it is made from ({docs_s:.3f} s, already inside the "
          f"grading): {100 * (docs_s + page_s) / grading_s:.2f} %")
    print(f"gradcheck report RESULTS --html (a new process): {report_s:.2f} s")


if __name__ == "__main__":
    main()
