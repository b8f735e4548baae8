"""Serving a call: run one learner function on fresh arrays and send back only numbers.

Verdicts are never decided here: the grader compares what comes back.
"""

import copy
import itertools
import math
import os
import reprlib
import sys
import time
import traceback

import numpy as np

from .arguments import (BadArguments, arrange, arranged_names, check_arguments,
                        explain_arity)
from .limits import arm_cpu_limit

# Taken before any learner code runs: the learner may monkeypatch modules (NumPy included),
# but cannot rebind these names.
_asarray = np.asarray
_array = np.array
_perf_counter = time.perf_counter
_getpid = os.getpid
_exit = os._exit
_extract_tb = traceback.extract_tb
_concatenate = np.concatenate
_split = np.split
_prod = math.prod
_accumulate = itertools.accumulate
_deepcopy = copy.deepcopy

MAX_MESSAGE = 4000                  # characters of an exception's text worth showing
MAX_FRAMES = 40
MAX_SOURCE_LINE = 1000              # characters of a source line in a frame
REAL_KINDS = frozenset("biuf")


class WrongType(Exception):
    """The learner returned something that is not array-like numbers."""


class Calls:
    """The calls made into one imported submission (``submission.Submission``)."""

    def __init__(self, submission, timeout: float, memory_mb: int):
        self.submission = submission
        self.path = submission.path
        self.learner_files = submission.learner_files
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.pid = _getpid()

    def call(self, header: dict, arrays: list) -> tuple[dict, list]:
        """Run one learner function on fresh copies; the reply header and the result arrays."""
        name = header["function"]
        n_results = int(header.get("n_results", 1))
        func = self.function(name)
        if func is None:
            return self.missing(name)
        stage = [name]
        args, kwargs = arrange(header, arrays)

        def body():
            check_arguments(header, func, name, args, kwargs)
            return to_arrays(func(*args, **kwargs), n_results, name)

        reply, values = self.run(header["names"], arrays, stage, body)
        return explain_arity(reply, func, name, *arranged_names(header, header["names"])), \
            values

    def call_loss(self, header: dict, arrays: list) -> tuple[dict, list]:
        """``loss, grads = f(*args)``: the scalar loss, then the gradients named by ``grads``.

        ``grads`` lists the differentiated inputs in order; the learner's grads may be a tuple
        in that order, one array (for a single input) or a dict keyed by those names. With
        ``grads`` empty only the loss comes back (finite differences need no more).
        """
        name, wanted = header["function"], list(header.get("grads") or [])
        func = self.function(name)
        if func is None:
            return self.missing(name)
        args, kwargs = arrange(header, arrays)

        def body():
            check_arguments(header, func, name, args, kwargs)
            result = func(*args, **kwargs)
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise WrongType(f"{name} returned {describe(result)}; expected a pair "
                                "(loss, grads)")
            loss = to_array(result[0], f"the loss that {name} returned")
            if loss.size != 1:
                raise WrongType(f"the loss that {name} returned has shape {loss.shape}; "
                                "expected a single number")
            loss = _array(loss.reshape(()), dtype="f8")
            return [loss, *loss_gradients(result[1], wanted, name)] if wanted else [loss]

        reply, values = self.run(header["names"], arrays, [name], body)
        return explain_arity(reply, func, name, *arranged_names(header, header["names"])), \
            values

    def call_pair(self, header: dict, arrays: list) -> tuple[dict, list]:
        """``out, cache = forward(*args)``, then ``backward(dz, cache)``: out and the gradients.

        ``dz`` is the last array. The cache never leaves this process. ``n_results`` is the
        number of gradients, or -1 for as many as ``backward`` returns (a tuple: one per
        element; anything else: one).
        """
        forward_name, backward_name = header["forward"], header["backward"]
        n_results = int(header.get("n_results", -1))
        forward, backward = self.function(forward_name), self.function(backward_name)
        for name, func in ((forward_name, forward), (backward_name, backward)):
            if func is None and name is not None:     # no backward: the forward alone
                return self.missing(name)
        args, dz = (arrays[:-1], arrays[-1]) if backward_name is not None else (arrays, None)
        args, kwargs = arrange(header, args)
        stage = [forward_name]

        def pair():
            check_arguments(header, forward, forward_name, args, kwargs)
            out, shapes, cache = pair_parts(forward(*args, **kwargs), forward_name)
            if backward is None:
                return [out]
            stage[0] = backward_name
            # Several outputs (next_h, next_c, cache): their upstream gradients, in order.
            douts = [dz] if shapes is None else [
                part.reshape(shape) for part, shape in zip(
                    _split(dz.ravel(), _offsets(shapes)), shapes)]
            return [out, *to_arrays(backward(*douts, cache), n_results, backward_name)]

        reply, values = self.run(header["names"], arrays, stage, pair)
        if stage[0] == forward_name:
            names = header["names"][:-1] if backward is not None else header["names"]
            return explain_arity(reply, forward, forward_name,
                                 *arranged_names(header, names), caller="gradcheck"), values
        return explain_arity(reply, backward, backward_name, [header["names"][-1], "cache"],
                             caller="gradcheck"), values

    def call_rows(self, header: dict, arrays: list) -> tuple[dict, list]:
        """The forward on many inputs that differ in a few arguments: its outputs, stacked.

        The arrays are the arguments, then one stack per argument listed in ``vary``
        (``(k, *shape)``: row r replaces that argument in call r). ``style`` says what the
        forward returns: ``simple`` the output, ``pair`` ``(out, cache)``, ``loss``
        ``(loss, grads)``; only the output (the loss) is kept. Finite differences need
        thousands of such calls: one request carries them all.
        """
        name, style, vary = header["function"], header["style"], list(header["vary"])
        func = self.function(name)
        if func is None:
            return self.missing(name)
        n = len(arrays) - len(vary)
        base, stacks = arrays[:n], dict(zip(vary, arrays[n:]))
        k = len(next(iter(stacks.values()))) if stacks else 0

        def body():
            outputs = []
            for r in range(k):
                row = [stacks[i][r].copy() if i in stacks else a.copy()
                       for i, a in enumerate(base)]
                args, kwargs = arrange(_deepcopy(header), row)
                if r == 0:
                    check_arguments(header, func, name, args, kwargs)
                result = func(*args, **kwargs)
                if style == "pair":
                    result = pair_parts(result, name)[0]
                elif style != "simple":
                    if not isinstance(result, (tuple, list)) or len(result) != 2:
                        raise WrongType(f"{name} returned {describe(result)}; expected a pair")
                    result = result[0]
                outputs.append(to_array(result, f"{name} returned"))
            shapes = {o.shape for o in outputs}
            if len(shapes) > 1:
                raise WrongType(f"{name} returned outputs of shapes {sorted(shapes)} for inputs "
                                "of the same shapes")
            return [_array(outputs)] if outputs else []

        return self.run(header["names"], base, [name], body)

    def function(self, name: str):
        """The submission's callable ``name``, or None."""
        module = self.submission.module
        func = vars(module).get(name) if module is not None else None
        return func if callable(func) else None

    @staticmethod
    def missing(name: str) -> tuple[dict, list]:
        return {"status": "missing", "diagnosis": "missing_function",
                "message": f"{name} is not defined in the submission"}, []

    def run(self, names: list, arrays: list, stage: list, body) -> tuple[dict, list]:
        """Run learner code (``body``) under the limits; the reply header and the arrays.

        ``stage[0]`` names the learner function running, for messages.
        """
        pristine = [(a.dtype.str, a.shape, a.tobytes()) for a in arrays]
        reply = {"status": "ok", "diagnosis": None, "message": "", "frames": []}
        values = []
        arm_cpu_limit(2 * self.timeout + 1)
        started = _perf_counter()
        try:
            # Made contiguous here, under the limits: a broadcast view of 10**12 numbers
            # returned is the learner's memory to spend, not a crash of the reply's copy.
            values = [v if v.flags.c_contiguous else v.copy(order="C") for v in body()]
        except WrongType as exc:
            reply = {"status": "error", "diagnosis": "wrong_type", "message": str(exc),
                     "frames": []}
        except BadArguments as exc:
            reply = {"status": "error", "diagnosis": "bad_arguments", "message": str(exc),
                     "frames": []}
        except MemoryError:
            reply = {"status": "memory_limit", "diagnosis": "memory_limit", "frames": [],
                     "message": f"{stage[0]} needed more than {self.memory_mb} MB of memory"}
        except BaseException as exc:   # noqa: BLE001 - learner code: anything can come out
            message = (f"{stage[0]} called sys.exit({exc.code!r})"
                       if isinstance(exc, SystemExit) else describe_exception(exc))
            reply = {"status": "error", "diagnosis": "exception", "message": message,
                     "frames": learner_frames(self.learner_files, exc.__traceback__)}
        finally:
            duration = _perf_counter() - started
            guard_fork(self.pid)
            flush_stdio()
        reply["duration_s"] = duration
        reply["mutated"] = [n for n, a, (dtype, shape, data) in zip(names, arrays, pristine)
                            if a.dtype.str != dtype or a.shape != shape or a.tobytes() != data]
        return reply, values


