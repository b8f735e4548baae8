"""What the human reports show of a failing output, as plain data the renderers lay out.

A small array is shown whole, yours beside the expected one, the elements that differ flagged.
A large one becomes a heat map of relative error (one character per element, or per block of
elements when it is too large for a screen) and a table of its worst elements. Shapes and
scalars are said in words. Plain and rich render the same ``OutputDiff``; neither computes.
"""

from __future__ import annotations

import json

import math
from dataclasses import dataclass, field

import numpy as np

from .model import CaseResult, OutputErrors
from .numbers import describe_shape, fmt, fmt_apart, rough

# Arrays up to this size are shown whole, side by side: a vector one element per line, a
# matrix as itself.
SMALL_VECTOR = 10
SMALL_ROWS, SMALL_COLS = 6, 6


@dataclass(frozen=True)
class Budget:
    """How much of a failure to show: by default it fits on one screen."""

    heat_rows: int = 12
    heat_cols: int = 48
    worst_rows: int = 5
    input_chars: int = 96
    wrap_inputs: bool = False
    output_lines: int = 12           # of what the learner's code printed, per case
    verbose: bool = False            # the --verbose budget (hints then stop suggesting it)

    @classmethod
    def for_options(cls, options) -> "Budget":
        return VERBOSE if getattr(options, "verbose", False) else DEFAULT


DEFAULT = Budget()
VERBOSE = Budget(heat_rows=24, heat_cols=72, worst_rows=20, input_chars=600, wrap_inputs=True,
                 output_lines=200, verbose=True)

# Heat-map levels: 0 within tolerance, 1..9 by relative error, then Inf and NaN (which win
# when a cell stands for a block). EMPTY pads a block past the array's edge.
LEVEL_CHARS = " .:-=+*#%@"
LEVEL_BOUNDS = (1e-4, 1e-3, 1e-2, 1e-1, 0.3, 1.0, 3.0, 10.0)
INF, NAN, EMPTY = 10, 11, -1
MARK_CHARS = {INF: "I", NAN: "N", EMPTY: " "}


def level_char(level: int) -> str:
    """The plain character of a heat-map level."""
    return MARK_CHARS.get(level) or LEVEL_CHARS[level]


def level_legend(levels: list[list[int]] | None = None) -> list[tuple[int, str]]:
    """(level, meaning) for the heat map's legend: the scale, then NaN/Inf where they occur."""
    bounds = [f"<{rough(b)}" for b in LEVEL_BOUNDS] + [f"≥{rough(LEVEL_BOUNDS[-1])}"]
    legend = [(i, bounds[i - 1]) for i in range(1, len(LEVEL_CHARS))]
    present = {v for row in levels or () for v in row}
    return legend + [(mark, name) for mark, name in ((NAN, "NaN"), (INF, "Inf"))
                     if mark in present]


@dataclass
class DiffRow:
    index: tuple[int, ...]
    got: float
    expected: float
    numerical: float
    error: float
    rel_error: float
    mismatched: bool


@dataclass
class Grid:
    """A small array shown whole: rows of formatted cells, yours beside the expected ones."""

    got: list[list[str]]
    expected: list[list[str]]
    bad: list[list[bool]]
    numerical: list[list[str]] | None = None   # shown only where it disagrees (at a kink)
    labels: list[str] | None = None            # a vector's indices, one per line


@dataclass
class HeatMap:
    """Relative error by element (or by block of elements) of a large array."""

    levels: list[list[int]]
    block: tuple[int, int]          # elements per cell: (rows, columns)
    layout: str                     # how the array was laid out in rows, in words


@dataclass
class OutputDiff:
    """Everything the reports show of one failing output of one case."""

    name: str
    headline: str
    grid: Grid | None = None
    heat: HeatMap | None = None
    worst: list[DiffRow] = field(default_factory=list)
    more: int = 0
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- words


def describe_array(a, max_chars: int = 160) -> str:
    """An array in words, its values cut to ``max_chars`` characters."""
    a = np.asarray(a)
    if a.ndim == 0:
        return f"the scalar {fmt(float(a))}"
    text = np.array2string(a, separator=", ", max_line_width=10_000, threshold=64,
                           edgeitems=3, formatter={"float_kind": _compact})
    text = " ".join(text.split())
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return f"{describe_shape(a.shape)}: {text}"


# ---------------------------------------------------------------------------- errors


