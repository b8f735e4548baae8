"""``--format plain``: the human report without colour, for logs and snapshot tests.

By default a failing exercise fits on one screen: its diagnoses, one failing case with a picture
of the difference, and the inputs to reproduce it. ``--verbose`` shows every failing case and
more of each array.
"""

from __future__ import annotations

from ..diff import (Budget, OutputDiff, case_diffs, input_rows, level_char, level_legend,
                    numerical_shown)
from ..neutral import no_commands, one_line, printable
from ..numbers import fmt, index_str
from ..view import (STATUS_WORD, failing_cases, frame_where, import_failed, import_hint,
                    import_output, imported_output, not_attempted_line, printed_output,
                    printing_cases, severity_symbol, tolerance_notes)
from . import register

INDENT = " " * 10


def report_lines(report, options) -> list[str]:
    """The plain report of one submission, line by line."""
    lines = [f"gradcheck {report.version} — {one_line(report.submission)} (seed {report.seed})"]
    if report.import_error:
        lines.append(f"  could not import the submission: {report.import_error}")
        hint = import_hint(report)
        if hint:
            lines.append(f"  → {hint}")
        lines.extend("  " + line for line in output_lines(
            import_output(report), Budget.for_options(options), "printed while importing:"))
    printed, note = imported_output(report, Budget.for_options(options).verbose)
    lines.extend("  " + line for line in output_lines(
        printed, Budget.for_options(options), "printed while importing:"))
    if note:
        lines.append(f"  {note}")
    lines.append("")
    width = max((len(e.name) for e in report.exercises), default=0)
    # Functions of 18 characters or fewer keep the points in one column; a longer one widens it.
    functions = max([18, *(len(e.function) for e in report.exercises)])
    for ex in report.exercises:
        lines.append(f"{STATUS_WORD[ex.status]:>8}  {ex.name:<{width}}  {ex.function:<{functions}} "
                     f"{_pts(ex.score)}/{_pts(ex.max_score)} points")
        if ex.status != "passed" and not import_failed(report, ex):
            lines.extend(INDENT + line for line in exercise_detail(ex, options))
        else:
            lines.extend(INDENT + diagnosis_line(d) for d in ex.diagnoses
                         if d.severity != "error")
            lines.extend(INDENT + line for line in passing_output(ex, options))
    left = not_attempted_line(report)
    if left and not report.exercises:           # nothing attempted: nothing to score
        return lines + [left]
    if left:
        lines += ["", left]
    summary = report.counts_text()
    lines += ["", f"Score {_pts(report.score)}/{_pts(report.max_score)} — "
                  f"{summary or 'nothing to grade'}", *tolerance_notes(report)]
    return lines


def diagnosis_line(d) -> str:
    """One diagnosis on one line: its mark, id, message and what to do."""
    hint = f" → {d.hint}" if d.hint else ""
    return f"{severity_symbol(d.severity)} {d.id}: {d.message}{hint}"


def exercise_detail(ex, options) -> list[str]:
    """Why an exercise did not pass: diagnoses, a failing case pictured, its inputs."""
    out = [diagnosis_line(d) for d in ex.diagnoses]
    cases = failing_cases(ex, options)
    budget = Budget.for_options(options)
    for case in cases.shown:
        out.extend(case_lines(case, budget))
    if cases.hidden:
        out.append(f"hidden case(s) not passed: {', '.join(cases.hidden)} "
                   f"({options.show_hidden_flag} shows them)")
    if cases.more:
        out.append(f"also not passed: {', '.join(cases.more)} "
                   f"({options.verbose_flag} shows every case)")
    return out + passing_output(ex, options)


def passing_output(ex, options) -> list[str]:
    """With --verbose, what the learner's code printed in the cases that passed."""
    out = []
    for case in printing_cases(ex, options):
        out.extend(output_lines(case.stdout, Budget.for_options(options),
                                f"case {case.name!r} passed; printed by your code:"))
    return out


def output_lines(text: str, budget: Budget, title: str = "printed by your code:") -> list[str]:
    """The learner's own output, each line behind a bar so it never reads as ours."""
    printed = printed_output(text, budget.output_lines, title, verbose=budget.verbose)
    if printed is None:
        return []
    return [printed.title, *(f"  | {line}" for line in printed.lines),
            *([f"  {printed.more}"] if printed.more else [])]