# ---------------------------------------------------------------------------- arguments


# ---------------------------------------------------------------------------- results


def loss_gradients(grads, wanted: list, name: str) -> list:
    """The gradients a loss function returned, in ``wanted``'s order, as arrays."""
    if isinstance(grads, dict):
        absent = [w for w in wanted if w not in grads]
        if absent:
            raise WrongType(f"the grads dict that {name} returned has no "
                            f"{', '.join(map(repr, absent))} (its keys: "
                            f"{', '.join(map(repr, list(grads)[:8]))})")
        return [to_array(grads[w], f"grads[{w!r}] that {name} returned") for w in wanted]
    if len(wanted) == 1 and not isinstance(grads, (tuple, list)):
        return [to_array(grads, f"the gradient that {name} returned")]
    if not isinstance(grads, (tuple, list)) or len(grads) != len(wanted):
        raise WrongType(f"{name} returned {describe(grads)} as its gradients; expected "
                        f"{len(wanted)}, one per input it differentiates "
                        f"({', '.join(wanted)}), as a tuple in that order or a dict")
    return _each_array(grads, name)



def to_arrays(result, n_results: int, name: str) -> list:
    """The learner's result as ``n_results`` numeric arrays, or WrongType saying what it was.

    ``n_results == -1`` takes what came: a tuple is one array per element, anything else one.
    """
    if n_results == -1:
        if isinstance(result, list) and len(result) > 1 \
                and all(isinstance(r, np.ndarray) or r is None for r in result):
            result = tuple(result)          # [dx, dw, db]: several gradients, as a tuple
        if not isinstance(result, tuple):
            return [to_array(result, f"{name} returned")]
        if not result:
            raise WrongType(f"{name} returned an empty tuple; expected the gradients")
        return _each_array(result, name)
    if n_results == 1:
        if isinstance(result, tuple) and result \
                and all(isinstance(r, np.ndarray) and r.ndim for r in result):
            # (dx,) by a trailing comma, or (dx, dy) where one gradient is asked for.
            raise WrongType(f"{name} returned a tuple of {len(result)} "
                            f"arra{'y' if len(result) == 1 else 'ys'}; this exercise asks for "
                            "one gradient: return the array itself (drop the tuple, or the "
                            "trailing comma of `return dx,`)")
        return [to_array(result, f"{name} returned")]
    if not isinstance(result, (tuple, list)):
        raise WrongType(f"{name} returned {describe(result)}; expected a tuple of {n_results} "
                        "arrays, one gradient per input")
    if len(result) != n_results:
        raise WrongType(f"{name} returned {len(result)} values; expected {n_results}, "
                        "one gradient per input")
    return _each_array(result, name)


