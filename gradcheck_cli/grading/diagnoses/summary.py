"""An exercise's diagnoses, judged on all of its failing cases.

A case's diagnoses are true of that case. The exercise states one plainly only when it holds on
every failing case where it can be judged: a detector of answers on every case that returned
one, the wording of a failed call on every failing case. When none does, each that holds
somewhere is stated with the cases it holds on, most widely true first; when one does, the
diagnoses true of some cases only are left to those cases (a scalar worked example can make a
sign error look like the forward output, too). A case where a diagnosis cannot be judged (an
authored formula that does not fit its shapes, a probe the learner's code did not answer) does
not count against it.
"""

from __future__ import annotations

import re
from typing import Sequence

from ...report.model import CaseResult, Diagnosis
from .registry import DETECTORS, NAMES_THE_ANSWER, _specificity, rank


def summarize(cases: Sequence[CaseResult], across: Sequence[Diagnosis]) -> list[Diagnosis]:
    """The exercise-level diagnoses of ``cases`` (``across``: the across-cases detectors')."""
    failing = [c for c in cases if c.status != "passed"]
    answered = [c.name for c in failing if c.got is not None]
    holds: dict[str, list[str]] = {}
    first: dict[str, Diagnosis] = {}
    notes: list[Diagnosis] = []
    for case in cases:
        for d in case.diagnoses:
            if d.severity == "warning":
                notes.append(d)           # warnings (an input changed in place) stand alone
                continue
            first.setdefault(d.id, d)
            holds.setdefault(d.id, []).append(case.name)
    full, partial, events, infos = [], [], [], []
    for ident, names in holds.items():
        if first[ident].severity == "info":
            # A note (close, at a kink) is said whatever else holds, with its cases if not all.
            judged = [c.name for c in failing if c.name in answered]
            infos.append(first[ident] if set(judged) <= set(names)
                         else _on_cases(first[ident], names))
            continue
        if not _judges_answers(ident):
            # A failed call (an exception, a timeout) is an event, not a judgment: always said,
            # with the cases it happened on when not all.
            failed = [c.name for c in failing]
            events.append(first[ident] if set(failed) <= set(names)
                          else _on_cases(first[ident], names))
            continue
        judged = [c.name for c in failing if c.name in answered and ident not in c.unjudged]
        if set(judged) <= set(names):
            full.append(first[ident])
        else:
            partial.append((len(names), ident, names))
    # The exercise's own mistake, true of an output on every failing case, names it: the
    # generic words for the same output (the upstream gradient returned, a factor of 2) go.
    named = {d.output for d in full if d.id not in DETECTORS and d.output}
    full = [d for d in full if d.id not in DETECTORS or d.output not in named]
    full = [_one_factor(d, cases) if d.id == "scaled" else d for d in full]
    if full:
        # What the answer is (minus the gradient, the forward...) says more than what it does
        # wrong (not linear in dz, a shape): the weaker ones go when a stronger one holds.
        strong = [d for d in full if _specificity(d.id) >= NAMES_THE_ANSWER]
        found = strong or full
    else:
        partial.sort(key=lambda item: -item[0])
        found = [_on_cases(first[ident], names) for _, ident, names in partial]
    return [*rank([*across, *found, *events, *infos]), *rank(notes)]


_SCALED = re.compile(r"^(?P<yours>.*?) is (?P<c>\S+) × (?P<of>.*?)\.$", re.S)


def _one_factor(d: Diagnosis, cases: Sequence[CaseResult]) -> Diagnosis:
    """``scaled`` as the exercise states it: one factor where every case has the same, else
    each case's (a factor that changes with the case is a count, not a constant)."""
    factors = [(c.name, m.group("c"), c.hidden) for c in cases for x in c.diagnoses
               if x.id == "scaled" and x.output == d.output
               for m in [_SCALED.match(x.message)] if m]
    found = _SCALED.match(d.message)
    if found is None or len({f for _, f, _ in factors}) < 2:
        return d
    # The hidden cases' factors would tell their sizes: they are only counted.
    shown = [(name, f) for name, f, hidden in factors if not hidden]
    each = ", ".join(f"{f} on {name!r}" for name, f in shown[:4]) \
        + (", …" if len(shown) > 4 else "")
    if len(shown) < len(factors):
        each += ("; " if each else "") + "others on the hidden cases"
    values = [f for _, f, _ in factors]
    if all(re.fullmatch(r"1/\d+", f) for f in values):
        hint = ("Each factor is 1 over a count of its case (the length of an axis, or of "
                "several): look for a mean used where the forward pass sums.")
    elif all(re.fullmatch(r"\d+", f) for f in values):
        hint = ("Each factor is a count of its case (the length of an axis, or of several): "
                "look for a sum used where the forward pass takes a mean.")
    else:
        hint = ("A factor that changes with the case is a count or a value of the case: a "
                "mean's divisor (N against N - 1), a sum over the wrong number of elements, "
                "or the upstream gradient left out.")
    return Diagnosis(
        "scaled", f"{found.group('yours')} is a multiple of {found.group('of')}, but by a "
                  f"factor that changes from case to case ({each}).",
        hint, d.severity, d.cases, output=d.output)


def _judges_answers(ident: str) -> bool:
    """Whether a diagnosis judges the learner's answers (else it words a failed call)."""
    det = DETECTORS.get(ident)
    return det is None or det.level == "output"       # authored mistakes judge answers too


def _on_cases(d: Diagnosis, names: list[str]) -> Diagnosis:
    where = (f"case {names[0]!r}" if len(names) == 1
             else "cases " + ", ".join(repr(n) for n in names))
    message = f"On {where} only: {d.message[:1].lower()}{d.message[1:]}"
    return Diagnosis(d.id, message, d.hint, d.severity, list(names))
