"""The function under differentiation: ``f`` bound to its arguments, and a batched evaluator.

Functions written with ``ops`` are evaluated *batched*: many perturbed inputs in one vectorised
call (see ``engine.batching``), when a trial shows that batching reproduces plain calls; any
other function is called once per perturbed input.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from ..engine.batching import batched
from ..engine.core import Tensor, normalize_wrt, topological_order
from ..errors import OpError
from .stencils import quiet

CHUNK_BYTES = 16 * 2**20       # estimated memory of one batched call: bounded, and cache-sized
_EXPANSION = 8                 # a row's working memory as a multiple of its inputs and outputs


class _BatchFailed(Exception):
    """A batched call did not behave like the unbatched function."""


class Target:
    """``f`` bound to its arguments: validated inputs, the base output and an evaluator.

    ``evaluate({i: X})`` runs f on ``k`` perturbed copies of input i (``X`` has shape
    ``(k, *x.shape)``) and returns the ``k`` outputs, batched through the engine when f is
    written with ops and behaves under ``batched``, one call per row otherwise.
    """

    def __init__(self, f: Callable, args, wrt, dz, caller: str, seed: int,
                 chunk_bytes: int = CHUNK_BYTES):
        self.caller = caller
        if not callable(f):
            raise OpError(f"{caller}: f must be a function, got {type(f).__name__}")
        self.f = f
        self.name = getattr(f, "__name__", None) or type(f).__name__
        self.rng = np.random.default_rng(seed)
        self.chunk_bytes = int(chunk_bytes)
        raw = tuple(args) if isinstance(args, (tuple, list)) else (args,)
        self.raw = raw
        self.wrt, self.single = normalize_wrt(wrt, len(raw), f"{caller}({self.name})")
        self.arrays = [self._numeric(a, i) for i, a in enumerate(raw)]
        self.shapes = ", ".join(str(a.shape) for a in self.arrays) or "no inputs"
        self.evaluations = 0
        self.notes: list[str] = []
        self.batch_mode: str | None = None
        self.engine, self.not_holomorphic, f0 = self._engine_trace()
        if f0 is None:
            f0 = self._call(self._fresh())
        if f0.dtype.kind == "c":
            raise OpError(f"{caller}({self.name}): it returns complex values; finite differences "
                          f"need a real-valued function (inputs of shape(s) {self.shapes})")
        self.out_shape = f0.shape
        self.out_eps = float(np.finfo(f0.dtype if f0.dtype.kind == "f" else np.float64).eps)
        self.f0 = f0.astype(np.float64)
        self.dz = self._dz(dz)
        if self.engine:
            self._detect_batching()
            if not self.batch_mode:
                self.notes.append(f"{self.name} does not evaluate batched through the engine: "
                                  "one call per perturbed input")
        else:
            self.notes.append(f"{self.name} is not written with the engine's ops: one call per "
                              "perturbed input")

    # -- validation
    def _numeric(self, a, i: int) -> np.ndarray:
        try:
            arr = np.asarray(a.data if isinstance(a, Tensor) else a)
        except (ValueError, TypeError) as exc:
            raise OpError(f"{self.caller}({self.name}): argument {i} is not an array of "
                          f"numbers ({exc})") from None
        if arr.dtype.kind not in "biufc":
            raise OpError(f"{self.caller}({self.name}): argument {i} is not numeric "
                          f"(dtype {arr.dtype}, shape {arr.shape})")
        if i in self.wrt:
            if arr.dtype.kind == "c":
                raise OpError(f"{self.caller}({self.name}): argument {i} is complex; "
                              "gradients are taken with respect to real inputs")
            if arr.dtype not in (np.float16, np.float32, np.float64):
                arr = arr.astype(np.float64)
        return arr

    def _dz(self, dz) -> np.ndarray:
        if dz is None:
            return np.ones(self.out_shape)
        try:
            arr = np.asarray(dz.data if isinstance(dz, Tensor) else dz)
        except (ValueError, TypeError) as exc:
            raise OpError(f"{self.caller}({self.name}): dz is not an array of numbers "
                          f"({exc})") from None
        if arr.dtype.kind not in "biuf":
            raise OpError(f"{self.caller}({self.name}): dz is not real numbers "
                          f"(dtype {arr.dtype}, shape {arr.shape})")
        if arr.shape != self.out_shape:
            raise OpError(f"{self.caller}({self.name}): dz has shape {arr.shape} but "
                          f"{self.name} returns shape {self.out_shape} "
                          f"(inputs of shape(s) {self.shapes})")
        return arr.astype(np.float64)

    # -- the inputs as f sees them
    def x(self, i: int) -> np.ndarray:
        """Input i as the array that is perturbed (float64 when f runs through the engine)."""
        return self._input(i)

    def eps(self, i: int) -> float:
        """The precision f computes in w.r.t. input i: the coarser of input and output."""
        return float(max(np.finfo(self.x(i).dtype).eps, self.out_eps))

    def _input(self, i: int):
        arr = self.arrays[i]
        if self.engine:
            return arr if arr.dtype.kind == "c" else arr.astype(np.float64, copy=False)
        return arr if i in self.wrt else self.raw[i]

    # -- calling f
    def _fresh(self) -> list:
        """Copies of the inputs: a function that writes into them must not corrupt the rest."""
        return [a.copy() if isinstance(a, np.ndarray) else a
                for a in (self._input(i) for i in range(len(self.arrays)))]

    def _call(self, args: list) -> np.ndarray:
        try:
            out = self.f(*args)
        except OpError as exc:
            raise OpError(f"{self.caller}({self.name}): it failed on inputs of shape(s) "
                          f"{self.shapes}: {exc.message}") from None
        except Exception as exc:  # noqa: BLE001 - any failure of f is the user's to see
            raise OpError(f"{self.caller}({self.name}): calling it on inputs of shape(s) "
                          f"{self.shapes} raised {type(exc).__name__}: {exc}") from None
        if isinstance(out, Tensor):
            out = out.data
        try:
            arr = np.asarray(out)
        except (ValueError, TypeError):
            arr = np.asarray(None)
        if arr.dtype.kind not in "biufc":
            raise OpError(f"{self.caller}({self.name}): it returned {type(out).__name__}, not an "
                          f"array of numbers (inputs of shape(s) {self.shapes})")
        return arr

    def _engine_trace(self):
        """Call f on engine tensors: is it written with ops, and which are not holomorphic?

        Only the ops on a path from the differentiated inputs matter (an ``abs`` applied to a
        constant does not stop the complex step), so this walks the recorded graph from those
        leaves rather than listing every op the call touched, as ``ops_used`` does.
        """
        leaves = []
        for i, arr in enumerate(self.arrays):
            data = arr if arr.dtype.kind == "c" else arr.astype(np.float64)
            leaves.append(Tensor(data.copy(), requires_grad=i in self.wrt))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = self.f(*leaves)
        except Exception:  # noqa: BLE001 - not written with ops; the plain call will tell
            return False, (), None
        if not isinstance(out, Tensor):
            return False, (), None
        nodes = topological_order(out)
        reached = {id(n) for n in nodes}
        if any(id(leaves[i]) not in reached for i in self.wrt):
            # Part of the way from x went through plain NumPy: the graph is not the function.
            return False, (), None
        rough = {n.prim.name for n in nodes if n.prim is not None and not n.prim.holomorphic}
        return True, tuple(sorted(rough)), np.asarray(out.data)

    def _detect_batching(self) -> None:
        """Use batched calls only if they reproduce unbatched ones on two perturbed points."""
        rows = {}
        for i in self.wrt:
            x = self.x(i)
            jitter = 2.0**-12 * np.maximum(np.abs(x), 1.0) * self.rng.choice([-1.0, 1.0], x.shape)
            rows[i] = np.stack([x, x + jitter])
        try:
            with quiet():
                reference = self._looped_call({i: r[1:] for i, r in rows.items()})[0]
        except OpError:
            return
        for mode in ("expand", "broadcast"):
            try:
                got = self._batched_call(rows, mode)
            except Exception:  # noqa: BLE001 - any failure means: do not batch this way
                continue
            if _close(got[0], self.f0) and _close(got[1], reference):
                self.batch_mode = mode
                return

    def _batched_call(self, batches: dict, mode: str) -> np.ndarray:
        k = next(iter(batches.values())).shape[0]
        tensors = []
        for i in range(len(self.arrays)):
            if i in batches:
                data = batches[i]
            else:
                arr = self._input(i)
                # Every array carries the batch axis: of length 1 (broadcast by the forwards)
                # or, for forwards that need it, a zero-stride view of length k.
                data = arr[None] if mode == "expand" else np.broadcast_to(arr, (k, *arr.shape))
            tensors.append(Tensor(data))
        with batched(1), quiet():
            out = self.f(*tensors)
        data = np.asarray(out.data if isinstance(out, Tensor) else out)
        if data.shape == (1, *self.out_shape) and k != 1:
            data = np.broadcast_to(data, (k, *self.out_shape))
        if data.shape != (k, *self.out_shape):
            raise _BatchFailed(f"batched output has shape {data.shape}")
        return data

    def _looped_call(self, batches: dict) -> np.ndarray:
        k = next(iter(batches.values())).shape[0]
        is_complex = any(b.dtype.kind == "c" for b in batches.values())
        rows = getattr(self.f, "call_rows", None)
        if rows is not None and not is_complex:
            # f evaluates many perturbed inputs itself (in another process, in one request).
            out = np.asarray(rows(self._fresh(), batches), dtype=float)
            if out.shape != (k, *self.out_shape):
                raise OpError(f"{self.caller}({self.name}): it returned shape {out.shape[1:]} "
                              f"for perturbed inputs but {self.out_shape} at the point itself")
            return out
        out = np.empty((k, *self.out_shape), dtype=complex if is_complex else float)
        for r in range(k):
            call = self._fresh()
            for i, batch in batches.items():
                call[i] = batch[r].copy()
            y = self._call(call)
            if y.shape != self.out_shape:
                raise OpError(f"{self.caller}({self.name}): it returned shape {y.shape} for a "
                              f"perturbed input but {self.out_shape} at the point itself")
            out[r] = y if is_complex else y.real
        return out

    def evaluate(self, batches: dict) -> np.ndarray:
        """f on ``k`` perturbed inputs at once: ``{i: (k, *x_i.shape)}`` -> (k, *out_shape)."""
        k = next(iter(batches.values())).shape[0]
        self.evaluations += k
        if self.batch_mode:
            try:
                return self._batched_call(batches, self.batch_mode)
            except Exception:  # noqa: BLE001 - e.g. an op that rejects NaN probes
                pass           # this call goes through the always-correct loop instead
        with quiet():
            return self._looped_call(batches)

    def chunk_rows(self, is_complex: bool, n: int) -> int:
        """How many perturbed inputs one call may take within the memory budget."""
        # Many small calls beat one huge one: each call's arrays stay in cache.
        per_row = _EXPANSION * (16 if is_complex else 8) * (n + self.f0.size)
        return max(1, self.chunk_bytes // per_row)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    scale = float(np.max(np.abs(b[np.isfinite(b)]), initial=1.0))
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12 * scale, equal_nan=True))
