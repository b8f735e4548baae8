"""Numbers, shapes and places in words, for the diagnoses' messages."""

from __future__ import annotations

import numpy as np


def _shape(a) -> str:
    shape = tuple(np.shape(a)) if not isinstance(a, tuple) else a
    return "() (a scalar)" if shape == () else str(shape)


def _factor(c: float) -> str:
    """2, -3, 1/6 or 0.3718: a factor as a person would write it."""
    if abs(c) < 1 and abs(1 / c - round(1 / c)) < 1e-6:
        return f"{'-' if c < 0 else ''}1/{abs(round(1 / c))}"
    return f"{c:.4g}"


def _rough(x: float) -> str:
    """A magnitude for prose: 0.22, 148, 2e-3."""
    return f"{x:.2g}" if abs(x) >= 1e-2 else _sci(x)


def _sci(x: float) -> str:
    """1e-3 rather than 1e-03."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _elements(n: int) -> str:
    return f"{n} element" if n == 1 else f"{n} elements"


def _where(frames: list[dict]) -> str:
    if not frames:
        return ""
    last = frames[-1]
    source = (last.get("source") or "").strip()
    text = f" at line {last.get('line')}" if last.get("line") else ""
    return f"{text}: {source}" if source else text
