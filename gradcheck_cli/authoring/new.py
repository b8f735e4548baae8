"""``gradcheck new``: a commented spec skeleton that validates as written."""

from __future__ import annotations

import re
from pathlib import Path

from ..atomic import write_atomic
from ..errors import UsageError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

SKELETON = '''\
# An exercise for gradcheck. Every key is explained below; `gradcheck schema` prints the full
# format as a JSON Schema (editors with a YAML language server can use it for completion).
# Check the file with `gradcheck validate {name}.yaml`, see what learners see with
# `gradcheck show {name} --exercises {name}.yaml`.

# The id: `gradcheck run FILE.py -e {name}`. Letters, digits and _.
name: {name}
# One line, shown in `gradcheck list` and at the top of reports.
title: Gradient of a tanh layer with respect to its weights
# The set this exercise belongs to: `gradcheck run -e GROUP` runs the whole set.
group: my-course
# Topics, shown by `gradcheck list`; `-e TAG` selects by tag too.
tags: [layers]
# What the exercise is worth.
points: 2
# partial: the points are split over the cases; all-or-nothing: every case must pass.
scoring: partial
# The function the learner writes. The last parameter is always the upstream gradient dL/dz.
function: grad_{name}(x, w, dz)
# The forward pass, over the inputs, with the engine's ops (tanh, sigmoid, relu, softmax,
# conv2d, sum, mean, ...) and + - * / ** @ .T x[0, 1:]. It is parsed, never run as Python.
forward: tanh(x @ w)
# The input(s) the learner returns the gradient of. A list, e.g. [x, w], asks for a tuple.
wrt: w
# Markdown shown by `gradcheck show {name}`: the forward, the shapes, what dz is, a nudge.
description: |
  The forward pass of a small layer: `z = tanh(x @ w)`, with `x` of shape (n, d_in), `w` of
  shape (d_in, d_out) and `z` of shape (n, d_out). The upstream gradient `dz` is dL/dz and
  has the shape of `z`. Return dL/dw, which has the shape of `w`.
# Nudges shown to a learner whose answer is wrong.
hints:
  - "tanh'(a) = 1 - tanh(a)**2: multiply dz by it first, elementwise."
  - "Then the shapes decide the product: (d_in, n) @ (n, d_out) -> (d_in, d_out)."
# How close an answer must be follows its precision (float64: 9.1e-13, float32: 4.9e-4 of
# each output's largest element; `gradcheck show` says it). Raise the least relative
# tolerance only for a forward that is ill-conditioned at your inputs, e.g.
# tolerance: {{rtol: 1.0e-6}}; 0 adds nothing to the rule.
tolerance: {{rtol: 0.0}}
# Input values where the forward has no derivative (relu, abs: [0]). Random inputs keep
# `margin` away from them; literal inputs must not sit on them. tanh has none.
kinks: {{at: [], margin: 1.0e-3}}
# What the learner's function is called on.
cases:
  # A visible case: its inputs and expected gradient are shown by `gradcheck show`.
  # Inputs are numbers or nested lists; dz may be written out or left random.
  - name: worked-example
    inputs:
      x: [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]
      w: [[0.2, -0.3], [0.4, 0.1], [-0.1, 0.3]]
      dz: [[1.0, 2.0], [-1.0, 0.5]]
  # Hidden cases are graded but never shown. `repeat` makes copies (random-1, random-2, ...),
  # each with fresh random numbers for the run's --seed.
  - name: random
    hidden: true
    repeat: 3
    # Named sizes, drawn per case (LOW..HIGH, inclusive) and shared between shapes;
    # `distinct` makes them differ, so that square shapes cannot hide a transpose.
    dims: {{n: 2..5, d_in: 2..5, d_out: 2..5}}
    distinct: [n, d_in, d_out]
    inputs:
      # {{shape: [...]}} draws random numbers: dist normal (mean, scale), uniform (low, high),
      # positive or integers. A shape entry is a size, a range "2..5" or a name from dims.
      x: {{shape: [n, d_in]}}
      w: {{shape: [d_in, d_out], dist: normal, scale: 0.5}}
      # The upstream gradient always has the forward output's shape: `random` or {{dist: ...}}.
      dz: random
# Known wrong answers: a learner whose result matches one gets its message and hint.
# `gradient` is a formula over the inputs and dz, like `forward`.
mistakes:
  - id: forgot_activation_derivative
    gradient: x.T @ dz
    message: The result is x.T @ dz, the gradient of x @ w alone.
    hint: Multiply dz by tanh'(x @ w) = 1 - tanh(x @ w)**2 before the product with x.T.
  - id: tanh_derivative_not_squared
    gradient: x.T @ (dz * (1 - tanh(x @ w)))
    message: The result uses 1 - tanh(a) as the derivative of tanh; it is 1 - tanh(a)**2.
    hint: "d/da tanh(a) = 1 - tanh(a)**2: square the forward value."
'''


def new_spec(name: str, directory: str | Path = ".", *, force: bool = False) -> Path:
    """Write ``NAME.yaml``: a commented spec skeleton that validates as written."""
    if not _IDENTIFIER.match(name):
        raise UsageError(f"{name!r} is not a valid exercise name",
                         hint="use letters, digits and _, not starting with a digit, "
                              "e.g. tanh_layer")
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--dir {folder}: not a folder", hint="pass a folder to write into")
    path = folder / f"{name}.yaml"
    if path.exists() and not force:
        raise UsageError(f"{path} already exists", hint="pass --force to overwrite it, or "
                                                        "choose another name")
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(path, SKELETON.format(name=name))
    return path
