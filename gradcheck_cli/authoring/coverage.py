"""Rules about what an exercise's cases can show: sizes its description promises, answers of
zeros that pass, authored mistakes that look alike on the worked example. All are warnings: the
exercise works, but some mistake may go unseen (or be named wrongly) on some seeds.
"""

from __future__ import annotations

import re
from itertools import combinations
from typing import Iterator

import numpy as np

from ..grading.compare import compare
from .problems import Drawn, Problem, case_label, validation_rule

# "some of odd size", "when H or W is odd", "odd and even widths": a promise about sizes.
_PROMISES = {
    "odd": re.compile(r"\bodd\b", re.IGNORECASE),
    "even": re.compile(r"\b(odd\s+(and|or)\s+even|even\s+(and|or)\s+odd|even\s+(size|sizes|"
                       r"width|widths|height|heights|length|lengths|side|sides))\b",
                       re.IGNORECASE),
}


@validation_rule("size classes")
def _size_classes(drawn: Drawn) -> Iterator[Problem]:
    """Sizes the description promises must be in the hidden cases on every seed, not by luck."""
    ex = drawn.exercise
    for parity, pattern in _PROMISES.items():
        if not pattern.search(ex.description or ""):
            continue
        want = 1 if parity == "odd" else 0
        if any(spec.hidden and want in _sure_parities(spec) for spec in ex.case_specs):
            continue
        yield Problem(ex.source_file, ex.line,
                      f"the description promises {parity} sizes, but on some seeds the hidden "
                      f"cases can all miss them: a random range may draw no {parity} size",
                      f"add a hidden case with `sizes:` that fixes an {parity} size (e.g. "
                      "`sizes: [{rows: 5, cols: 6}, {rows: 6, cols: 7}]`)",
                      severity="warning")


def _sure_parities(spec) -> set[int]:
    """The parities (1 odd, 0 even) of the sizes every seed draws for this case entry."""
    fixed = [dims for dims in spec.sizes] if spec.sizes else [spec.dims]
    found: set[int] = set()
    for dims in fixed:
        found |= {low % 2 for low, high in dims.values() if low == high}
    return found


@validation_rule("zero answer")
def _zero_answer_passes(drawn: Drawn) -> Iterator[Problem]:
    """An answer of zeros must not pass any case (unless the gradient is zero on all of them,
    which the gradient rule reports as an error)."""
    ex = drawn.exercise
    graded = [s for s in drawn.samples if s.reference is not None]
    for k, name in enumerate(ex.wrt):
        zero = [s for s in graded if compare(np.zeros_like(s.reference.expected[k]),
                                             s.reference.expected[k], ex.tolerance).passed]
        if zero and len(zero) < len(graded):
            yield Problem(ex.source_file, zero[0].case.line,
                          f"{case_label(zero[0])}: an answer of zeros passes as the gradient "
                          f"with respect to '{name}'", "draw inputs where the gradient is not "
                          "zero (away from flat regions, with dz not all 0)", severity="warning",
                          key=f"zero answer {name}")


@validation_rule("worked example")
def _mistakes_alike_on_visible_cases(drawn: Drawn) -> Iterator[Problem]:
    """Two authored mistakes with the same value on a visible case: the learner who makes one
    is told the other (the right answer coinciding with one is the mistakes rule's warning)."""
    ex = drawn.exercise
    match = ex.tolerance.matching()
    for sample in drawn.samples:
        if sample.case.hidden or not sample.literal or sample.reference is None:
            continue
        values = [(m, m.evaluate(sample.case)) for m in ex.mistakes]
        values = [(m, v) for m, v in values if v is not None]
        for (a, va), (b, vb) in combinations(values, 2):
            if a.wrt == b.wrt and va.shape == vb.shape and compare(va, vb, match).passed:
                yield Problem(ex.source_file, b.line,
                              f"mistakes '{a.id}' and '{b.id}' give the same answer on the "
                              f"visible {case_label(sample)}: a learner who makes one of them "
                              "is told it may be the other", "choose worked-example inputs "
                              "where the two differ (no symmetric or square coincidences)",
                              severity="warning", key=f"alike {a.id} {b.id}")
