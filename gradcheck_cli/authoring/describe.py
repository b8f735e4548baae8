"""``gradcheck show``: the learner's view of an exercise, as Markdown (never hidden inputs)."""

from __future__ import annotations

import json

import numpy as np

from ..report.numbers import fmt
from ..spec import Case, Exercise
from .problems import plural

def describe_exercise(exercise: Exercise, seed: int = 0, source: str | None = None) -> str:
    """The learner's view of an exercise as Markdown: text, signature, visible cases, hints.

    ``source`` is the spec file or folder the exercise was read from when it is not the shipped
    catalog (``--exercises``): the command the text suggests must name it to find the exercise.
    """
    ex = exercise
    lines = [f"# {ex.title}", ""]
    facts = [f"`{ex.name}`", f"{ex.points:g} point{'' if ex.points == 1 else 's'}"]
    if ex.group:
        facts.append(f"group {ex.group}")
    if ex.tags:
        facts.append("tags: " + ", ".join(ex.tags))
    lines += [" · ".join(facts), ""]
    if ex.description.strip():
        lines += [ex.description.rstrip(), ""]
    lines += ["## What you write", "", "```python", *_written(ex), "```", "",
              _style_sentence(ex) + _wrt_sentence(ex), ""]
    cases = ex.generate_cases(seed)
    visible = [c for c in cases if not c.hidden]
    random_names = {n for s in ex.case_specs if any(i.is_random for i in
                                                    (*s.inputs.values(), s.dz))
                    for n in s.case_names()}
    for case in visible:
        lines += _case_section(ex, case, seed if case.name in random_names else None)
    hidden = [c.name for c in cases if c.hidden]
    if hidden:
        lines += [f"Also graded: {plural(len(hidden), 'hidden case')} "
                  f"({', '.join(hidden)}) with other values and shapes; their inputs are not "
                  "shown.", ""]
    if ex.hints:
        lines += ["## Hints", ""] + [f"- {hint}" for hint in ex.hints] + [""]
    tol = ex.tolerance
    rule = tol.describe()
    lines += [f"Tolerance: {rule[:1].upper()}{rule[1:]} Check your file with "
              f"`{run_command(ex.name, source)}`."]
    return "\n".join(lines) + "\n"


def run_command(name: str, source: str | None = None) -> str:
    """The command that checks a learner's file on this exercise, from where it was read."""
    import shlex

    where = f" --exercises {shlex.quote(source)}" if source is not None else ""
    return f"gradcheck run FILE.py -e {name}{where}"


def _written(ex: Exercise) -> list[str]:
    """The learner's function(s), as they return what the exercise asks."""
    if ex.style == "pair":
        return [f"def {ex.signature}:", "    return out, cache", "", "",
                f"def {ex.backward_signature}:", f"    return {_returned(ex)}"]
    if ex.style == "loss":
        return [f"def {ex.signature}:", f"    return loss, {_returned(ex)}"]
    return [f"def {ex.signature}:", f"    return {_returned(ex)}"]


def _style_sentence(ex: Exercise) -> str:
    given = ""
    if ex.param_values:
        given = " " + ", ".join(f"`{k}` is `{json.dumps(v)}`"
                                for k, v in ex.param_values.items()) + "."
    if ex.style == "loss":
        return (f"The loss is `{ex.forward.source}`.{given} Return it with its gradients. ")
    if ex.style == "pair":
        return (f"The forward computes `{ex.forward.source}` and returns it with a cache of "
                f"your choice; the backward gets `{ex.dz_name}`, the gradient of the loss with "
                f"respect to that output (of its shape), and the cache.{given} ")
    return (f"The forward is `{ex.forward.source}`; `{ex.dz_name}` is the gradient of the loss "
            f"with respect to its output and has the output's shape.{given} ")


def _returned(ex: Exercise) -> str:
    names = [f"d{name}" for name in ex.wrt]
    return names[0] if len(names) == 1 else ", ".join(names)


def _wrt_sentence(ex: Exercise) -> str:
    if len(ex.wrt) == 1:
        name = ex.wrt[0]
        return f"Return dL/d{name}, the gradient with respect to `{name}`, shaped like `{name}`."
    names = ", ".join(f"dL/d{n}" for n in ex.wrt)
    return f"Return a tuple ({names}), each shaped like its input."


def _case_section(ex: Exercise, case: Case, seed: int | None) -> list[str]:
    drawn = f" (random inputs, drawn with seed {seed}; `--seed` draws others)" \
        if seed is not None else ""
    values = dict(case.inputs) if ex.style == "loss" else {**case.inputs, ex.dz_name: case.dz}
    pad = max(len(n) for n in values)
    lines = [f"## Case `{case.name}`{drawn}", "", "```text"]
    lines += [f"{name:<{pad}} = {_array_text(value, pad + 3)}" for name, value in values.items()]
    lines += ["```", "", "Expected:", "", "```text"]
    gradients = ex.gradients(case)
    pad = max(len(f"dL/d{n}") for n in ex.wrt)
    lines += [f"{'dL/d' + name:<{pad}} = {_array_text(g, pad + 3)}"
              for name, g in zip(ex.wrt, gradients)]
    return lines + ["```", ""]


def _array_text(a: np.ndarray, indent: int) -> str:
    text = np.array2string(np.asarray(a, dtype=np.float64), separator=", ",
                           formatter={"float_kind": fmt}, max_line_width=96 - indent,
                           threshold=400, edgeitems=4)
    return text.replace("\n", "\n" + " " * indent)