def pair_parts(result, name: str) -> tuple:
    """``(out, shapes, cache)`` of what a pair-style forward returned: ``(out, cache)``, or
    several outputs before the cache (an LSTM step's ``next_h, next_c, cache``), which come
    as one flat array of them all, with their shapes (else None), for the backward's douts."""
    if not isinstance(result, (tuple, list)) or len(result) < 2:
        raise WrongType(f"{name} returned {describe(result)}; expected a pair (out, cache)")
    if len(result) == 2:
        return _array(to_array(result[0], f"the output that {name} returned")), None, result[1]
    outs = [to_array(r, f"output {i + 1} of {len(result) - 1} that {name} returned")
            for i, r in enumerate(result[:-1])]
    flat = _concatenate([_array(o, dtype=float).ravel() for o in outs])
    return flat, [o.shape for o in outs], result[-1]


def _offsets(shapes: list) -> list[int]:
    """Where each output after the first starts in the flat array of them all."""
    return list(_accumulate(_prod(shape) for shape in shapes[:-1]))


def _each_array(result, name: str) -> list:
    n = len(result)
    return [to_array(value, f"value {i + 1} of {n} that {name} returned")
            for i, value in enumerate(result)]


MAX_DIMS = 32      # NumPy 1's limit, which some of NumPy 2's functions keep