def diff_rows(got: np.ndarray, expected: np.ndarray, numerical: np.ndarray | None,
              errors: OutputErrors, limit: int = 8) -> tuple[list[DiffRow], int]:
    """The mismatched elements, worst first (at most ``limit``), and how many there are."""
    got64 = np.asarray(got).astype(np.float64, copy=False)
    err, rel, mask = errors.abs_error, errors.rel_error, errors.mismatched
    flat = np.flatnonzero(mask.ravel())
    # NaN sorts as the worst of all: it is what the learner most needs to see.
    key = np.where(np.isnan(got64.ravel()[flat]), np.inf, rel.ravel()[flat])
    order = flat[np.argsort(-key, kind="stable")][:limit]
    # The finite differences are shown only where the grader found them to disagree with the
    # reference (a kink); elsewhere they would repeat "expected".
    shown = numerical is not None and errors.numerical_differs
    rows = []
    for k in order:
        idx = np.unravel_index(k, expected.shape) if expected.ndim else ()
        rows.append(DiffRow(tuple(int(i) for i in idx), float(got64.ravel()[k]),
                            float(expected.ravel()[k]),
                            float(numerical.ravel()[k]) if shown else float("nan"),
                            float(err.ravel()[k]), float(rel.ravel()[k]), bool(mask.ravel()[k])))
    return rows, int(flat.size)


def numerical_shown(rows: list[DiffRow]) -> bool:
    """Whether the table has a finite-difference column: only where it says something."""
    return any(not np.isnan(r.numerical) for r in rows)


# ---------------------------------------------------------------------------- pictures


def output_diff(name: str, got, expected, numerical, errors: OutputErrors | None,
                budget: Budget = DEFAULT) -> OutputDiff:
    """What to show of one output: words for shapes and scalars, a grid or a heat map.

    ``errors`` is the grader's comparison of this output (None when the shapes differ).
    """
    got = np.asarray(got)
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return OutputDiff(name, f"{name}: yours is {_shape_words(got.shape)}, the gradient "
                                f"is {_shape_words(expected.shape)}",
                          notes=[f"yours = {describe_array(got, budget.input_chars)}"])
    if errors is None:
        raise ValueError(f"{name}: the case carries no comparison of this output")
    mask = errors.mismatched
    if expected.ndim == 0:
        line = f"{name}: yours is {fmt(float(got))}, the gradient is {fmt(float(expected))}"
        if numerical is not None:
            line += f" (finite differences: {fmt(float(np.asarray(numerical)))})"
        return OutputDiff(name, line)
    bad = int(mask.sum())
    worst_rel = float(np.max(np.where(mask, errors.rel_error, 0.0)))
    differ = ("its one element differs" if expected.size == 1
              else f"all {bad} elements differ" if bad == expected.size
              else f"{bad} of {expected.size} elements differ")
    non_finite = int((~np.isfinite(got.astype(np.float64)) & mask).sum())
    worst = (f"{non_finite} NaN or Inf" if non_finite
             else f"largest relative error {rough(worst_rel)}")
    headline = f"{name} ({describe_shape(expected.shape)}): {differ} ({worst})"
    if _is_small(expected.shape):
        return OutputDiff(name, headline, grid=_grid(got, expected, numerical, errors))
    rows, total = diff_rows(got, expected, numerical, errors, limit=budget.worst_rows)
    return OutputDiff(name, headline, heat=heat_map(got, errors, budget),
                      worst=rows, more=total - len(rows))


def case_diffs(case: CaseResult, budget: Budget = DEFAULT) -> list[OutputDiff]:
    """The diffs of every failing output of a case that returned arrays."""
    if case.got is None:
        return []
    n = len(case.expected)
    numericals = case.numerical or (None,) * n
    errors = case.errors or (None,) * n
    out = []
    for name, got, expected, numerical, errs in zip(case.output_names, case.got, case.expected,
                                                    numericals, errors):
        if errs is not None and not errs.mismatched.any():
            continue
        out.append(output_diff(name, got, expected, numerical, errs, budget))
    return out


def _shape_words(shape) -> str:
    words = describe_shape(shape)
    return words if len(shape) < 2 else f"{words} {tuple(shape)}"


def _is_small(shape: tuple[int, ...]) -> bool:
    if len(shape) == 1:
        return 0 < shape[0] <= SMALL_VECTOR
    return len(shape) == 2 and 0 < shape[0] <= SMALL_ROWS and 0 < shape[1] <= SMALL_COLS


