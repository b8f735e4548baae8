"""Jacobian colouring: inputs whose outputs do not overlap are perturbed in one evaluation.

Finding which
those are for every input would cost an evaluation per input, as much as the differences
themselves. Instead:
(1) NaN-probe a couple of inputs and their neighbours along each axis: per axis, the
    distance s_a beyond which their outputs stop overlapping;
(2) colour input i by (i_a mod s_a): same-coloured inputs are >= s_a apart along some axis;
(3) perturb each colour at once and trace every output back to the one member that moved
    it (the attributions below); an output moved by two members means the guess in (1) was
    wrong, and the colouring is abandoned;
(4) check the result on random projections. Only the checks are trusted, not the guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import OpError
from .directional import directional
from .stencils import STENCILS, Stencil, perturbed_rows, step_sizes, step_spans
from .target import Target

MIN_COLOURING_SIZE = 64        # below this, probing the sparsity costs more than it saves


def _probe_offsets(room: int) -> list[int]:
    """Distances probed along an axis: every one up to 8, then growing by half each time."""
    out, t = [], 1
    while t <= room:
        out.append(t)
        t = t + 1 if t < 8 else math.ceil(t * 1.5)
    return out


def _periods(target: Target, i: int) -> tuple[int, ...] | None:
    """Per axis, the smallest distance at which two inputs' outputs no longer overlap."""
    x = target.x(i)
    shape = x.shape
    centres = {tuple((s - 1) // 2 for s in shape),
               tuple(min((s - 1) // 2 + 1, s - 1) for s in shape)}
    probes: dict[tuple, int] = {}
    plan = []                        # (axis, centre, [(distance, neighbour), ...])
    for q in sorted(centres):
        probes.setdefault(q, len(probes))
        for a, size in enumerate(shape):
            near = []
            for t in _probe_offsets(size - 1 - q[a]):
                p = q[:a] + (q[a] + t,) + q[a + 1:]
                probes.setdefault(p, len(probes))
                near.append((t, p))
            if near:
                plan.append((a, q, near))
    batch = np.repeat(x.reshape(1, -1), len(probes), axis=0)        # (probes, n)
    for p, r in probes.items():
        batch[r, np.ravel_multi_index(p, shape)] = np.nan
    try:
        out = target.evaluate({i: batch.reshape(len(probes), *shape)})
    except OpError:
        return None
    hit = np.isnan(out.reshape(len(probes), -1))                     # (probes, m)
    periods = [1] * len(shape)
    for a, q, near in plan:
        reach = shape[a]
        for t, p in near:
            if not np.any(hit[probes[q]] & hit[probes[p]]):
                reach = t
                break
        periods[a] = max(periods[a], reach)
    return tuple(periods)


@dataclass
class _Chunk:
    """A chunk of colour groups: which elements each holds and where they rank within it."""

    member: np.ndarray               # (c, n) membership masks
    rank: np.ndarray                 # (n,) position of every element within its group
    size: np.ndarray                 # (n,) size of every element's group
    first: np.ndarray                # (c,) where each group starts in ``order``
    count: np.ndarray                # (c,) members of each group
    order: np.ndarray                # (n,) elements sorted by colour, then by index


class _RatioAttribution:
    """Complex step: a second row with steps w_i h_i, w_i distinct in [2, 3) within a group.

    An output moved by member i alone shows Im(weighted) / Im(plain) = w_i, which names i; an
    output moved by two shows a mixture of weights that names nobody. One extra row per colour.
    """

    @staticmethod
    def rows_per_group(size: int) -> int:
        return 1

    @staticmethod
    def rows(flat: np.ndarray, delta: np.ndarray, chunk: _Chunk) -> list[np.ndarray]:
        weight = 2.0 + chunk.rank / chunk.size                        # (n,)
        return [perturbed_rows(flat, 1j, delta * weight)]

    @staticmethod
    def owners(levels: dict, extra: np.ndarray, chunk: _Chunk, eps: float):
        plain, weighted = levels[1j].imag, extra[0].imag             # (c, m) each
        noise = 64.0 * eps * np.maximum(np.max(np.abs(plain), axis=1, keepdims=True),
                                        np.max(np.abs(weighted), axis=1, keepdims=True) / 3)
        size = chunk.count[:, None]
        with np.errstate(all="ignore"):
            position = (weighted / plain - 2.0) * size                # the member's rank
            rank = np.rint(position)
            named = (plain != 0) & (np.abs(position - rank) <= 0.25) & (rank >= 0) \
                & (rank < size)
        silent = ~named & (np.abs(plain) <= noise) & (np.abs(weighted) <= 3.0 * noise)
        if np.any(~named & ~silent):
            return None
        return _owner(named, np.where(named, rank, 0).astype(np.int64), chunk)


class _NaNAttribution:
    """Real differences: NaN in the members whose rank has bit b set, and in a twin row clear.

    An output hit by one member turns NaN in exactly one row of each twin pair, spelling the
    member's rank in binary; two members differ in some bit and hit both rows of that pair.
    Exact whatever the values, so kinks and rounding cannot confuse it.
    """

    @staticmethod
    def bits(size: int) -> int:
        return max(1, math.ceil(math.log2(size))) if size > 1 else 1

    @classmethod
    def rows_per_group(cls, size: int) -> int:
        return 2 * cls.bits(size)

    @classmethod
    def rows(cls, flat: np.ndarray, delta: np.ndarray, chunk: _Chunk) -> list[np.ndarray]:
        out = []
        for b in range(cls.bits(int(chunk.size.max()))):
            bit = ((chunk.rank >> b) & 1).astype(bool)                # (n,)
            for chosen in (chunk.member & bit, chunk.member & ~bit):
                probe = np.repeat(flat[None, :], len(chunk.member), axis=0)
                probe[chosen] = np.nan                                # (c, n)
                out.append(probe)
        return out

    @staticmethod
    def owners(levels: dict, extra: np.ndarray, chunk: _Chunk, eps: float):
        hit = np.isnan(extra).reshape(-1, 2, *extra.shape[1:])        # (bits, set/clear, c, m)
        if np.any(hit[:, 0] & hit[:, 1]):
            return None
        touched = hit[0, 0] | hit[0, 1]                               # (c, m)
        place = (1 << np.arange(hit.shape[0]))[:, None, None]
        rank = (hit[:, 0] * place).sum(axis=0)                        # (c, m)
        if np.any(touched & (rank >= chunk.count[:, None])):
            return None
        return _owner(touched, rank, chunk)


def _owner(named: np.ndarray, rank: np.ndarray, chunk: _Chunk) -> np.ndarray:
    """The element each output belongs to, from its group and rank; -1 where none."""
    owner = np.full(named.shape, -1, dtype=np.int64)                  # (c, m)
    owner[named] = chunk.order[(chunk.first[:, None] + rank)[named]]
    return owner


_ATTRIBUTIONS = {"ratio": _RatioAttribution, "nan": _NaNAttribution}


def coloured(target: Target, i: int, stencil: Stencil, h: np.ndarray, force: bool):
    """The VJP from perturbing non-overlapping inputs together; None when that does not work."""
    x = target.x(i)
    n = x.size
    if not (np.all(np.isfinite(target.f0)) and np.all(np.isfinite(x))):
        return None
    periods = _periods(target, i)
    if periods is None:
        target.notes.append("probing the Jacobian's sparsity failed; no colouring")
        return None
    colour = np.zeros(x.shape, dtype=np.int64)
    for a, s in enumerate(periods):
        index = np.arange(x.shape[a]).reshape([-1 if b == a else 1 for b in range(x.ndim)])
        colour = colour * s + index % s
    count = int(np.prod(periods))
    attribution = _ATTRIBUTIONS[stencil.attribution]
    per_group = len(stencil.offsets) + attribution.rows_per_group(-(-n // count))
    if not force and count * per_group > n * len(stencil.offsets) // 2:
        return None                # too few inputs share a colour for it to pay off
    found = _evaluate_colours(target, i, stencil, h, colour.reshape(-1), count)
    if found is None:
        target.notes.append(f"colouring by periods {periods} mixed overlapping inputs; "
                            "perturbed one element at a time")
        return None
    return (*found, count)


def _evaluate_colours(target: Target, i: int, stencil: Stencil, h: np.ndarray,
                      colour: np.ndarray, count: int):
    """Evaluate every colour group, attribute each output to its input, accumulate the VJP."""
    x = target.x(i)
    shape, n = x.shape, x.size
    flat, hf = x.reshape(-1), h.reshape(-1)
    dz, adz = target.dz.reshape(-1), np.abs(target.dz).reshape(-1)
    eps = target.eps(i)
    attribution = _ATTRIBUTIONS[stencil.attribution]
    order = np.argsort(colour, kind="stable")
    sizes = np.bincount(colour, minlength=count)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, sizes)
    spans = step_spans(flat, hf, stencil)
    smallest = {o: float(np.min(s)) for o, s in spans.items()}
    levels_n = len(stencil.offsets)
    width = levels_n + attribution.rows_per_group(int(sizes.max()))
    g, err, spill = np.zeros(n), np.zeros(n), np.zeros(count)
    first = 0
    while first < count:
        groups = np.arange(first, min(count, first + max(
            1, target.chunk_rows(stencil.is_complex, n) // width)))
        first += len(groups)
        member = colour[None, :] == groups[:, None]                   # (c, n)
        chunk = _Chunk(member, rank, sizes[colour], starts[groups], sizes[groups], order)
        delta = member * hf                                          # (c, n) steps of a colour
        batch = [perturbed_rows(flat, o, delta) for o in stencil.offsets]
        batch += attribution.rows(flat, delta, chunk)
        rows = np.concatenate(batch)                                  # (rows * c, n)
        out = target.evaluate({i: rows.reshape(len(rows), *shape)})
        out = out.reshape(len(batch), len(groups), -1)                # (rows, c, m)
        levels = dict(zip(stencil.offsets, out[:levels_n]))           # offset -> (c, m)
        owner = attribution.owners(levels, out[levels_n:], chunk, eps)
        if owner is None:
            return None
        owned = owner >= 0                                            # (c, m)
        # Each output is divided by the step of the member it belongs to.
        out_spans = {o: np.where(owned, s[np.maximum(owner, 0)], smallest[o])
                     for o, s in spans.items()}
        with np.errstate(all="ignore"):
            value, error = stencil.combine(levels, out_spans, eps)    # (c, m) each
        moved = adz * np.abs(value)
        unclaimed = np.where(owned, 0.0, moved).sum(axis=1)           # (c,)
        claimed = np.where(owned, moved, 0.0).sum(axis=1)
        # Outputs no member claimed should not have moved (beyond rounding): if they did,
        # f depends on its inputs in a way the attribution cannot see.
        if np.any(unclaimed > 1e-6 * (claimed + claimed.mean())):
            return None
        contribution = dz * value
        g += np.bincount(owner[owned], contribution[owned], minlength=n)
        err += np.bincount(owner[owned], (adz * error + 4.0 * eps * np.abs(contribution))[owned],
                           minlength=n)
        spill[groups] = unclaimed
    # Whatever unclaimed outputs did goes into every member's error estimate.
    err += spill[colour]
    return g.reshape(shape), err.reshape(shape)


def projections_agree(target: Target, i: int, stencil: Stencil, g: np.ndarray,
                       err: np.ndarray, trials: int = 2) -> bool:
    """u·g against a directional difference along u, for a couple of random u.

    Real differences are checked with small central steps: a random direction moves every
    input at once, and wide steps would straddle every kink of a relu network.
    """
    x = target.x(i)
    stencil = stencil if stencil.is_complex else STENCILS["central"]
    eps = target.eps(i)
    scale = np.maximum(np.abs(x), 1.0)
    tau = float(step_sizes(np.asarray(1.0), stencil, eps, None))
    for _ in range(trials):
        u = target.rng.standard_normal(x.shape) * scale
        expected, expected_err = directional(target, {i: u}, stencil, tau, eps)
        actual = float(np.sum(u * g))
        allowed = 4.0 * (float(np.sum(np.abs(u) * err)) + expected_err) \
            + 64.0 * eps * float(np.sum(np.abs(u * g)))
        if not abs(actual - expected) <= allowed:
            return False
    return True
