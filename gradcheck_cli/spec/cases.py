"""Cases: what a spec says about the inputs (``CaseSpec``) and the arrays drawn from it (``Case``).

An input is a literal array or a generator ``{shape: [...], dist: ...}``. A shape entry is a
size, an inline range ``"5..8"`` (inclusive, drawn per case), or the name of a case-level
dimension (``dims: {m: 2..5}``) so several inputs share a size (matmul's ``x: [m, k]``,
``y: [k, n]``). ``distinct`` lists dimensions that must differ, which keeps random shapes
non-square. Drawing is deterministic: one generator per (seed, exercise, case, repeat).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..errors import OpError, SpecError, UsageError
from .distributions import DISTRIBUTIONS, draw

MAX_CASE_ELEMENTS = 1_000_000
_DISTINCT_TRIES = 1000

Range = tuple[int, int]  # inclusive bounds of a size


@dataclass(frozen=True, eq=False)
class Case:
    """One call of the learner's function: inputs (in parameter order) and the upstream dz."""

    name: str
    hidden: bool
    inputs: dict[str, np.ndarray]
    dz: np.ndarray
    index: int
    repeat: int = 0
    line: int | None = None

    @property
    def args(self) -> tuple[np.ndarray, ...]:
        """The inputs as a tuple in the order of the function's parameters."""
        return tuple(self.inputs.values())


# ---------------------------------------------------------------------------- inputs


@dataclass(frozen=True, eq=False)
class LiteralInput:
    """An array written out in the spec."""

    value: np.ndarray
    line: int | None = None

    def max_size(self, dims: Mapping[str, Range]) -> int:
        """How many numbers it holds."""
        return int(self.value.size)

    def make(self, rng: np.random.Generator, dims: Mapping[str, int],
             shape: tuple[int, ...] | None = None) -> np.ndarray:
        """A fresh copy of the array (the generator is not used)."""
        return self.value.copy()

    @property
    def is_random(self) -> bool:
        """Literals are never moved off kinks nor redrawn."""
        return False


@dataclass(frozen=True, eq=False)
class RandomInput:
    """Random numbers of a shape (``None``: the forward output's shape, for dz)."""

    shape: tuple[int | str | Range, ...] | None
    dist: str = "normal"
    params: dict = field(default_factory=dict)
    line: int | None = None
    constant_along: int | None = None   # the first line along this axis is one value

    def sizes(self, dims: Mapping[str, Range]) -> list[Range]:
        """Each axis as an inclusive range of sizes."""
        out = []
        for entry in self.shape or ():
            if isinstance(entry, int):
                out.append((entry, entry))
            elif isinstance(entry, str):
                out.append(dims[entry])
            else:
                out.append(entry)
        return out

    def max_size(self, dims: Mapping[str, Range]) -> int:
        """The most numbers a draw can hold (every axis at its largest)."""
        return int(np.prod([high for _, high in self.sizes(dims)], dtype=np.float64))

    def draw_shape(self, rng: np.random.Generator, dims: Mapping[str, int]) -> tuple[int, ...]:
        """A shape for one case: named dims looked up, inline ranges drawn left to right."""
        shape = []
        for entry in self.shape or ():
            if isinstance(entry, int):
                shape.append(entry)
            elif isinstance(entry, str):
                shape.append(dims[entry])
            else:
                shape.append(int(rng.integers(entry[0], entry[1], endpoint=True)))
        return tuple(shape)

    def make(self, rng: np.random.Generator, dims: Mapping[str, int],
             shape: tuple[int, ...] | None = None) -> np.ndarray:
        """Draw the numbers (of ``shape`` if given, else of a drawn shape)."""
        if shape is None:
            shape = self.draw_shape(rng, dims)
        values = draw(self.dist, rng, shape, self.params)
        if self.constant_along is not None and values.ndim:
            line = np.moveaxis(values, self.constant_along, -1)[(0,) * (values.ndim - 1)]
            # A multiple of 1/8 is exact in every precision: the line's variance is exactly 0
            # for a float32 learner too.
            line[...] = np.round(line[0] * 8) / 8
        return values

    @property
    def is_random(self) -> bool:
        """Random inputs are kept off kinks."""
        return True


Input = LiteralInput | RandomInput


# ---------------------------------------------------------------------------- case specs


@dataclass(frozen=True, eq=False)
class CaseSpec:
    """A ``cases:`` entry as written: possibly random, possibly repeated."""

    name: str
    hidden: bool
    repeat: int
    dims: dict[str, Range]
    distinct: tuple[tuple[str, ...], ...]
    inputs: dict[str, Input]          # in the function's parameter order
    dz: Input                          # RandomInput(shape=None) when not given
    index: int
    line: int | None = None
    dz_line: int | None = None
    # One case per entry, with these dims (a size or a range each) instead of `dims`'s: sizes
    # every seed must cover (odd and even, square and not).
    sizes: tuple[dict[str, Range], ...] = ()

    def case_names(self) -> list[str]:
        """The names of the cases this entry expands into."""
        if self.repeat == 1:
            return [self.name]
        return [f"{self.name}-{r + 1}" for r in range(self.repeat)]

    def max_elements(self) -> int:
        """The most numbers the inputs of one of its cases can hold (dz not included)."""
        return sum(spec.max_size(self.dims) for spec in self.inputs.values())

    def draw_dims(self, rng: np.random.Generator, file: str | None,
                  repeat: int = 0) -> dict[str, int]:
        """Named sizes for one case (the ``repeat``-th), honouring ``sizes`` and ``distinct``."""
        dims = {**self.dims, **self.sizes[repeat]} if self.sizes else self.dims
        for _ in range(_DISTINCT_TRIES):
            values = {name: int(rng.integers(lo, hi, endpoint=True))
                      for name, (lo, hi) in dims.items()}
            if all(len({values[n] for n in group}) == len(group) for group in self.distinct):
                return values
        # Tight ranges: rejection keeps failing, so fall back to a valid assignment.
        fixed = distinct_assignment(dims, self.distinct)
        if fixed is None:
            raise SpecError(f"case '{self.name}': the dims listed in `distinct` cannot all "
                            "differ", file=file, line=self.line, hint="widen their ranges")
        return fixed


