"""``--format html``: the rich report as one self-contained web page, readable without a terminal.

The same content as the rich and plain reports (they all lay out the same ``OutputDiff``): the
diagnoses, a failing case with yours beside the expected values or a heat map and the worst
elements, the learner's traceback frames and the inputs. Nothing is fetched: the styles are
inline and a Content-Security-Policy forbids every request, so the page works from a file, a CI
artifact or an e-mail. The class report embeds ``report_fragment`` for each learner.
"""

from __future__ import annotations

from html import escape

from ..diff import INF, NAN, Budget, OutputDiff, case_diffs, input_rows, level_legend
from ..numbers import fmt, index_str
from ..view import (STATUS_WORD, failing_cases, frame_where, not_attempted_line,
                    severity_symbol, tolerance_notes)
from . import register
from ..neutral import printable
from .rich import LEVEL_COLOURS

# Every request is refused: no script, no font, no image from anywhere; styles inline only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --miss: #8250df; --dim: #59636e;
        --line: #d1d9e0; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       margin: 0 auto; padding: 1.5rem; max-width: 72rem; }
code, pre, .mono, table.grid, table.worst, table.heat { font-family: ui-monospace, "SFMono-Regular",
       "DejaVu Sans Mono", Menlo, monospace; font-size: 13px; }