def case_lines(case, budget: Budget) -> list[str]:
    """One failing case: what went wrong, where, a picture of it, and its inputs."""
    hidden = " (hidden)" if case.hidden else ""
    diffs = case_diffs(case, budget)
    # A wrong answer is told by its pictures below; an error by its message.
    message = "" if diffs else case.message
    out = [f"case {case.name!r}{hidden}: {message}".rstrip(": ")]
    for frame in case.frames[-4:]:
        out.append(f"  File \"{frame.get('file')}\", {frame_where(frame)}, "
                   f"in {frame.get('function')}")
        if frame.get("source"):
            out.append(f"    {frame['source'].strip()}")
    for diff in diffs:
        out.extend(diff_lines(diff))
    out.extend(output_lines(case.stdout, budget))
    for label, name, text in input_rows(case, budget):
        out.append(f"{label}{name} = {text}")
    return out


def diff_lines(diff: OutputDiff) -> list[str]:
    """An output's difference: a headline, then a side-by-side grid or a heat map and table."""
    out = [diff.headline]
    out.extend(f"  {note}" for note in diff.notes)
    if diff.grid is not None:
        out.extend("  " + line for line in grid_lines(diff.grid))
    if diff.heat is not None:
        out.extend("  " + line for line in heat_lines(diff.heat))
    if diff.worst:
        out.extend("  " + line for line in worst_lines(diff.worst))
        if diff.more:
            out.append(f"  … and {diff.more} more")
    return out


def grid_lines(grid) -> list[str]:
    """Yours beside the expected values; '*' marks each element that differs."""
    blocks = [("yours", grid.got, grid.bad), ("expected", grid.expected, None)]
    if grid.numerical is not None:
        blocks.append(("finite diff", grid.numerical, None))
    width = max(len(cell) for _, rows, _ in blocks for row in rows for cell in row)
    columns = []
    if grid.labels is not None:
        pad = max(len(label) for label in grid.labels)
        columns.append([" " * pad] + [label.rjust(pad) for label in grid.labels])
    for title, rows, bad in blocks:
        lines = [" ".join(("*" + cell if bad and bad[r][c] else cell).rjust(width + 1)
                          for c, cell in enumerate(row)) for r, row in enumerate(rows)]
        block_width = max(len(title) + 1, max(len(line) for line in lines))
        columns.append([title.rjust(block_width)]
                       + [line.rjust(block_width) for line in lines])
    separator = " " if grid.labels is not None else " | "
    return [(columns[0][i] + "  " if grid.labels is not None else "")
            + separator.join(col[i] for col in columns[1 if grid.labels is not None else 0:])
            .rstrip() for i in range(len(columns[0]))]


def heat_lines(heat) -> list[str]:
    """The heat map in characters, boxed, with the scale beneath."""
    block = (f"; each cell is the worst of a {heat.block[0]} × {heat.block[1]} block"
             if heat.block != (1, 1) else "")
    width = max(len(row) for row in heat.levels)
    out = [f"relative error by element ({heat.layout}{block}; blank: within tolerance)",
           "+" + "-" * width + "+"]
    out += ["|" + "".join(level_char(v) for v in row).ljust(width) + "|" for row in heat.levels]
    out.append("+" + "-" * width + "+")
    out.append("  ".join(f"{level_char(level)} {meaning}"
                         for level, meaning in level_legend(heat.levels)))
    return out


def worst_lines(rows) -> list[str]:
    """index | yours | expected | finite diff | abs error | rel error, worst first."""
    numerical = numerical_shown(rows)
    header = ("index", "yours", "expected", *(("finite diff",) if numerical else ()),
              "abs error", "rel error")
    table = [header] + [(index_str(r.index), fmt(r.got), fmt(r.expected),
                         *((fmt(r.numerical),) if numerical else ()), fmt(r.error),
                         fmt(r.rel_error)) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return [" | ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in table]


def _pts(x: float) -> str:
    return f"{x:g}"


@register("plain", "the human report without colour", for_people=True)
def write_plain(reports, stream, options) -> None:
    for i, report in enumerate(reports):
        if i:
            stream.write("\n")
        # Printed to CI logs too: no learner line may read as a workflow command there.
        stream.write(no_commands(printable("\n".join(report_lines(report, options)))) + "\n")