def distinct_assignment(dims: Mapping[str, Range],
                        groups: tuple[tuple[str, ...], ...]) -> dict[str, int] | None:
    """Sizes within the ranges that differ within each group, or None if there are none.

    Per group, taking dims by earliest upper bound and giving each the smallest free size is
    optimal for intervals; dims fixed by an earlier group keep their size.
    """
    chosen: dict[str, int] = {}
    for group in groups:
        used = {chosen[n] for n in group if n in chosen}
        for name in sorted((n for n in group if n not in chosen), key=lambda n: dims[n][::-1]):
            low, high = dims[name]
            size = low
            while size in used:
                size += 1
            if size > high:
                return None
            chosen[name] = size
            used.add(size)
        if len({chosen[n] for n in group}) != len(group):
            return None
    return {name: chosen.get(name, low) for name, (low, _) in dims.items()}


def case_rng(seed: int, exercise: str, case_index: int, repeat: int) -> np.random.Generator:
    """The generator for one case: a function of the seed, the exercise, the case, the copy."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"the seed must be a whole number >= 0, got {seed!r}",
                         hint="pass e.g. --seed 1234")
    return np.random.default_rng([int(seed), zlib.crc32(exercise.encode("utf-8")), case_index,
                                  repeat])


def values_are_variable(given: Input) -> bool:
    """False for data inputs (class labels, one-hot rows): their values are never moved."""
    return not (isinstance(given, RandomInput) and DISTRIBUTIONS[given.dist].data)


def keep_off_kinks(values: np.ndarray, kinks: tuple[float, ...], margin: float) -> np.ndarray:
    """Move values closer than ``margin`` to a kink out to ``margin`` (on their own side)."""
    for kink in kinks:
        offset = values - kink
        near = np.abs(offset) < margin
        values = np.where(near, kink + np.where(offset < 0, -margin, margin), values)
    return values


def generate(spec: CaseSpec, *, seed: int, exercise: str, file: str | None,
             forward_value: Callable[[tuple], np.ndarray], params: tuple[str, ...],
             kinks: tuple[float, ...], margin: float, start_index: int) -> list[Case]:
    """The cases one ``cases:`` entry expands into, for ``seed``."""
    cases = []
    for repeat, name in enumerate(spec.case_names()):
        rng = case_rng(seed, exercise, spec.index, repeat)
        dims = spec.draw_dims(rng, file, repeat)
        inputs = {}
        for param in params:
            value = spec.inputs[param].make(rng, dims)
            if spec.inputs[param].is_random and kinks and values_are_variable(spec.inputs[param]):
                value = keep_off_kinks(value, kinks, margin)
            inputs[param] = value
        try:
            out = forward_value(tuple(inputs.values()))
        except OpError as exc:
            shapes = ", ".join(f"{k}: {v.shape}" for k, v in inputs.items())
            raise SpecError(f"case '{name}': the forward fails on inputs of shape {shapes}: "
                            f"{exc.message}", file=file, line=spec.line,
                            hint="make the input shapes fit the forward") from None
        if not np.all(np.isfinite(out)):
            raise SpecError(f"case '{name}': the forward gives NaN or Inf", file=file,
                            line=spec.line, hint="draw inputs where the forward is defined, "
                                                 "e.g. `dist: positive` for log or sqrt")
        if out.size + sum(v.size for v in inputs.values()) > MAX_CASE_ELEMENTS:
            raise SpecError(f"case '{name}': the forward output has shape {out.shape}, which "
                            f"takes the case over {MAX_CASE_ELEMENTS:,} numbers",
                            file=file, line=spec.line, hint="use smaller shapes")
        dz = spec.dz.make(rng, dims, shape=out.shape) if spec.dz.is_random else \
            spec.dz.make(rng, dims)
        if dz.size == 1 and isinstance(spec.dz, RandomInput) and spec.dz.dist == "normal":
            # A scalar upstream gradient: its sign alternates from case to case, so that an
            # answer that drops the sign (abs, the root of a square) cannot pass on a lucky
            # draw of signs (all positive in one seed of eight, over three cases).
            dz = np.abs(dz) * (-1.0 if (spec.index + repeat) % 2 else 1.0)
        if dz.shape != out.shape:
            raise SpecError(f"case '{name}': dz has shape {dz.shape} but the forward output "
                            f"has shape {out.shape}", file=file, line=spec.dz_line or spec.line,
                            hint=f"give dz the output's shape {out.shape}, or write "
                                 "`dz: random`")
        for array in (*inputs.values(), dz):
            array.setflags(write=False)  # pristine: whoever needs to write makes a copy
        cases.append(Case(name, spec.hidden, inputs, dz, start_index + repeat, repeat,
                          spec.line))
    return cases