def to_array(value, what: str):
    """One returned value as a numeric array (its own dtype kept)."""
    if value is None:
        if what.startswith("value "):       # one of several: a gradient left uncomputed
            raise WrongType(f"{what} None, not an array (a gradient not computed yet?)")
        raise WrongType(f"{what} None, not an array (is a `return` statement missing?)")
    if isinstance(value, (str, bytes)):
        raise WrongType(f"{what} {describe(value)}, not an array of numbers")
    try:
        arr = _asarray(value)
    except MemoryError:
        raise
    except BaseException as exc:       # noqa: BLE001 - ragged lists, tensors that need grad, ...
        text = describe_exception(exc)
        if "inhomogeneous" in text:
            raise WrongType(f"{what} {describe(value)}: a ragged list (rows of different "
                            f"lengths), not an array. NumPy says: {text}") from None
        raise WrongType(f"{what} {describe(value)}, which NumPy cannot turn into an array: "
                        f"{text}") from None
    if arr.dtype.kind == "c":
        raise WrongType(f"{what} complex numbers ({describe(value)}); a gradient of real "
                        "inputs is real")
    if arr.dtype.kind not in REAL_KINDS:
        raise WrongType(f"{what} {describe(value)}, not an array of numbers "
                        f"(NumPy sees dtype {arr.dtype})")
    if arr.ndim > MAX_DIMS:
        raise WrongType(f"{what} an array of {arr.ndim} dimensions; a gradient has the "
                        f"shape of its input, and many of NumPy's functions take at most "
                        f"{MAX_DIMS}")
    return arr


# ---------------------------------------------------------------------------- describing


_short = reprlib.Repr()
_short.maxlist = _short.maxtuple = 6
_short.maxstring = _short.maxother = 60
_short.maxlevel = 3


def describe(value) -> str:
    """`a list ([[1.0, 2.0], [3.0]])`: the type and a short repr of a learner's value."""
    kind = type(value).__name__
    if kind == "ndarray":
        kind = f"ndarray of dtype {value.dtype}"
    try:
        text = " ".join(str(_short.repr(value)).split())   # an array's repr spans lines
    except BaseException:              # noqa: BLE001 - a learner's __repr__ may raise
        text = "<unprintable>"
    article = "an" if kind[:1].lower() in "aeiou" or kind.startswith("ndarray") else "a"
    return f"{article} {kind} ({text})"


def describe_exception(exc: BaseException) -> str:
    """`ValueError: shapes (3,) and (2,) not aligned`, capped."""
    kind = type(exc).__name__
    try:
        text = str(exc)
    except BaseException:              # noqa: BLE001 - a learner's __str__ may raise
        text = "<unprintable exception>"
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + f"… ({len(text) - MAX_MESSAGE} characters more)"
    return f"{kind}: {text}" if text else kind


def learner_frames(files, tb) -> list[dict]:
    """The traceback frames in the learner's ``files`` (the submission and the modules beside
    it), oldest first: none of the machinery's, nor NumPy's."""
    try:
        frames = [f for f in _extract_tb(tb) if f.filename in files]
    except BaseException:              # noqa: BLE001 - unreadable source: no frames, no crash
        return []
    return [{"file": f.filename, "line": f.lineno, "function": f.name,
             "source": shortened(f.line or "")} for f in frames[-MAX_FRAMES:]]


def shortened(line: str) -> str:
    """A source line as a report shows it: a line of 20,000 characters is not read whole (and
    would exceed what the grader accepts of a frame)."""
    return line if len(line) <= MAX_SOURCE_LINE else line[:MAX_SOURCE_LINE] + " …"


# ---------------------------------------------------------------------------- after learner code


def guard_fork(pid: int) -> None:
    """A process the learner forked (``pid`` is the worker's) must not return into its loop."""
    if _getpid() != pid:
        _exit(0)


def flush_stdio() -> None:
    """Push what the learner printed into the capture pipe before the reply goes out."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:          # noqa: BLE001 - closed or replaced by the learner
            pass
