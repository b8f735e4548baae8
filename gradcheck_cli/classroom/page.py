"""The class report: one self-contained HTML file a teacher opens from disk or a CI artifact.

From the top: the score histogram with the mean and median; per exercise its pass rate, its
points and the mistakes ranked by how many learners made them, each with one example (the
learner's name shown only with ``names``, so the page can be put on a projector); a sortable
table of learners; and each learner's own report (the ``html`` format), which the table links to.
Every number is also in a machine-readable attribute (``data-value``, ``<data value>``), the
one script is allowed by its hash, and nothing is ever fetched.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from ..atomic import write_atomic
from ..report.formats import html
from ..report.formats import RenderOptions
from ..report.formats.html import badge, esc
from . import assets
from .charts import histogram_svg
from .results import ClassResults, report_from_json
from .summary import NOT_GRADED, ClassSummary, ExerciseStat, MistakeStat, summarize

STATUS_COLUMNS = ("passed", "failed", "error", "timeout", "missing")


def write_class_report(path: Path, results: ClassResults, *, names: bool = False) -> None:
    """Write the class report of ``results`` to ``path`` atomically."""
    write_atomic(path, class_report_html(results, names=names))


def class_report_html(results: ClassResults, *, names: bool = False) -> str:
    """The class report of ``results`` as one HTML document."""
    summary = summarize(results)
    body = "\n".join([_header(summary), _scores(summary), _exercises(summary, names),
                      _learners(summary), _reports(summary)])
    digest = base64.b64encode(hashlib.sha256(assets.SCRIPT.encode()).digest()).decode()
    csp = f"{html.CSP}; script-src 'sha256-{digest}'"
    return html.page(f"gradcheck class report — seed {results.seed}", body,
                     css=html.CSS + assets.CSS, script=assets.SCRIPT, csp=csp)


def _num(x: float | None) -> str:
    """A number as the gradebook writes it: 2, 0.666667, 12.5."""
    if x is None:
        return ""
    return f"{float(x):.6f}".rstrip("0").rstrip(".")


def _short(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}".rstrip("0").rstrip(".")


def _pct(x: float) -> str:
    return f"{round(100 * x)} %"


def _header(s: ClassSummary) -> str:
    r = s.results
    shard = ""
    if r.shard.count > 1:
        shard = (f'<p class="dim">shard {r.shard}: {len(r.members)} of the class\'s {r.size} '
                 "submissions (merge the shards with <code>gradcheck merge</code>)</p>")
    return (f'<header class="class"><h1>Class report</h1><p class="dim">{len(r.members)} '
            f"learner(s) · {len(r.exercises)} exercise(s) · {_num(r.max_score)} points · seed "
            f"{r.seed} · gradcheck {esc(r.version)}</p>{shard}</header>\n"
            '<nav class="toc"><a href="#scores">Scores</a><a href="#exercises">Exercises</a>'
            '<a href="#learners">Learners</a><a href="#reports">Reports</a></nav>')


def _scores(s: ClassSummary) -> str:
    r, n = s.results, len(s.rows)
    stats = [("learners", f'<data id="learner-count" value="{n}">{n}</data>'),
             ("mean", f'<data id="mean" value="{_num(s.mean)}">{_short(s.mean)}</data> / '
                      f"{_num(r.max_score)}"),
             ("median", f'<data id="median" value="{_num(s.median)}">{_short(s.median)}</data>'),
             ("passed everything", f'<data id="passed-all" value="{s.passed_all}">'
                                   f"{s.passed_all}</data> ({_pct(s.passed_all / n if n else 0)})")]
    if s.not_graded:
        stats.append(("no file to grade (0 points)",
                      f'<data id="not-graded" value="{s.not_graded}">{s.not_graded}</data>'))
    if s.grader_errors:
        stats.append(("grader errors (no score: regrade)",
                      f'<data id="grader-errors" value="{s.grader_errors}">'
                      f"{s.grader_errors}</data>"))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in stats)
    chart = histogram_svg(s.histogram, top=r.max_score, mean=s.mean, median=s.median,
                          label=f"Scores of {len(s.scored)} learner(s), out of "
                                f"{_num(r.max_score)} points", element_id="score-histogram")
    return (f'<section id="scores"><h2>Scores</h2><div class="overview"><dl class="stats">{dl}'
            f"</dl><figure>{chart}<figcaption class=\"dim\">learners by total score</figcaption>"
            "</figure></div></section>")


def _exercises(s: ClassSummary, names: bool) -> str:
    extra = [NOT_GRADED] if s.not_graded else []
    head = "".join(f'<th class="num">{c}</th>' for c in (*STATUS_COLUMNS, *extra))
    rows = []
    for e in s.exercises:
        counts = "".join(f'<td class="num" data-status="{st}" data-value="{e.statuses.get(st, 0)}">'
                         f"{e.statuses.get(st, 0)}</td>" for st in (*STATUS_COLUMNS, *extra))
        top = e.mistakes[0] if e.mistakes and e.mistakes[0].id else None
        rows.append(
            f'<tr data-exercise="{esc(e.name)}"><td><a href="#exercise-{esc(e.name)}">'
            f'{esc(e.name)}</a></td><td class="num">{_num(e.points)}</td>'
            f'<td class="num" data-key="pass-rate" data-value="{_num(e.pass_rate)}">'
            f'<span class="rate"><span style="width:{100 * e.pass_rate:.1f}%"></span></span>'
            f"{_pct(e.pass_rate)}</td>{counts}"
            f'<td class="num" data-key="mean" data-value="{_num(e.mean)}">{_short(e.mean)}</td>'
            f"<td>{_top(top, e)}</td></tr>")
    table = (f'<table class="data" id="exercise-table"><thead><tr><th>exercise</th>'
             f'<th class="num">points</th><th class="num">pass rate</th>{head}'
             f'<th class="num">mean</th><th>most common mistake</th></tr></thead>'
             f"<tbody>{''.join(rows)}</tbody></table>")
    return ('<section id="exercises"><h2>Exercises</h2>' + table
            + "".join(_exercise(e, names) for e in s.exercises) + "</section>")


def _top(m: MistakeStat | None, e: ExerciseStat) -> str:
    if m is None:
        return '<span class="dim">—</span>'
    return f"<code>{esc(m.id)}</code> ({m.count}, {_pct(m.share)})"


def _exercise(e: ExerciseStat, names: bool) -> str:
    chart = histogram_svg(e.histogram, top=e.points, mean=e.mean, width=360, height=160,
                          label=f"Points on {e.name}, out of {_num(e.points)}",
                          element_id=f"points-{e.name}")
    if e.mistakes:
        rows = "".join(_mistake_row(m, names) for m in e.mistakes)
        mistakes = ('<table class="data mistakes"><thead><tr><th>mistake</th>'
                    '<th class="num">learners</th><th class="num">share</th><th>example</th>'
                    f"</tr></thead><tbody>{rows}</tbody></table>")
    else:
        mistakes = '<p class="dim">No mistakes: everyone graded on it passed.</p>'
    title = f" — {esc(e.title)}" if e.title else ""
    return (f'<section class="exercise" id="exercise-{esc(e.name)}" '
            f'data-exercise="{esc(e.name)}"><h3>{esc(e.name)}{title}</h3>'
            f'<p>pass rate <data value="{_num(e.pass_rate)}">{_pct(e.pass_rate)}</data> '
            f"({e.statuses.get('passed', 0)} of {e.counted}) · mean {_short(e.mean)} of "
            f'{_num(e.points)} points</p><div class="cols"><figure>{chart}</figure>'
            f"{mistakes}</div></section>")


def _mistake_row(m: MistakeStat, names: bool) -> str:
    ex = m.example
    if m.id is None:
        label = '<span class="dim">not passed, no mistake recognised</span>'
    else:
        severity = f' <span class="dim">({esc(m.severity)})</span>' if m.severity != "error" else ""
        label = f'<code class="did">{esc(m.id)}</code>{severity}'
    where = f"case <b>{esc(ex.case)}</b>{' (hidden)' if ex.hidden else ''}" if ex.case else ""
    message = ex.message if names else _anonymous(ex.message, ex.member)
    who = (f' — <a href="#learner-{esc(ex.member.key)}">{esc(ex.member.key)}</a>' if names
           else "")
    hint = f'<span class="hint">→ {esc(m.hint)}</span>' if m.hint else ""
    return (f'<tr data-id="{esc(m.id or "")}"><td>{label}</td>'
            f'<td class="num" data-key="count" data-value="{m.count}">{m.count}</td>'
            f'<td class="num" data-key="share" data-value="{_num(m.share)}">{_pct(m.share)}</td>'
            f'<td class="example">{where}{who}<span class="msg">{esc(message)}</span>{hint}'
            "</td></tr>")


def _anonymous(text: str, member) -> str:
    """``text`` without the paths that would name the learner."""
    doc = member.doc or {}
    for name in sorted({member.file, member.label, doc.get("submission") or ""}, key=len,
                       reverse=True):
        if len(name) > 1:
            text = text.replace(name, "<submission>")
    return text


def _learners(s: ClassSummary) -> str:
    r = s.results
    head = ['<th data-key="name">learner</th>',
            '<th class="num" data-key="score" data-type="number">score</th>']
    head += [f'<th data-key="exercise-{esc(e.name)}" data-type="number">{esc(e.name)}</th>'
             for e in r.exercises]
    head.append('<th data-key="status">status</th>')
    rows = []
    for row in s.rows:
        m = row.member
        cells = [f'<td data-sort="{esc(m.key)}"><a href="#learner-{esc(m.key)}" '
                 f'title="{esc(m.label)}">{esc(m.key)}</a></td>',
                 f'<td class="num" data-sort="{_num(row.total)}" data-value="{_num(row.total)}">'
                 f"{_num(row.total) or '—'}</td>"]
        for e in r.exercises:
            points, status = row.scores[e.name], row.statuses[e.name]
            cells.append(f'<td data-sort="{_num(points)}" data-value="{_num(points)}" '
                         f'data-status="{status or ""}">{badge(status)} {_num(points)}</td>')
        cells.append(f'<td class="status">{esc(row.status)}</td>')
        rows.append(f'<tr data-index="{m.index}" data-key="{esc(m.key)}">{"".join(cells)}</tr>')
    return ('<section id="learners"><h2>Learners</h2><p class="dim">Click a column to sort; '
            "a name opens that learner's report.</p>"
            '<table class="data sortable learners" id="learner-table"><thead><tr>'
            f"{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>")


def _reports(s: ClassSummary) -> str:
    options = RenderOptions()
    out = ['<section id="reports"><h2>Reports</h2>']
    for row in s.rows:
        m = row.member
        if m.doc is not None:
            inner = html.report_fragment(report_from_json(m.doc), options,
                                         anchor=f"report-{m.key}", heading="h3")
        else:
            inner = f"<p>{esc(row.status)}</p>"
        out.append(f'<details class="learner" id="learner-{esc(m.key)}"><summary>'
                   f"{esc(m.key)} — {_num(row.total) or '—'}/{_num(s.results.max_score)} — "
                   f"{esc(row.status)}</summary>{inner}"
                   '<p class="back"><a href="#learners">back to the table</a></p></details>')
    out.append("</section>")
    return "\n".join(out)
