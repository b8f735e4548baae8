"""The random distributions a case can draw inputs from: one registry entry each.

A distribution names the parameters it takes (with defaults), checks them, and draws an array
of a given shape (float64, or int64 for class labels). The spec schema lists these names and
parameters, and ``gradcheck check --input x=4,5:NAME(a,b)`` gives the same parameters in the
same order, so a new entry here is accepted in exercise files, shown by ``gradcheck schema`` and
usable on the command line without further edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Distribution:
    """How to draw an input: parameters with defaults, a check of them, and the draw."""

    name: str
    description: str
    defaults: dict[str, float]
    draw: Callable[[np.random.Generator, tuple[int, ...], dict], np.ndarray]
    check: Callable[[dict], str | None] = field(default=lambda params: None)
    # Data rather than a variable (class labels, one-hot targets): never differentiated.
    data: bool = False
    # The draw's own dtype is kept (integer labels index arrays); others are float64.
    integer: bool = False
    fits: Callable[[tuple[int, ...], dict], str | None] = field(default=lambda shape, p: None)


DISTRIBUTIONS: dict[str, Distribution] = {}


def register(dist: Distribution) -> Distribution:
    """Add a distribution to the registry."""
    DISTRIBUTIONS[dist.name] = dist
    return dist


def _low_below_high(params: dict) -> str | None:
    if not params["low"] < params["high"]:
        return f"low ({params['low']}) must be below high ({params['high']})"
    return None


def _positive_range(params: dict) -> str | None:
    if params["low"] <= 0:
        return f"low ({params['low']}) must be above 0 for dist: positive"
    return _low_below_high(params)


def _integer_range(params: dict) -> str | None:
    if any(float(params[k]) != int(params[k]) for k in ("low", "high")):
        return "low and high must be whole numbers for dist: integers"
    if params["low"] > params["high"]:
        return f"low ({params['low']}) must not be above high ({params['high']})"
    return None


def _positive_scale(params: dict) -> str | None:
    return None if params["scale"] > 0 else f"scale ({params['scale']}) must be above 0"


register(Distribution(
    "normal", "Gaussian: mean + scale * N(0, 1)", {"mean": 0.0, "scale": 1.0},
    lambda rng, shape, p: p["mean"] + p["scale"] * rng.standard_normal(shape),
    _positive_scale))
register(Distribution(
    "uniform", "uniform on [low, high)", {"low": -1.0, "high": 1.0},
    lambda rng, shape, p: rng.uniform(p["low"], p["high"], size=shape),
    _low_below_high))
register(Distribution(
    "positive", "uniform on [low, high) with 0 < low: for log, sqrt, division",
    {"low": 0.5, "high": 2.0},
    lambda rng, shape, p: rng.uniform(p["low"], p["high"], size=shape),
    _positive_range))
register(Distribution(
    "integers", "whole numbers from low to high inclusive, as floats: easy to check by hand",
    {"low": -5, "high": 5},
    lambda rng, shape, p: rng.integers(int(p["low"]), int(p["high"]), size=shape,
                                       endpoint=True).astype(np.float64),
    _integer_range))


def _whole_classes(params: dict) -> str | None:
    classes = params["classes"]
    if float(classes) != int(classes) or classes < 1:
        return f"classes ({classes}) must be a whole number >= 1"
    return None


def _classes_last(shape: tuple[int, ...], params: dict) -> str | None:
    if not shape or shape[-1] != int(params["classes"]):
        return (f"a one-hot array's last axis is its {int(params['classes'])} classes; the "
                f"shape {shape} does not end with {int(params['classes'])}")
    return None


register(Distribution(
    "labels", "integer class labels in [0, classes): data, never differentiated",
    {"classes": 10},
    lambda rng, shape, p: rng.integers(0, int(p["classes"]), size=shape, dtype=np.int64),
    _whole_classes, data=True, integer=True))
register(Distribution(
    "onehot", "rows with a single 1 (the last axis has `classes` entries): data, never "
    "differentiated", {"classes": 10},
    lambda rng, shape, p: np.eye(int(p["classes"]))[
        rng.integers(0, int(p["classes"]), size=shape[:-1])],
    _whole_classes, data=True, fits=_classes_last))


def draw(name: str, rng: np.random.Generator, shape: tuple[int, ...], params: dict) -> np.ndarray:
    """Draw from the named distribution: an int64 array for integer ones, else float64."""
    dist = DISTRIBUTIONS[name]
    values = dist.draw(rng, shape, {**dist.defaults, **params})
    return np.asarray(values, dtype=np.int64 if dist.integer else np.float64)


def parameter_names() -> list[str]:
    """Every parameter some distribution takes, in registry order."""
    names: list[str] = []
    for dist in DISTRIBUTIONS.values():
        names += [k for k in dist.defaults if k not in names]
    return names
