"""``--format plain``: the human report without colour, for logs and snapshot tests."""

from __future__ import annotations

from .diff import describe_array, diff_rows, fmt, index_str
from .formats import register

MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT",
        "missing": "MISSING"}


def report_lines(report, options) -> list[str]:
    """The plain report of one submission, line by line."""
    lines = [f"gradcheck {report.version} — {report.submission} (seed {report.seed})"]
    if report.import_error:
        lines.append(f"  could not import the submission: {report.import_error}")
    lines.append("")
    width = max((len(e.name) for e in report.exercises), default=0)
    for ex in report.exercises:
        lines.append(f"{MARK[ex.status]:>8}  {ex.name:<{width}}  {ex.function:<18} "
                     f"{_pts(ex.score)}/{_pts(ex.max_score)} points")
        if ex.status != "passed":
            lines.extend("          " + line for line in exercise_detail(ex, options))
        warnings = [d for c in ex.cases for d in c.diagnoses if d.severity == "warning"]
        if ex.status == "passed" and warnings:
            lines.append(f"          warning [{warnings[0].id}]: {warnings[0].message}")
    counts = report.counts()
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines += ["", f"Score {_pts(report.score)}/{_pts(report.max_score)} — {summary or 'nothing to grade'}"]
    return lines


def exercise_detail(ex, options) -> list[str]:
    """Why an exercise did not pass: its first failing case, diagnoses, table, inputs."""
    out: list[str] = []
    if ex.status == "missing":
        return [ex.error or "not defined", *(f"hint: {d.hint}" for d in ex.diagnoses if d.hint)]
    failing = [c for c in ex.cases if c.status != "passed"]
    shown = [c for c in failing if not c.hidden or options.show_hidden][:1 if not options.verbose else None]
    for case in shown:
        out.append(f"case {case.name!r}: {case.message}".rstrip())
        for d in case.diagnoses:
            label = "warning" if d.severity == "warning" else "diagnosis"
            out.append(f"{label} [{d.id}]: {d.message}")
            if d.hint:
                out.append(f"  hint: {d.hint}")
        for frame in case.frames[-4:]:
            out.append(f"  File \"{frame.get('file')}\", line {frame.get('line')}, in {frame.get('function')}")
            if frame.get("source"):
                out.append(f"    {frame['source'].strip()}")
        if case.got is not None:
            out.extend(case_table(case, options))
        if case.status in ("failed", "error") and case.inputs:
            for name, value in case.inputs.items():
                out.append(f"{name} = {describe_array(value)}")
            if case.dz is not None:
                out.append(f"dz = {describe_array(case.dz)}")
    hidden_failing = [c for c in failing if c.hidden and not options.show_hidden]
    if hidden_failing:
        names = ", ".join(c.name for c in hidden_failing)
        out.append(f"hidden case(s) not passed: {names}")
        if not shown:
            for d in ex.diagnoses:
                out.append(f"diagnosis [{d.id}]: {d.message}")
                if d.hint:
                    out.append(f"  hint: {d.hint}")
    return out


def case_table(case, options) -> list[str]:
    """index | yours | expected | finite difference | error, for the worst elements."""
    from ..grading.compare import Tolerance, compare

    out = []
    for name, got, expected, numerical in zip(case.output_names, case.got, case.expected,
                                              case.numerical or (None,) * len(case.expected)):
        if got.shape != expected.shape:
            out.append(f"{name}: yours has shape {tuple(got.shape)}, expected {tuple(expected.shape)}")
            continue
        rows, total = diff_rows(got, expected, numerical, None, limit=20 if options.verbose else 6)
        if not rows:
            continue
        out.append(f"{name}: {total} of {expected.size} elements differ")
        header = ("index", "yours", "expected", "finite diff", "error")
        table = [header] + [(index_str(r.index), fmt(r.got), fmt(r.expected), fmt(r.numerical),
                             fmt(r.error)) for r in rows]
        widths = [max(len(row[i]) for row in table) for i in range(5)]
        for row in table:
            out.append("  " + " | ".join(cell.rjust(w) for cell, w in zip(row, widths)))
        if total > len(rows):
            out.append(f"  … and {total - len(rows)} more")
    return out


def _pts(x: float) -> str:
    return f"{x:g}"


@register("plain", "the human report without colour")
def write_plain(reports, stream, options) -> None:
    for i, report in enumerate(reports):
        if i:
            stream.write("\n")
        stream.write("\n".join(report_lines(report, options)) + "\n")
