"""What a class did, in numbers: scores, pass rates, and the mistakes ranked by how many made them.

Every number is counted from the members' JSON results and agrees with the gradebook: a learner
without a file to grade scores 0 (as in the gradebook) and a learner the grader failed on has no
score (an empty gradebook cell) and is left out of the statistics until regraded.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Sequence

from ..report.model import STATUSES
from .results import ClassResults, Member, graded

NOT_GRADED = "not graded"      # a learner with no file to grade: 0 points, no status


@dataclass(frozen=True)
class Bin:
    """A bar of a histogram: how many values fall in [low, high] (high open but for the last)."""

    low: float
    high: float
    count: int
    label: str


@dataclass
class Example:
    """One learner's instance of a mistake: the case, the message, and who (shown on request)."""

    member: Member
    case: str | None
    hidden: bool
    message: str


@dataclass
class MistakeStat:
    """A diagnosis on an exercise: how many learners got it, their share, one example."""

    id: str | None              # None: did not pass, and no mistake was recognised
    severity: str
    count: int
    share: float
    hint: str | None
    example: Example


@dataclass
class ExerciseStat:
    name: str
    title: str
    points: float
    counted: int                # learners with a score on it
    statuses: dict[str, int]
    pass_rate: float
    mean: float | None
    histogram: list[Bin]
    mistakes: list[MistakeStat]


@dataclass
class Row:
    """A learner in the class table: total and, per exercise, points and status."""

    member: Member
    total: float | None         # None: the grader failed on this one
    scores: dict[str, float | None]
    statuses: dict[str, str | None]
    status: str                 # the gradebook's status words

    @property
    def passed(self) -> bool:
        return self.member.doc is not None and bool(self.member.doc.get("passed"))


@dataclass
class ClassSummary:
    results: ClassResults
    rows: list[Row]
    scored: list[float]         # the totals that count (a grader error has none)
    mean: float | None
    median: float | None
    histogram: list[Bin]
    exercises: list[ExerciseStat]
    passed_all: int = 0
    not_graded: int = 0
    grader_errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def summarize(results: ClassResults) -> ClassSummary:
    """The statistics of a class, from its members' results."""
    rows = [_row(m, results) for m in results.members]
    scored = [r.total for r in rows if r.total is not None]
    summary = ClassSummary(
        results, rows, scored,
        mean=statistics.fmean(scored) if scored else None,
        median=statistics.median(scored) if scored else None,
        histogram=histogram(scored, results.max_score),
        exercises=[_exercise(e, rows) for e in results.exercises],
        passed_all=sum(r.passed for r in rows),
        not_graded=sum(1 for m in results.members if m.doc is None and m.internal is None),
        grader_errors=sum(1 for m in results.members if m.internal is not None))
    return summary


def _row(member: Member, results: ClassResults) -> Row:
    names = [e.name for e in results.exercises]
    status = graded(member).status()          # the gradebook's words
    if member.internal is not None:
        return Row(member, None, dict.fromkeys(names), dict.fromkeys(names), status)
    if member.doc is None:
        return Row(member, 0.0, dict.fromkeys(names, 0.0), dict.fromkeys(names), status)
    by_name = {ex["name"]: ex for ex in member.doc["exercises"]}
    scores = {n: float(by_name[n]["score"]) if n in by_name else 0.0 for n in names}
    statuses = {n: by_name[n]["status"] if n in by_name else None for n in names}
    total = round(sum(float(ex["score"]) for ex in member.doc["exercises"]), 6)
    return Row(member, total, scores, statuses, status)


def _exercise(info, rows: Sequence[Row]) -> ExerciseStat:
    counted = [r for r in rows if r.total is not None]
    statuses = {s: 0 for s in STATUSES}
    for r in counted:
        key = r.statuses[info.name] or NOT_GRADED
        statuses[key] = statuses.get(key, 0) + 1
    points = [r.scores[info.name] for r in counted]
    n = len(counted)
    return ExerciseStat(
        info.name, info.title or _title(info.name, rows), info.points, n,
        {s: c for s, c in statuses.items() if c or s in STATUSES},
        pass_rate=statuses["passed"] / n if n else 0.0,
        mean=statistics.fmean(points) if points else None,
        histogram=histogram(points, info.points),
        mistakes=_mistakes(info.name, counted, n))


def _title(name: str, rows: Sequence[Row]) -> str:
    for r in rows:
        for ex in (r.member.doc or {}).get("exercises", ()):
            if ex["name"] == name and ex.get("title"):
                return ex["title"]
    return ""


def _mistakes(name: str, rows: Sequence[Row], counted: int) -> list[MistakeStat]:
    """The diagnoses of one exercise, most learners first; each learner counts once per id."""
    found: dict[str | None, MistakeStat] = {}
    for r in rows:
        doc = r.member.doc
        ex = next((e for e in (doc or {}).get("exercises", ()) if e["name"] == name), None)
        if ex is None or (ex["status"] == "passed" and not ex.get("diagnoses")):
            continue
        ids = []
        for d in ex.get("diagnoses") or ():
            if d["id"] not in ids:
                ids.append(d["id"])
                _count(found, d["id"], d.get("severity", "error"), d.get("hint"), r.member,
                       ex, d.get("message") or "")
        named = [d for d in ex.get("diagnoses") or () if d.get("severity", "error") == "error"]
        if ex["status"] != "passed" and not named:
            _count(found, None, "error", None, r.member, ex, ex.get("error") or "")
    for stat in found.values():
        stat.share = stat.count / counted if counted else 0.0
    return sorted(found.values(), key=lambda s: (-s.count, s.id is None, s.id or ""))


def _count(found: dict, did, severity: str, hint, member: Member, ex: dict,
           message: str) -> None:
    if did in found:
        found[did].count += 1
        return
    found[did] = MistakeStat(did, severity, 1, 0.0, hint, _example(member, ex, did, message))


def _example(member: Member, ex: dict, did: str | None, message: str) -> Example:
    """The first case that shows the mistake: a visible one carrying it, else any failing one."""
    cases = ex.get("cases") or []
    carrying = [c for c in cases if any(d["id"] == did for d in c.get("diagnoses") or ())]
    # The exercise's diagnosis names the cases it holds on when not all (a hidden case's own
    # diagnoses are not in its result): one of those, never a case it does not hold on.
    named = next((d.get("cases") for d in ex.get("diagnoses") or ()
                  if d["id"] == did and d.get("cases")), None)
    failing = [c for c in cases if c["status"] != "passed"
               and (named is None or c["name"] in named)]
    case = (carrying or failing or [None])[0]
    if case is None:
        return Example(member, None, False, message)
    own = next((d.get("message") for d in case.get("diagnoses") or () if d["id"] == did), None)
    return Example(member, case["name"], bool(case.get("hidden")),
                   own or message or case.get("message") or "")


def histogram(values: Sequence[float], top: float) -> list[Bin]:
    """Bars over [0, top]: one per point when scores are whole points (up to 20), else ten."""
    top = float(top)
    if top <= 0:
        return [Bin(0.0, 0.0, len(values), "0")]
    if top.is_integer() and top <= 20 and all(float(v).is_integer() for v in values):
        return [Bin(float(k), float(k), sum(1 for v in values if v == k), str(k))
                for k in range(int(top) + 1)]
    width = top / 10
    counts = [0] * 10
    for v in values:
        counts[min(9, max(0, int(v / width)))] += 1
    return [Bin(i * width, (i + 1) * width, c, f"{_num(i * width)}–{_num((i + 1) * width)}")
            for i, c in enumerate(counts)]


def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")
