"""``--format rich``: the colourful terminal report (the default on a terminal).

The same content as the plain report, laid out with colour: mismatched elements in red beside
the expected ones in green, the heat map's cells coloured by relative error.
"""

from __future__ import annotations

from ..diff import (INF, NAN, Budget, OutputDiff, case_diffs, input_rows, level_char,
                    level_legend, numerical_shown)
from ..numbers import fmt, index_str
from ..view import (SEVERITY_STYLE, STATUS_STYLE, failing_cases, frame_where, import_failed,
                    import_hint, import_output, imported_output, not_attempted_line, printed_output,
                    printing_cases, severity_symbol, status_label, tolerance_notes)
from ..neutral import map_strings, one_line, printable
from . import register

# Heat-map colours for levels 1..9: from round-off (pale yellow) to wildly wrong (dark red).
LEVEL_COLOURS = ("#ffffaf", "#ffff5f", "#ffd75f", "#ffaf5f", "#ff875f", "#ff5f5f", "#ff0000",
                 "#d70000", "#af0000")


def render(report, console, options) -> None:
    """Print one report to a rich console."""
    for part in renderables(report, options):
        console.print(part)


def renderables(report, options):
    """One report as rich renderables, top to bottom (what ``render`` prints)."""
    from rich.table import Table
    from rich.text import Text

    # Learner text (exception messages, names, source lines) could move the cursor and redraw
    # a FAIL as a PASS: every string is shown with its control characters spelled out.
    report = map_strings(report, printable)
    yield Text.assemble(("gradcheck ", "bold"), (report.version, "dim"), " — ",
                        (one_line(report.submission), "cyan"), (f"  seed {report.seed}", "dim"))
    if report.import_error:
        yield Text(f"could not import the submission: {report.import_error}", "red")
        hint = import_hint(report)
        if hint:
            yield Text(f"→ {hint}", "italic cyan")
        yield from output_parts(import_output(report), Budget.for_options(options),
                                "printed while importing:")
    printed, note = imported_output(report, Budget.for_options(options).verbose)
    yield from output_parts(printed, Budget.for_options(options), "printed while importing:")
    if note:
        yield Text(note, "dim")
    left = not_attempted_line(report)
    if left and not report.exercises:           # nothing attempted: nothing to score
        yield Text(left, "bold red")
        return
    summary = Table(show_header=False, box=None, padding=(0, 1))
    for ex in report.exercises:
        summary.add_row(Text(status_label(ex.status), STATUS_STYLE[ex.status]),
                        Text(ex.name, "bold"), Text(ex.function, "dim"),
                        Text(f"{ex.score:g}/{ex.max_score:g} pts"))
    yield summary
    for ex in report.exercises:
        if ex.status != "passed" and not import_failed(report, ex):
            yield exercise_panel(ex, options)
        else:
            for d in ex.diagnoses:
                if d.severity != "error":
                    yield Text.assemble(f"  {ex.name}: ", diagnosis_text(d))
            yield from passing_output(ex, options, prefix=f"{ex.name}: ")
    if left:
        yield Text(left, "dim")
    counts = report.counts_text()
    style = "bold green" if report.passed else "bold red"
    yield Text.assemble(("Score ", "bold"), (f"{report.score:g}/{report.max_score:g}", style),
                        f" — {counts}")
    for note in tolerance_notes(report):
        yield Text(note, "dim")


def diagnosis_text(d):
    """One diagnosis: mark and id, message, and what to do."""
    from rich.text import Text

    style = SEVERITY_STYLE.get(d.severity, SEVERITY_STYLE["error"])
    text = Text.assemble((f"{severity_symbol(d.severity)} {d.id}", style), "  ", d.message)
    if d.hint:
        text.append(f" → {d.hint}", "italic cyan")
    return text


def exercise_panel(ex, options):
    """A panel saying why an exercise did not pass."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    parts: list = [diagnosis_text(d) for d in ex.diagnoses]
    cases = failing_cases(ex, options)
    budget = Budget.for_options(options)
    for case in cases.shown:
        parts.extend(case_parts(case, budget))
    if cases.hidden:
        parts.append(Text(f"hidden case(s) not passed: {', '.join(cases.hidden)} "
                          f"({options.show_hidden_flag} shows them)", "dim"))
    if cases.more:
        parts.append(Text(f"also not passed: {', '.join(cases.more)} "
                          f"({options.verbose_flag} shows every case)", "dim"))
    parts.extend(passing_output(ex, options))
    style = STATUS_STYLE[ex.status]
    return Panel(Group(*parts), title=Text(f"{ex.name} · {ex.function}", style),
                 title_align="left", border_style=style.split()[-1], expand=False)


def case_parts(case, budget: Budget) -> list:
    """One failing case: what went wrong, where, a picture of it, and its inputs."""
    from rich.text import Text

    hidden = " (hidden)" if case.hidden else ""
    diffs = case_diffs(case, budget)
    # A wrong answer is told by its pictures below; an error by its message.
    message = (": " + case.message) if case.message and not diffs else ""
    parts: list = [Text.assemble(("case ", "dim"), (case.name, "bold"), hidden, message)]
    for frame in case.frames[-4:]:
        parts.append(Text(f'  File "{frame.get("file")}", {frame_where(frame)}, '
                          f'in {frame.get("function")}', "dim"))
        if frame.get("source"):
            parts.append(Text(f"    {frame['source'].strip()}", "bold red"))
    for diff in diffs:
        parts.extend(diff_parts(diff))
    parts.extend(output_parts(case.stdout, budget))
    for label, name, text in input_rows(case, budget):
        line = Text.assemble((label, "dim"), (name, "bold"), (f" = {text}", "dim"))
        # One line per input, cut at the panel's edge (--verbose shows more).
        line.no_wrap, line.overflow = not budget.wrap_inputs, "ellipsis"
        parts.append(line)
    return parts


def passing_output(ex, options, prefix: str = "") -> list:
    """With --verbose, what the learner's code printed in the cases that passed."""
    parts: list = []
    for case in printing_cases(ex, options):
        parts.extend(output_parts(case.stdout, Budget.for_options(options),
                                  f"{prefix}case {case.name!r} passed; printed by your code:"))
    return parts


