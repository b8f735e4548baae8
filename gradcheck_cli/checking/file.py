"""``check_file`` (``gradcheck check``): a layer's backward in a file, checked in the sandbox
against finite differences of the learner's own forward.

The learner's code is never imported here: the reference is the finite-difference VJP of the
forward, evaluated in the worker process once per perturbed input (``session.py``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import UsageError
from ..notebook import is_notebook, read_notebook
from ..report.model import Report
from .options import STYLES, CheckOptions
from .session import Session

_SHAPE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([0-9,\sx×()]*)\s*$")


def parse_input(text: str) -> tuple[str, tuple[int, ...]]:
    """``"x=4,5"`` -> ``("x", (4, 5))``; ``"s="`` is a scalar."""
    match = _SHAPE.match(text)
    sizes = re.split(r"[,\sx×]+", match.group(2).strip(" ()")) if match else None
    try:
        shape = tuple(int(s) for s in sizes if s) if sizes is not None else None
    except ValueError:
        shape = None
    if match is None or shape is None or any(s < 1 for s in shape):
        raise UsageError(f"--input {text!r}: expected NAME=SHAPE, e.g. x=4,5",
                         hint="sizes are whole numbers >= 1 separated by commas; "
                              "NAME= alone is a scalar")
    return match.group(1), shape


def check_file(path: str | Path, forward: str, backward: str,
               inputs: Sequence[tuple[str, tuple[int, ...]]], wrt: Sequence[str] | None = None,
               options: CheckOptions = CheckOptions()) -> Report:
    """Check a layer's backward in a file against finite differences of its own forward.

    ``inputs`` names the forward's positional arguments and their shapes, in order; they are
    filled with standard normal numbers from the seed. Simple style: ``backward(*inputs, dz)``
    returns the gradient(s) of ``wrt`` (default: every input), in that order. Pair style
    (CS231n): ``forward(*inputs)`` returns ``(out, cache)`` and ``backward(dout, cache)`` a
    gradient for every input. The learner's code runs only in the sandbox worker. The report
    has one entry per checked input.
    """
    from ..sandbox import SandboxOptions, Worker

    names = _check_inputs(inputs, wrt, options)
    wrt = tuple(wrt or names)
    if options.style not in STYLES:
        raise UsageError(f"unknown style {options.style!r}", hint="use auto, simple or pair")
    rng = np.random.default_rng(options.seed)
    arrays = {name: rng.standard_normal(shape) for name, shape in inputs}
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"file not found: {path}",
                         hint="pass the Python file that defines your forward and backward")
    if is_notebook(path):
        read_notebook(path)     # one that is not a notebook is refused here, with exit 2
    sandbox = SandboxOptions(timeout=options.timeout, memory_mb=options.memory_mb,
                             deadline=options.deadline)
    with Worker(str(path), sandbox) as worker:
        session = Session(worker, forward, backward, arrays, wrt, options, rng)
        results = session.run()
        import_error = worker.import_error.message if worker.import_error else None
        described = worker.describe()
    return Report(submission=str(path), seed=options.seed, exercises=results,
                  import_error=import_error, sandbox=described)


def _check_inputs(inputs, wrt, options: CheckOptions) -> list[str]:
    names = [name for name, _ in inputs]
    if not names:
        raise UsageError("no inputs: say what the forward takes",
                         hint="e.g. --input x=4,5 --input w=5,3 --input b=3 (in the order of "
                              "the forward's parameters)")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"--input {repeated[0]} is given twice", hint="name each input once")
    for name in wrt or ():
        if name not in names:
            raise UsageError(f"--wrt {name}: not one of the inputs ({', '.join(names)})",
                             hint="name an input given with --input")
    # Each number of a checked input is perturbed twice, one call of the forward each.
    total = sum(int(np.prod(shape, dtype=np.int64)) for name, shape in inputs
                if name in (wrt or names))
    if total > options.max_elements:
        raise UsageError(f"the checked inputs hold {total:,} numbers; gradcheck check calls "
                         "your forward twice per number, in the sandbox, so it takes at most "
                         f"{options.max_elements:,}",
                         hint="use smaller shapes: a gradient bug shows on 4 x 5 arrays as well "
                              "as on 400 x 500")
    return names
