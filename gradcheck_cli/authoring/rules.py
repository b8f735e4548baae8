"""The rules ``gradcheck validate`` applies to every exercise that loaded: one
``@validation_rule`` function each, run on the cases drawn for several seeds.

A new rule is one decorated function here; it yields ``Problem``s (errors stop a release,
warnings are worth a look).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ..grading.alternatives import find_kinks
from ..grading.compare import compare
from .problems import Drawn, Problem, case_label, validation_rule

@validation_rule("kinks")
def _kinks(drawn: Drawn) -> Iterator[Problem]:
    """Inputs on a kink make the derivative a convention; literal ones must move off it.

    A kink is an op's (relu at 0, a tie in max) that the inputs sit on, or one near which
    finite differences disagreed with the engine. A value listed in the spec's `kinks` alone
    does not count: it applies to every input, also to those where it is harmless.
    """
    ex = drawn.exercise
    for sample in drawn.samples:
        if sample.reference is None:
            continue
        near = find_kinks(ex.forward_fn, sample.case.args)
        kinks = tuple(dict.fromkeys(near + tuple(sample.reference.kinks)))
        if not kinks:
            continue
        where = ", ".join(kinks)
        if sample.literal:
            yield Problem(ex.source_file, sample.case.line,
                          f"{case_label(sample)} has inputs at a kink ({where}), where the "
                          "derivative is not defined: the expected answer there is only a "
                          "convention", "move the literal inputs away from the kink",
                          key="kink")
        else:
            yield Problem(ex.source_file, sample.case.line,
                          f"{case_label(sample)}: the random inputs land at a kink ({where})",
                          "for a kink at a value (relu, abs) declare it, e.g. `kinks: {at: [0]}`, "
                          "so random inputs keep away; for ties (max, min, maximum) draw from a "
                          "continuous dist, not `integers`",
                          key="kink")


@validation_rule("mistakes")
def _mistakes(drawn: Drawn) -> Iterator[Problem]:
    """An authored mistake must fail at the exercise's tolerance on at least one case."""
    ex, tol = drawn.exercise, drawn.exercise.tolerance
    graded = [s for s in drawn.samples if s.reference is not None]
    for mistake in ex.mistakes:
        position = ex.wrt.index(mistake.wrt)
        computed, caught, right_on_visible = False, False, []
        for sample in graded:
            value = mistake.evaluate(sample.case)
            if value is None:        # shapes that do not fit: a learner's version would crash,
                caught = True        # so it fails here
                continue
            computed = True          # (a value of another shape than the input's fails too)
            if compare(value, sample.reference.expected[position], tol).passed:
                if not sample.case.hidden:
                    right_on_visible.append(sample.case.name)
            else:
                caught = True
        if not computed:
            yield Problem(ex.source_file, mistake.line,
                          f"mistake '{mistake.id}': `{mistake.gradient.source}` cannot be "
                          "computed on any case",
                          "check the formula's shapes against a case's inputs")
        elif not caught:
            yield Problem(ex.source_file, mistake.line,
                          f"mistake '{mistake.id}': `{mistake.gradient.source}` passes as the "
                          "right answer on every case at the exercise's tolerance (R = "
                          f"{tol.rtol_for(np.float64):.2g} of each output's largest element"
                          f"{f' + {tol.atol:g}' if tol.atol else ''}): a learner who makes it "
                          "would pass",
                          "fix the formula, or add a case where the two differ")
        elif right_on_visible:
            names = ", ".join(f"'{n}'" for n in dict.fromkeys(right_on_visible))
            yield Problem(ex.source_file, mistake.line,
                          f"mistake '{mistake.id}' gives the right answer on the visible "
                          f"case(s) {names}: a learner who makes it sees them pass and only "
                          "the other cases fail", "make the visible case one where the mistake "
                          "shows (e.g. non-square shapes, no symmetric inputs)",
                          severity="warning")


@validation_rule("gradient")
def _gradient_not_zero(drawn: Drawn) -> Iterator[Problem]:
    """A gradient that is zero on every case lets ``return np.zeros_like(x)`` pass."""
    ex = drawn.exercise
    graded = [s for s in drawn.samples if s.reference is not None]
    if not graded:
        return
    for k, name in enumerate(ex.wrt):
        if all(not np.any(s.reference.expected[k]) for s in graded):
            yield Problem(ex.source_file, ex.line,
                          f"the gradient with respect to '{name}' is zero on every case: an "
                          "answer of zeros would pass", "check that the forward depends on "
                          f"'{name}' and that the inputs are not all in a flat region")


@validation_rule("cases")
def _case_mix(drawn: Drawn) -> Iterator[Problem]:
    """Hidden random cases keep a hard-coded answer from passing; a visible one teaches."""
    ex = drawn.exercise
    specs = ex.case_specs
    if all(s.hidden for s in specs):
        yield Problem(ex.source_file, ex.line, "every case is hidden: `gradcheck show` has no "
                      "example to show the learner", "add a visible worked example",
                      severity="warning")
    if not any(s.hidden for s in specs):
        yield Problem(ex.source_file, ex.line, "no case is hidden: a learner sees every input "
                      "and could hard-code the answers", "add a case with `hidden: true` and "
                      "random inputs", severity="warning")
    if not any(i.is_random for s in specs for i in s.inputs.values()):
        yield Problem(ex.source_file, ex.line, "no case has random inputs: an answer that "
                      "ignores its inputs can pass", "add a hidden case with inputs like "
                      "`x: {shape: [3, 4]}`", severity="warning")
