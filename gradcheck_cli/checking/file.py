"""``check_file`` (``gradcheck check``): a layer's backward in a file, checked in the sandbox
against finite differences of the learner's own forward.

The learner's code is never imported here: the reference is the finite-difference VJP of the
forward, evaluated in the worker process once per perturbed input (``session.py``).
"""

from __future__ import annotations

import time

from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import UsageError
from ..notebook import is_notebook, location, read_notebook
from ..report.model import Report
from .inputs import InputSpec, check_names, parse_input  # noqa: F401 - parse_input re-exported
from .options import STYLES, CheckOptions
from .session import Session

def check_file(path: str | Path, forward: str, backward: str | None,
               inputs: Sequence[InputSpec | tuple[str, tuple[int, ...]]],
               wrt: Sequence[str] | None = None, options: CheckOptions = CheckOptions(),
               params: Sequence[tuple[str, object]] = (),
               keywords: Sequence[tuple[str, object]] = (),
               progress: Callable[[int], None] | None = None) -> Report:
    """Check a layer's backward in a file against finite differences of its own forward.

    ``inputs`` names the forward's array arguments, their shapes and distributions, in order
    (``parse_input``); ``params`` follow them by position and ``keywords`` by name
    (``parse_param``): values that are not arrays, never differentiated, as are data inputs
    (labels). Simple style: ``backward(*inputs, *params, dz)`` returns the gradient(s) of
    ``wrt`` (default: every differentiable input), in that order. Pair style (CS231n):
    ``forward(*inputs, *params)`` returns ``(out, cache)`` and ``backward(dout, cache)`` a
    gradient for every input. Loss style (no ``backward``): ``forward(*inputs, *params)``
    returns ``(loss, grads)``. The learner's code runs only in the sandbox worker. The report
    has one entry per checked input. ``progress``, if given, is told the number of forward
    calls each request to the worker made, as they end (a long check is not silent).
    """
    return check_seeds(path, forward, backward, inputs, [options.seed], wrt, options, params,
                       keywords, progress)[0]


def check_seeds(path: str | Path, forward: str, backward: str | None,
                inputs: Sequence[InputSpec | tuple[str, tuple[int, ...]]], seeds: Sequence[int],
                wrt: Sequence[str] | None = None, options: CheckOptions = CheckOptions(),
                params: Sequence[tuple[str, object]] = (),
                keywords: Sequence[tuple[str, object]] = (),
                progress: Callable[[int], None] | None = None) -> list[Report]:
    """``check_file`` on inputs drawn from each of ``seeds``, in one worker: a report each."""
    from ..sandbox import SandboxOptions, Worker

    specs = [spec if isinstance(spec, InputSpec) else InputSpec(*spec) for spec in inputs]
    wrt = _check_inputs(specs, wrt, options, backward, list(params), list(keywords))
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"file not found: {path}",
                         hint="pass the Python file that defines your forward and backward")
    if is_notebook(path):
        read_notebook(path)     # one that is not a notebook is refused here, with exit 2
    _check_order(str(path), forward, specs, list(params))
    sandbox = SandboxOptions(timeout=options.timeout, memory_mb=options.memory_mb,
                             deadline=options.deadline, import_timeout=options.import_timeout)
    reports = []
    with Worker(str(path), sandbox) as worker:
        for seed in seeds:
            rng = np.random.default_rng(seed)
            arrays = {spec.name: spec.draw(rng) for spec in specs}
            session = Session(worker, forward, backward, specs, arrays, wrt,
                              replace(options, seed=seed), rng, params, keywords, progress)
            started = time.perf_counter()
            results = session.run()
            import_error = worker.import_error.message if worker.import_error else None
            reports.append(Report(submission=str(path), seed=seed, exercises=results,
                                  import_error=import_error, sandbox=worker.describe(),
                                  duration_s=time.perf_counter() - started))
    return reports


def _check_order(path: str, forward: str, inputs: list[InputSpec], params: list) -> None:
    """Refuse arrays (or parameters) that are all named as the forward's parameters but given
    in another order: they go to it by position, so each gradient would carry another's
    name (``--input w=... --input x=...`` for ``affine_forward(x, w, b)``)."""
    from ..grading.names import parameter_names

    found = parameter_names(path, forward)
    if found is None:
        return
    order, line = found
    for flag, given in (("--input", [spec.name for spec in inputs]),
                        ("--param", [name for name, _ in params])):
        wanted = sorted(given, key=lambda name: order.index(name) if name in order else -1)
        if set(given) <= set(order) and given != wanted:
            if is_notebook(path):       # the line of the notebook's text: its cell's
                cell, line = read_notebook(path).locate(line)
                path, line = location(path, line, cell), None
            raise UsageError(
                f"the {flag} values are given in the order {', '.join(given)}, but {forward} "
                f"takes them as {forward}({', '.join(order)}): they are passed by position",
                file=path, line=line,
                hint="give them in the forward's order: "
                     + " ".join(f"{flag} {name}=..." for name in wanted))


def _check_inputs(inputs: list[InputSpec], wrt, options: CheckOptions, backward: str | None,
                  params: list, keywords: list) -> tuple[str, ...]:
    """The checked inputs' names, after refusing a command line the check cannot run."""
    if options.style not in STYLES:
        raise UsageError(f"unknown style {options.style!r}", hint="use " + ", ".join(STYLES))
    if backward is None and options.style in ("simple", "pair"):
        raise UsageError(f"the {options.style} style needs --backward NAME",
                         hint="name your backward function, or leave --backward out for a "
                              "loss function that returns (loss, grads)")
    if backward is not None and options.style == "loss":
        raise UsageError("the loss style takes no --backward: the forward returns (loss, grads)",
                         hint="drop --backward, or choose --style pair or simple")
    names = [spec.name for spec in inputs]
    if not names:
        raise UsageError("no inputs: say what the forward takes",
                         hint="e.g. --input x=4,5 --input w=5,3 --input b=3 (in the order of "
                              "the forward's parameters)")
    check_names(inputs, params, keywords)
    data = [spec.name for spec in inputs if spec.is_data]
    for name in wrt or ():
        if name in data:
            raise UsageError(f"--wrt {name}: {name} is data ({inputs[names.index(name)]}), "
                             "never differentiated", hint="check the gradient of another input")
        if name not in names:
            raise UsageError(f"--wrt {name}: not one of the inputs ({', '.join(names)})",
                             hint="name an input given with --input")
    checked = tuple(wrt or [n for n in names if n not in data])
    if not checked:
        raise UsageError("every input is data (labels, one-hot rows): nothing to differentiate",
                         hint="give the scores or weights with --input NAME=SHAPE")
    # Each number of a checked input is perturbed four times, one call of the forward each.
    total = sum(int(np.prod(spec.shape, dtype=np.int64)) for spec in inputs
                if spec.name in checked)
    if total > options.max_elements:
        raise UsageError(f"the checked inputs hold {total:,} numbers; gradcheck check calls "
                         "your forward four times per number, in the sandbox, so it takes at "
                         f"most {options.max_elements:,}",
                         hint="use smaller shapes: a gradient bug shows on 4 x 5 arrays as well "
                              "as on 400 x 500")
    return checked