h1, h2, h3 { line-height: 1.2; margin: 1.2em 0 .5em; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; } h3 { font-size: 1.05rem; }
.dim { color: var(--dim); }
table { border-collapse: collapse; }
th, td { padding: .15rem .5rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; min-width: 5.5em; padding: 0 .4em; border-radius: 4px;
         font-weight: 600; font-size: 12px; text-align: center; color: #fff; }
.badge.passed { background: var(--pass); } .badge.failed, .badge.error { background: var(--fail); }
.badge.timeout { background: var(--warn); } .badge.missing { background: var(--miss); }
.badge.none { background: var(--dim); }
.gc-report { margin: 0 0 2rem; }
.gc-report > header h2 { margin-top: 0; }
.gc-exercise { border: 1px solid var(--line); border-left: 4px solid var(--fail);
               border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; }
.gc-exercise.st-timeout { border-left-color: var(--warn); }
.gc-exercise.st-missing { border-left-color: var(--miss); }
.gc-exercise h3 { margin: .3rem 0 .6rem; }
ul.diagnoses { list-style: none; padding: 0; margin: .3rem 0; }
ul.diagnoses li { margin: .25rem 0; }
.did { font-weight: 600; color: var(--miss); }
.sev-warning .did { color: var(--warn); } .sev-info .did { color: #0969da; }
.hint { font-style: italic; color: #0969da; }
.case { margin: .6rem 0 .3rem; }
pre.frames { background: var(--soft); padding: .4rem .6rem; margin: .3rem 0; overflow-x: auto; }
pre.frames b { color: var(--fail); }
.diff { margin: .4rem 0 .4rem 1rem; }
.diff .headline { font-weight: 600; margin: .2rem 0; }
table.grid td { text-align: right; padding: 0 .35rem; }
table.grid th { text-align: center; border-bottom: 1px solid var(--line); }
table.grid td.gap { padding: 0 .8rem; }
table.grid td.bad { color: var(--fail); font-weight: 700; background: #ffebe9; }
table.grid td.exp { color: var(--pass); }
table.heat td { width: 11px; height: 11px; padding: 0; border: 1px solid #fff; font-size: 9px;
                text-align: center; color: #fff; font-weight: 700; }
table.heat td.l0 { background: #eaeef2; }
.legend span.swatch { display: inline-block; width: 11px; height: 11px; margin: 0 .2rem 0 .6rem;
                      vertical-align: middle; }
table.worst th { border-bottom: 1px solid var(--line); }
table.worst td, table.worst th { text-align: right; }
table.worst td.got { color: var(--fail); } table.worst td.exp { color: var(--pass); }
table.inputs th { font-weight: 600; font-family: ui-monospace, monospace; }
p.score { font-weight: 600; font-size: 1.1rem; }
p.score .passed { color: var(--pass); } p.score .failed { color: var(--fail); }
"""
for _level, _colour in enumerate(LEVEL_COLOURS, start=1):
    CSS += f"table.heat td.l{_level}, .swatch.l{_level} {{ background: {_colour}; }}\n"
CSS += "table.heat td.lN, table.heat td.lI, .swatch.lN, .swatch.lI { background: #8250df; }\n"


def esc(text) -> str:
    """Learner text made safe for HTML: escaped, control characters spelled out."""
    return escape(printable(str(text)), quote=True)


def page(title: str, body: str, *, css: str = CSS, script: str = "", csp: str = CSP) -> str:
    """A whole HTML document: inline styles, an optional inline script, nothing fetched."""
    tail = f"<script>{script}</script>\n" if script else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
            f"{body}{tail}</body>\n</html>\n")


def badge(status: str | None) -> str:
    """A coloured status label (``None``: not graded)."""
    if status is None:
        return '<span class="badge none">—</span>'
    return f'<span class="badge {status}">{STATUS_WORD[status]}</span>'


def pts(x: float) -> str:
    return f"{x:g}"


# ---------------------------------------------------------------------------- one report


def report_fragment(report, options, *, anchor: str = "gc", heading: str = "h2") -> str:
    """One submission's report as an ``<article>``; ``anchor`` prefixes its element ids."""
    out = [f'<article class="gc-report" id="{esc(anchor)}">',
           f"<header><{heading}>gradcheck {esc(report.version)} — <code>{esc(report.submission)}"
           f'</code></{heading}><p class="dim">seed {report.seed}</p></header>']
    if report.import_error:
        out.append(f'<p class="import-error"><b>could not import the submission:</b> '
                   f"{esc(report.import_error)}</p>")
    out.append('<table class="gc-summary">')
    for ex in report.exercises:
        # A name links to what is said about the exercise below, if anything is.
        said = ex.status != "passed" or any(d.severity != "error" for d in ex.diagnoses)
        name = (f'<a href="#{esc(anchor)}:{esc(ex.name)}">{esc(ex.name)}</a>' if said
                else esc(ex.name))
        out.append(f'<tr class="st-{ex.status}"><td>{badge(ex.status)}</td><td>{name}</td>'
                   f"<td><code>{esc(ex.function)}</code></td>"
                   f'<td class="num">{pts(ex.score)}/{pts(ex.max_score)} points</td></tr>')
    out.append("</table>")
    for ex in report.exercises:
        if ex.status != "passed":
            out.append(exercise_section(ex, options, anchor))
        else:
            warnings = [d for d in ex.diagnoses if d.severity != "error"]
            if warnings:
                out.append(f'<p id="{esc(anchor)}:{esc(ex.name)}">{esc(ex.name)}: '
                           f"{diagnosis_html(warnings[0])}</p>")
    left = not_attempted_line(report)
    if left:
        out.append(f'<p class="not-attempted">{esc(left)}</p>')
    counts = report.counts_text()
    verdict = "passed" if report.passed else "failed"
    out.append(f'<p class="score">Score <span class="{verdict}">{pts(report.score)}/'
               f"{pts(report.max_score)}</span> — {esc(counts or 'nothing to grade')}</p>")
    out += [f'<p class="tolerance">{esc(note)}</p>' for note in tolerance_notes(report)]
    out.append("</article>")
    return "\n".join(out) + "\n"


def diagnosis_html(d) -> str:
    """One diagnosis: mark and id, message, and what to do."""
    hint = f' <span class="hint">→ {esc(d.hint)}</span>' if d.hint else ""
    return (f'<span class="mark">{severity_symbol(d.severity)}</span> '
            f'<code class="did">{esc(d.id)}</code> {esc(d.message)}{hint}')


def exercise_section(ex, options, anchor: str) -> str:
    """Why an exercise did not pass: diagnoses, failing cases pictured, what is not shown."""
    out = [f'<section class="gc-exercise st-{ex.status}" id="{esc(anchor)}:{esc(ex.name)}">',
           f"<h3>{badge(ex.status)} {esc(ex.name)} · <code>{esc(ex.function)}</code></h3>"]
    if ex.diagnoses:
        out.append('<ul class="diagnoses">' + "".join(
            f'<li class="sev-{esc(d.severity)}">{diagnosis_html(d)}</li>' for d in ex.diagnoses)
            + "</ul>")
    cases = failing_cases(ex, options)
    budget = Budget.for_options(options)
    out.extend(case_html(case, budget) for case in cases.shown)
    if cases.hidden:
        out.append(f'<p class="dim">hidden case(s) not passed: {esc(", ".join(cases.hidden))} '
                   "(--show-hidden shows them)</p>")
    if cases.more:
        out.append(f'<p class="dim">also not passed: {esc(", ".join(cases.more))} '
                   "(--verbose shows every case)</p>")
    out.append("</section>")
    return "\n".join(out)


def case_html(case, budget: Budget) -> str:
    """One failing case: what went wrong, where, a picture of it, and its inputs."""
    diffs = case_diffs(case, budget)
    hidden = " (hidden)" if case.hidden else ""
    # A wrong answer is told by its pictures below; an error by its message.
    message = f": {esc(case.message)}" if case.message and not diffs else ""
    out = [f'<div class="case"><p><span class="dim">case</span> <b>{esc(case.name)}</b>'
           f"{hidden}{message}</p>"]
    if case.frames:
        lines = []
        for frame in case.frames[-4:]:
            lines.append(f'File "{esc(frame.get("file"))}", {esc(frame_where(frame))}, '
                         f'in {esc(frame.get("function"))}')
            if frame.get("source"):
                lines.append(f"  <b>{esc(frame['source'].strip())}</b>")
        out.append('<pre class="frames">' + "\n".join(lines) + "</pre>")
    out.extend(diff_html(diff) for diff in diffs)
    rows = input_rows(case, budget)
    if rows:
        out.append('<table class="inputs"><caption class="dim">inputs</caption>' + "".join(
            f"<tr><th>{esc(name.strip())}</th><td>=</td><td class=\"mono\">{esc(text)}</td></tr>"
            for _, name, text in rows) + "</table>")
    out.append("</div>")
    return "\n".join(out)


def diff_html(diff: OutputDiff) -> str:
    """An output's difference: a headline, then a grid or a heat map and the worst elements."""
    out = [f'<div class="diff"><p class="headline">{esc(diff.headline)}</p>']
    out.extend(f'<p class="note mono">{esc(note)}</p>' for note in diff.notes)
    if diff.grid is not None:
        out.append(grid_html(diff.grid))
    if diff.heat is not None:
        out.append(heat_html(diff.heat))
    if diff.worst:
        out.append(worst_html(diff.worst))
        if diff.more:
            out.append(f'<p class="dim">… and {diff.more} more</p>')
    out.append("</div>")
    return "\n".join(out)


def grid_html(grid) -> str:
    """Yours (differing elements marked) beside the expected values, and finite differences."""
    blocks = [("yours", grid.got, grid.bad), ("expected", grid.expected, None)]
    if grid.numerical is not None:
        blocks.append(("finite diff", grid.numerical, None))
    head = ["<th></th>"] if grid.labels is not None else []
    for i, (title, rows, _) in enumerate(blocks):
        if i:
            head.append("<th></th>")
        head.append(f'<th colspan="{len(rows[0]) if rows else 1}">{title}</th>')
    body = []
    for r in range(len(grid.got)):
        cells = [f'<td class="dim">{esc(grid.labels[r])}</td>'] if grid.labels is not None else []
        for i, (title, rows, bad) in enumerate(blocks):
            if i:
                cells.append('<td class="gap"></td>')
            for c, value in enumerate(rows[r]):
                cls = ("bad" if bad[r][c] else "ok") if bad is not None else (
                    "exp" if title == "expected" else "fd")
                mark = "*" if cls == "bad" else ""
                cells.append(f'<td class="{cls}">{mark}{esc(value)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="grid"><thead><tr>{"".join(head)}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _level_class(level: int) -> tuple[str, str]:
    if level == NAN:
        return "lN", "N"
    if level == INF:
        return "lI", "I"
    return (f"l{level}", "") if level > 0 else (("l0", "") if level == 0 else ("", ""))


def heat_html(heat) -> str:
    """The heat map as a table of coloured cells, with its scale."""
    block = (f"; a cell is the worst of a {heat.block[0]} × {heat.block[1]} block"
             if heat.block != (1, 1) else "")
    rows = []
    for row in heat.levels:
        cells = "".join(f'<td class="{cls}">{mark}</td>'
                        for cls, mark in map(_level_class, row))
        rows.append(f"<tr>{cells}</tr>")
    legend = "".join(f'<span class="swatch {_level_class(level)[0]}"></span>{esc(meaning)}'
                     for level, meaning in level_legend(heat.levels))
    return (f'<p class="dim">relative error by element ({esc(heat.layout)}{block}; grey: within '
            f'tolerance)</p><table class="heat">{"".join(rows)}</table>'
            f'<p class="legend dim">{legend}</p>')


def worst_html(rows) -> str:
    """index | yours | expected | finite diff | abs error | rel error, worst first."""
    head = "".join(f"<th>{c}</th>" for c in ("index", "yours", "expected", "finite diff",
                                             "abs error", "rel error"))
    body = "".join(
        f"<tr><td>{index_str(r.index)}</td><td class=\"got\">{fmt(r.got)}</td>"
        f"<td class=\"exp\">{fmt(r.expected)}</td><td>{fmt(r.numerical)}</td>"
        f"<td>{fmt(r.error)}</td><td>{fmt(r.rel_error)}</td></tr>" for r in rows)
    return f'<table class="worst"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@register("html", "a self-contained web page of the report", for_people=True)
def write_html(reports, stream, options) -> None:
    if len(reports) == 1:
        title = f"gradcheck — {reports[0].submission}"
    else:
        title = f"gradcheck — {len(reports)} submissions"
    body = "".join(report_fragment(r, options, anchor=f"gc{i}" if len(reports) > 1 else "gc")
                   for i, r in enumerate(reports))
    stream.write(page(title, body))