def _grid(got, expected, numerical, errors: OutputErrors) -> Grid:
    vector = expected.ndim == 1
    # (n,) -> (n, 1): a vector reads best one element per line, with its index.
    as_rows = (lambda a: np.asarray(a).reshape(-1, 1)) if vector else np.asarray
    cells = lambda a: [[fmt(v) for v in row] for row in as_rows(a)]  # noqa: E731
    shown_numerical = None
    # Finite differences are shown only where they disagree with the engine: at a kink.
    if numerical is not None and errors.numerical_differs:
        shown_numerical = cells(numerical)
    labels = [f"[{i}]" for i in range(expected.size)] if vector else None
    yours, wanted, bad = cells(got), cells(expected), as_rows(errors.mismatched).tolist()
    got_rows, expected_rows = as_rows(got), as_rows(expected)
    for r, row in enumerate(bad):           # a flagged element never reads as the same number
        for c, flagged in enumerate(row):
            if flagged and yours[r][c] == wanted[r][c]:
                yours[r][c], wanted[r][c] = fmt_apart(got_rows[r][c], expected_rows[r][c])
    return Grid(yours, wanted, bad, shown_numerical, labels)


def heat_map(got: np.ndarray, errors: OutputErrors, budget: Budget = DEFAULT) -> HeatMap:
    """Relative error levels laid out in rows; a cell is the worst of its block of elements."""
    mask = errors.mismatched
    levels = np.searchsorted(np.array(LEVEL_BOUNDS), errors.rel_error, side="right") + 1
    got64 = np.asarray(got).astype(np.float64, copy=False)
    levels = np.where(np.isinf(got64), INF, levels)
    levels = np.where(np.isnan(got64), NAN, levels)
    levels = np.where(mask, levels, 0)
    grid, layout = _layout(levels, budget)
    rows, cols = grid.shape
    rh, cw = math.ceil(rows / budget.heat_rows), math.ceil(cols / budget.heat_cols)
    if rh > 1 or cw > 1:
        # (rows, cols) -> (rows/rh, rh, cols/cw, cw), padded, then the worst of each block
        padded = np.full((math.ceil(rows / rh) * rh, math.ceil(cols / cw) * cw), EMPTY)
        padded[:rows, :cols] = grid
        grid = padded.reshape(padded.shape[0] // rh, rh, padded.shape[1] // cw, cw).max(axis=(1, 3))
    return HeatMap(grid.astype(int).tolist(), (rh, cw), layout)


def _layout(levels: np.ndarray, budget: Budget) -> tuple[np.ndarray, str]:
    """The levels as a 2-D grid of rows, and how the array's axes map to it, in words."""
    if levels.ndim == 1:
        n = levels.size
        width = min(n, budget.heat_cols * max(1, math.ceil(n / (budget.heat_cols * budget.heat_rows))))
        rows = math.ceil(n / width)
        padded = np.full(rows * width, EMPTY)
        padded[:n] = levels
        words = f"{width} elements per line" if rows > 1 else "one line"
        return padded.reshape(rows, width), words
    if levels.ndim == 2:
        return levels, "rows and columns as in the array"
    # (d0, ..., dk-1, dk) -> (d0 * ... * dk-1, dk)
    lead = " × ".join(str(n) for n in levels.shape[:-1])
    return levels.reshape(-1, levels.shape[-1]), f"the first axes ({lead}) run down the rows"


def _compact(v: float) -> str:
    """4 significant digits, no trailing dot: 3, -0.1383, 1.2e-05."""
    return fmt(float(f"{v:.4g}")) if np.isfinite(v) else fmt(v)


def input_rows(case, budget: "Budget") -> list[tuple[str, str, str]]:
    """(label, padded name, value in words) for a failing case's inputs and dz, to reproduce it."""
    if not case.inputs or case.status not in ("failed", "error"):
        return []
    pairs = [(name, describe_array(value, budget.input_chars))
             for name, value in case.inputs.items()]
    # A layer's settings (conv_param, bn_param): a bug may show with some of them only.
    pairs += [(name, json.dumps(value)) for name, value in case.params.items()]
    if case.dz is not None:
        pairs.append((case.dz_name, describe_array(case.dz, budget.input_chars)))
    pad = max(len(name) for name, _ in pairs)
    return [("inputs: " if i == 0 else " " * 8, f"{name:<{pad}}", text)
            for i, (name, text) in enumerate(pairs)]
