"""What ``gradcheck check`` feeds the forward: arrays drawn from named distributions, then
parameters that are not arrays.

``--input NAME=SHAPE[:DIST]`` names an array input, its shape and the distribution its numbers
come from: a name of ``spec.distributions`` (the same names an exercise file uses), with its
parameters in the registry's order, ``normal(12, 5)`` being ``dist: normal, mean: 12,
scale: 5``. ``--param NAME=JSON`` is a parameter that is not an array (a dict such as CS231n's
``conv_param``, a number, a string...), passed after the arrays in the order given;
``--param-kw NAME=JSON`` passes one by keyword. Parameters and data inputs (labels, one-hot
rows) are never differentiated.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError
from ..spec.distributions import DISTRIBUTIONS, draw

_INPUT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([0-9,\sx×()]*?)\s*(?::\s*(.*?)\s*)?$")
_DIST = re.compile(r"^([A-Za-z_]+)\s*(?:\((.*)\))?$")
_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$", re.S)
_DISTS_HINT = ("distributions: normal, normal(mean,scale), uniform(low,high), positive, "
               "labels(C), onehot(C)")


@dataclass(frozen=True)
class InputSpec:
    """An array input of the forward: its name, shape and the distribution of its numbers."""

    name: str
    shape: tuple[int, ...]
    dist: str = "normal"
    params: dict = field(default_factory=dict)

    @property
    def is_data(self) -> bool:
        """Labels and one-hot rows are data: never differentiated."""
        return DISTRIBUTIONS[self.dist].data

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return draw(self.dist, rng, self.shape, self.params)

    def __str__(self) -> str:
        args = ",".join(f"{v:g}" for v in self.params.values())
        dist = "" if self.dist == "normal" and not self.params else \
            f":{self.dist}" + (f"({args})" if args else "")
        return f"{self.name}={','.join(map(str, self.shape))}{dist}"


def parse_input(text: str) -> InputSpec:
    """``"x=4,5"`` -> x of shape (4, 5), standard normal; ``"y=5:labels(10)"``; ``"s="``."""
    match = _INPUT.match(text)
    sizes = re.split(r"[,\sx×]+", match.group(2).strip(" ()")) if match else None
    try:
        shape = tuple(int(s) for s in sizes if s) if sizes is not None else None
    except ValueError:
        shape = None
    if match is None or shape is None or any(s < 1 for s in shape):
        raise UsageError(f"--input {text!r}: expected NAME=SHAPE[:DIST], e.g. x=4,5 or "
                         "x=4,5:positive",
                         hint="sizes are whole numbers >= 1 separated by commas; NAME= alone "
                              "is a scalar; " + _DISTS_HINT)
    dist, params = _parse_dist(text, match.group(3) or "normal")
    spec = InputSpec(match.group(1), shape, dist, params)
    problem = DISTRIBUTIONS[dist].fits(shape, {**DISTRIBUTIONS[dist].defaults, **params})
    if problem:
        raise UsageError(f"--input {text!r}: {problem}", hint="e.g. y=5,10:onehot(10)")
    return spec


def _parse_dist(text: str, written: str) -> tuple[str, dict]:
    match = _DIST.match(written)
    name = match.group(1) if match else written
    if name not in DISTRIBUTIONS:
        raise UsageError(f"--input {text!r}: unknown distribution {name!r}", hint=_DISTS_HINT)
    dist = DISTRIBUTIONS[name]
    raw = [a.strip() for a in (match.group(2) or "").split(",") if a.strip()] if match else []
    keys = list(dist.defaults)
    if len(raw) > len(keys):
        raise UsageError(f"--input {text!r}: {name} takes {len(keys)} parameter(s) "
                         f"({', '.join(keys) or 'none'}), got {len(raw)}",
                         hint=f"{name}: {dist.description}")
    try:
        params = {k: float(v) for k, v in zip(keys, raw)}
    except ValueError:
        raise UsageError(f"--input {text!r}: the parameters of {name} are numbers",
                         hint=f"e.g. {name}({', '.join(str(v) for v in dist.defaults.values())})"
                         ) from None
    problem = dist.check({**dist.defaults, **params})
    if problem:
        raise UsageError(f"--input {text!r}: {problem}", hint=f"{name}: {dist.description}")
    return name, params


def parse_param(text: str, option: str = "--param") -> tuple[str, object]:
    """``'conv_param={"stride": 1, "pad": 1}'`` -> ("conv_param", {"stride": 1, "pad": 1})."""
    match = _NAME.match(text)
    if match is None:
        raise UsageError(f"{option} {text!r}: expected NAME=JSON",
                         hint=f"""e.g. {option} conv_param='{{"stride": 1, "pad": 1}}' or """
                              f"{option} alpha=0.01")
    name, value = match.group(1), match.group(2).strip()
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        if re.fullmatch(r"[A-Za-z_][\w.-]*", value):
            parsed = value                    # a bare word is a string: mode=train
        else:
            raise UsageError(f"{option} {name}: {value!r} is not JSON ({exc})",
                             hint="quote the whole value for the shell and write JSON inside: "
                                  """'{"stride": 2, "pad": 0}', [1, 2], 0.5, true, "train\"""")\
                from None
    return name, parsed


def check_names(inputs: list[InputSpec], params: list[tuple[str, object]],
                keywords: list[tuple[str, object]]) -> None:
    """Every input and parameter named once."""
    names = [i.name for i in inputs] + [n for n, _ in params] + [n for n, _ in keywords]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"{repeated[0]} is given twice (as --input, --param or --param-kw)",
                         hint="name each input and parameter once")


def parameters(n_arrays: int, params, keywords, *, trailing: int = 0) -> dict:
    """The worker's placement of the parameters: after the ``n_arrays`` inputs, before any
    ``trailing`` arrays (dz), with ``keywords`` by name; the signature is checked first."""
    layout = ["a"] * n_arrays + [{"param": v, "name": n} for n, v in params] + ["a"] * trailing
    return {"layout": layout, "kwargs": dict(keywords), "bind": True}
