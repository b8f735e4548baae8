"""``--format rich``: the colourful terminal report (the default on a terminal)."""

from __future__ import annotations

from .diff import describe_array, diff_rows, fmt, index_str
from .formats import register

STYLE = {"passed": ("✔ PASS", "bold green"), "failed": ("✘ FAIL", "bold red"),
         "error": ("✘ ERROR", "bold red"), "timeout": ("⧗ TIMEOUT", "bold yellow"),
         "missing": ("? MISSING", "bold magenta")}


def render(report, console, options) -> None:
    """Print one report to a rich console."""
    from rich.table import Table
    from rich.text import Text

    console.print(Text.assemble(("gradcheck ", "bold"), (report.version, "dim"), " — ",
                                (report.submission, "cyan"), (f"  seed {report.seed}", "dim")))
    if report.import_error:
        console.print(Text(f"could not import the submission: {report.import_error}", "red"))
    summary = Table(show_header=False, box=None, padding=(0, 1))
    for ex in report.exercises:
        label, style = STYLE[ex.status]
        summary.add_row(Text(label, style), Text(ex.name, "bold"), Text(ex.function, "dim"),
                        Text(f"{ex.score:g}/{ex.max_score:g} pts"))
    console.print(summary)
    for ex in report.exercises:
        if ex.status != "passed":
            _detail(ex, console, options)
        else:
            for d in {d.id: d for c in ex.cases for d in c.diagnoses if d.severity == "warning"}.values():
                console.print(Text(f"  {ex.name}: warning [{d.id}] {d.message}", "yellow"))
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items() if n)
    style = "bold green" if report.passed else "bold red"
    console.print(Text.assemble(("Score ", "bold"), (f"{report.score:g}/{report.max_score:g}", style),
                                f" — {counts}"))


def _detail(ex, console, options) -> None:
    from rich.panel import Panel
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts = []
    if ex.status == "missing":
        parts.append(Text(ex.error or "not defined"))
        parts += [Text(f"hint: {d.hint}", "italic") for d in ex.diagnoses if d.hint]
    failing = [c for c in ex.cases if c.status != "passed"]
    shown = [c for c in failing if not c.hidden or options.show_hidden]
    shown = shown if options.verbose else shown[:1]
    for case in shown if ex.status != "missing" else []:
        parts.append(Text.assemble(("case ", "dim"), (case.name, "bold"), ": ", case.message))
        for d in case.diagnoses:
            colour = "yellow" if d.severity == "warning" else "magenta"
            parts.append(Text.assemble((f"● {d.id}", f"bold {colour}"), "  ", d.message))
            if d.hint:
                parts.append(Text(f"  {d.hint}", "italic"))
        if case.frames:
            for frame in case.frames[-4:]:
                parts.append(Text(f'  File "{frame.get("file")}", line {frame.get("line")}, '
                                  f'in {frame.get("function")}', "dim"))
                if frame.get("source"):
                    parts.append(Text(f"    {frame['source'].strip()}", "bold red"))
        if case.got is not None:
            for name, got, expected, numerical in zip(case.output_names, case.got, case.expected,
                                                      case.numerical or (None,) * len(case.expected)):
                if got.shape != expected.shape:
                    parts.append(Text(f"{name}: yours has shape {tuple(got.shape)}, "
                                      f"expected {tuple(expected.shape)}", "red"))
                    continue
                rows, total = diff_rows(got, expected, numerical, None,
                                        limit=20 if options.verbose else 6)
                if not rows:
                    continue
                table = Table(title=f"{name}: {total} of {expected.size} elements differ",
                              title_justify="left", title_style="", box=None, padding=(0, 1))
                for col in ("index", "yours", "expected", "finite diff", "error"):
                    table.add_column(col, justify="right", header_style="bold")
                for r in rows:
                    table.add_row(index_str(r.index), Text(fmt(r.got), "red"), Text(fmt(r.expected), "green"),
                                  fmt(r.numerical), fmt(r.error))
                parts.append(table)
        if case.inputs and case.status in ("failed", "error"):
            for name, value in case.inputs.items():
                parts.append(Text(f"{name} = {describe_array(value)}", "dim"))
            if case.dz is not None:
                parts.append(Text(f"dz = {describe_array(case.dz)}", "dim"))
    hidden = [c.name for c in failing if c.hidden and not options.show_hidden]
    if hidden:
        parts.append(Text(f"hidden case(s) not passed: {', '.join(hidden)}", "dim"))
        if not shown:
            for d in ex.diagnoses:
                parts.append(Text.assemble((f"● {d.id}", "bold magenta"), "  ", d.message))
    label, style = STYLE[ex.status]
    console.print(Panel(Group(*parts), title=Text(f"{ex.name} · {ex.function}", style),
                        title_align="left", border_style=style.split()[-1], expand=False))


@register("rich", "the colourful terminal report (default on a terminal)")
def write_rich(reports, stream, options) -> None:
    from rich.console import Console

    console = Console(file=stream, force_terminal=options.color or None, highlight=False)
    for report in reports:
        render(report, console, options)
