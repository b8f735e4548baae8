"""Numbers and shapes in words: the one place that decides how a report or a diagnosis says them."""

from __future__ import annotations

import numpy as np


def fmt(v: float | None) -> str:
    """A number in 6 significant digits, NaN/Inf spelled out."""
    if v is None:
        return "-"
    v = float(v)
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    text = f"{v:.6g}"
    return "0" if text == "-0" else text


def fmt_apart(a: float, b: float) -> tuple[str, str]:
    """``fmt`` of two numbers that differ, with as many more digits as it takes for the two
    texts to differ too (up to the 17 that tell any two float64 apart)."""
    first, second = fmt(a), fmt(b)
    if first != second or not (np.isfinite(a) and np.isfinite(b)) or float(a) == float(b):
        return first, second
    for digits in range(7, 18):
        first, second = f"{float(a):.{digits}g}", f"{float(b):.{digits}g}"
        if first != second:
            break
    return first, second


def rough(x: float) -> str:
    """A magnitude for prose: 0.22, 148, 1e-4."""
    if x == 0 or not np.isfinite(x):
        return fmt(x)
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 1e-2:
        return f"{x:.2g}"
    return sci(x)


def sci(x: float) -> str:
    """1e-3 rather than 1e-03."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def factor(c: float) -> str:
    """2, -3, 1/6 or 0.3718: a factor as a person would write it."""
    if c == 0:
        return "0"
    if abs(c) < 1 and abs(1 / c - round(1 / c)) < 1e-6:
        return f"{'-' if c < 0 else ''}1/{abs(round(1 / c))}"
    return f"{c:.4g}"


def elements(n: int) -> str:
    """'1 element', '3 elements'."""
    return f"{n} element" if n == 1 else f"{n} elements"


def shape_tuple(a) -> str:
    """The shape of an array (or a shape) as Python writes it: (2, 3), or '() (a scalar)'."""
    shape = tuple(np.shape(a)) if not isinstance(a, tuple) else a
    return "() (a scalar)" if shape == () else str(shape)


def describe_shape(shape: tuple[int, ...]) -> str:
    """A shape in words: 'a scalar', 'a vector of 3', 'a 2 × 3 matrix', 'a 2 × 3 × 4 array'."""
    shape = tuple(int(n) for n in shape)
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of {shape[0]}"
    kind = "matrix" if len(shape) == 2 else "array"
    return f"a {' × '.join(str(n) for n in shape)} {kind}"


def index_str(index: tuple[int, ...]) -> str:
    """An element's index: [2, 0]."""
    return "[" + ", ".join(str(i) for i in index) + "]"
