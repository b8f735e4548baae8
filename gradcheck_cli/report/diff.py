"""What the human reports show of a failing case: rows of the worst elements, arrays in words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..grading.compare import SCALE_FLOOR


@dataclass
class DiffRow:
    index: tuple[int, ...]
    got: float
    expected: float
    numerical: float
    error: float
    mismatched: bool


def fmt(v: float) -> str:
    """A number in 8 significant digits, NaN/Inf spelled out."""
    if v is None:
        return "-"
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.6g}"


def index_str(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def diff_rows(got: np.ndarray, expected: np.ndarray, numerical: np.ndarray | None,
              mask: np.ndarray | None, limit: int = 8) -> tuple[list[DiffRow], int]:
    """The mismatched elements, worst first (at most ``limit``), and how many there are."""
    got64 = got.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        err = np.abs(got64 - expected)
        err = np.where(np.isfinite(got64), err, np.inf)
        mag = np.abs(expected)
        rel = err / np.maximum(np.maximum(mag, SCALE_FLOOR * (mag.max() if mag.size else 0)), 1e-300)
    if mask is None:
        mask = err > 0
    flat = np.flatnonzero(mask.ravel())
    order = flat[np.argsort(-rel.ravel()[flat], kind="stable")][:limit]
    rows = []
    for k in order:
        idx = np.unravel_index(k, expected.shape) if expected.ndim else ()
        rows.append(DiffRow(tuple(int(i) for i in idx), float(got64.ravel()[k]),
                            float(expected.ravel()[k]),
                            float(numerical.ravel()[k]) if numerical is not None else float("nan"),
                            float(err.ravel()[k]), bool(mask.ravel()[k])))
    return rows, int(flat.size)


def describe_array(a: np.ndarray, max_chars: int = 160) -> str:
    """An array in words when it is large, in full when small."""
    a = np.asarray(a)
    if a.ndim == 0:
        return f"the scalar {fmt(float(a))}"
    text = np.array2string(a, precision=4, suppress_small=True, separator=", ",
                           max_line_width=10_000, threshold=64)
    text = " ".join(text.split())
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return f"shape {tuple(a.shape)}: {text}"