def output_parts(text: str, budget: Budget, title: str = "printed by your code:") -> list:
    """The learner's own output, each line behind a bar so it never reads as ours."""
    from rich.text import Text

    printed = printed_output(text, budget.output_lines, title, verbose=budget.verbose)
    if printed is None:
        return []
    parts: list = [Text(printed.title, "bold yellow")]
    for line in printed.lines:
        parts.append(Text.assemble(("  | ", "yellow"), printable(line)))
    if printed.more:
        parts.append(Text(f"  {printed.more}", "dim"))
    return parts


def diff_parts(diff: OutputDiff) -> list:
    """An output's difference: a headline, then a grid or a heat map and the worst elements."""
    from rich.padding import Padding
    from rich.text import Text

    parts: list = [Text(diff.headline, "bold")]
    parts += [Text(f"  {note}") for note in diff.notes]
    if diff.grid is not None:
        parts.append(Padding(grid_table(diff.grid), (0, 0, 0, 2)))
    if diff.heat is not None:
        parts.append(Padding(heat_text(diff.heat), (0, 0, 0, 2)))
    if diff.worst:
        parts.append(Padding(worst_table(diff.worst), (0, 0, 0, 2)))
        if diff.more:
            parts.append(Text(f"  … and {diff.more} more", "dim"))
    return parts


def grid_table(grid):
    """Yours (differing elements in red, marked '*') beside the expected values (green)."""
    from rich.table import Table
    from rich.text import Text

    blocks = [("yours", grid.got, grid.bad), ("expected", grid.expected, None)]
    if grid.numerical is not None:
        blocks.append(("finite diff", grid.numerical, None))
    width = max(len(cell) for _, rows, _ in blocks for row in rows for cell in row)
    outer = Table(box=None, padding=(0, 2), show_edge=False)
    if grid.labels is not None:
        outer.add_column("", style="dim", justify="right")
    for title, _, _ in blocks:
        outer.add_column(title, header_style="bold", justify="right")
    for r in range(len(grid.got)):
        cells = [grid.labels[r]] if grid.labels is not None else []
        for title, rows, bad in blocks:
            line = Text()
            for c, value in enumerate(rows[r]):
                if c:
                    line.append(" ")
                if bad is not None:
                    # A mark beside the colour: without colour (NO_COLOR, a pager) it is all.
                    style = "bold red" if bad[r][c] else ""
                    value = "*" + value if bad[r][c] else value
                else:
                    style = "green" if title == "expected" else "dim"
                line.append(value.rjust(width + 1), style)
            cells.append(line)
        outer.add_row(*cells)
    return outer


def heat_text(heat):
    """The heat map as coloured cells, with its scale."""
    from rich.text import Text

    block = (f"; a cell is the worst of a {heat.block[0]} × {heat.block[1]} block"
             if heat.block != (1, 1) else "")
    text = Text(f"relative error by element ({heat.layout}{block}; · within tolerance)\n",
                "dim")
    for row in heat.levels:
        for level in row:
            text.append(*_cell(level))
        text.append("\n")
    for i, (level, meaning) in enumerate(level_legend(heat.levels)):
        text.append(" " if i else "")
        text.append(*_cell(level))
        text.append(meaning, "dim")
    return text


def _cell(level: int) -> tuple[str, str]:
    if level == NAN:
        return "N", "bold white on magenta"
    if level == INF:
        return "I", "bold white on magenta"
    if level <= 0:
        return ("·", "grey35") if level == 0 else (" ", "")
    # The level's character on its colour: without colour the character still tells it.
    return level_char(level), f"bold black on {LEVEL_COLOURS[level - 1]}"


def worst_table(rows):
    """index | yours | expected | finite diff | abs error | rel error, worst first."""
    from rich.table import Table
    from rich.text import Text

    numerical = numerical_shown(rows)
    table = Table(box=None, padding=(0, 1), show_edge=False)
    for col in ("index", "yours", "expected", *(("finite diff",) if numerical else ()),
                "abs error", "rel error"):
        table.add_column(col, justify="right", header_style="bold")
    for r in rows:
        table.add_row(index_str(r.index), Text(fmt(r.got), "red"), Text(fmt(r.expected), "green"),
                      *((fmt(r.numerical),) if numerical else ()), fmt(r.error),
                      fmt(r.rel_error))
    return table


@register("rich", "the colourful terminal report (default on a terminal)",
          for_people=True)
def write_rich(reports, stream, options) -> None:
    from rich.console import Console

    console = Console(file=stream, force_terminal=options.color or None, highlight=False)
    for report in reports:
        render(report, console, options)
