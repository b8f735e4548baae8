"""The learner's worker process: import one submission, then serve call requests.

``Worker`` starts this file as a standalone script,
``python -I -B -u child.py REQUEST_FD RESPONSE_FD [NUMPY_DIR]``, so it never imports
gradcheck_cli and needs nothing but NumPy. File descriptors 1 and 2 are the grader's capture
pipe: whatever the learner prints goes there, never into the request/response channel.

The conversation, in frames of ``wire.py``::

    grader → worker   {"op": "init", "path", "timeout", "import_timeout", "memory_mb",
                       "forbidden_imports"}
    worker → grader   {"kind": "started", "pid", "limits"}
    worker → grader   {"kind": "ready", "functions": {name: line}, "import_error": null | {...}}
    grader → worker   {"op": "call", "function", "names", "n_results"} + the argument arrays
    worker → grader   {"kind": "result", "status", "diagnosis", "message", "frames",
                       "mutated", "duration_s"} + the result arrays (their own dtypes)

The worker exits when the request pipe closes. Verdicts are never decided here: the worker
only sends numbers back, and the grader compares them.
"""

import os
import sys

if __name__ == "__main__" and len(sys.argv) > 3 and sys.argv[3] not in sys.path:
    sys.path.append(sys.argv[3])    # where the grader found NumPy (a user site, for example)

import importlib.util
import reprlib
import time
import traceback

import numpy as np

try:
    import resource
except ImportError:                 # not POSIX: no limits, the timeout still holds
    resource = None

# Taken before any learner code runs: the learner may monkeypatch modules (NumPy included),
# but cannot rebind these names.
_asarray = np.asarray
_perf_counter = time.perf_counter
_getpid = os.getpid
_exit = os._exit
_readv = os.readv
_write = os.write
_extract_tb = traceback.extract_tb
_sys_modules = sys.modules

MODULE_NAME = "submission"
MAX_MESSAGE = 4000                  # characters of an exception's text worth showing
MAX_FRAMES = 40
NUMERIC_KINDS = frozenset("biufc")
PR_SET_CHILD_SUBREAPER = 36


def _load_wire():
    """The frame codec, loaded by path: this script's folder is not an importable package."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wire.py")
    spec = importlib.util.spec_from_file_location("_gradcheck_wire", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wire = _load_wire()
_encode_parts, _decode = wire.encode_parts, wire.decode


# ---------------------------------------------------------------------------- the channel


class Channel:
    """Blocking frame I/O on the two private pipes."""

    def __init__(self, request_fd: int, response_fd: int):
        self.request_fd = request_fd
        self.response_fd = response_fd
        self.reader = wire.FrameReader(max_payload=1 << 40)
        for fd in (request_fd, response_fd):
            os.set_inheritable(fd, False)   # the learner's subprocesses do not get them

    def receive(self):
        """The next request: (header, fresh arrays). Exits when the grader hangs up."""
        while True:
            n = _readv(self.request_fd, [self.reader.buffer()])
            if not n:                   # the grader hung up: nothing left to do
                _exit(0)
            frame = self.reader.advance(n)
            if frame is not None:
                return _decode(*frame, copy=False)

    def send(self, header: dict, arrays=()) -> None:
        """Write one reply frame, whole."""
        for part in _encode_parts(header, arrays):
            data = memoryview(part)
            while data:
                data = data[_write(self.response_fd, data):]


# ---------------------------------------------------------------------------- limits


def apply_limits(config: dict) -> list[str]:
    """Resource limits for this process and its children; names what could be applied."""
    applied = []
    if sys.platform.startswith("linux") and _become_subreaper():
        applied.append("subreaper")
    if resource is None:
        return applied
    if _set_limit(resource.RLIMIT_CORE, 0, 0):
        applied.append("no_core_dumps")
    limit = _vm_bytes() + int(config["memory_mb"]) * 2**20
    if _set_limit(resource.RLIMIT_AS, limit, limit):    # hard too: the learner cannot lift it
        applied.append("address_space")
    applied.append("cpu_time")
    return applied


def arm_cpu_limit(seconds: float) -> None:
    """Let the next piece of learner code use ``seconds`` of CPU time, then SIGXCPU.

    A backstop for a worker whose grader is gone; the grader's wall-clock timeout comes first.
    """
    if resource is None:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    _set_limit(resource.RLIMIT_CPU, soft, None)


def _set_limit(which, soft, hard) -> bool:
    try:
        _, current_hard = resource.getrlimit(which)
        if hard is None:
            hard = current_hard
        if current_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        resource.setrlimit(which, (soft, hard))
        return True
    except (ValueError, OSError):
        return False


def _vm_bytes() -> int:
    """This process's address space now (interpreter + NumPy), which the limit comes on top of."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 512 * 2**20


def _become_subreaper() -> bool:
    """Orphans of the learner's processes re-parent to the worker, so the grader can find them."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


# ---------------------------------------------------------------------------- refused imports


class ForbiddenImportError(ImportError):
    """The learner imported a module the exercise refuses."""


class RefuseImports:
    """A meta-path finder that refuses whole top-level packages."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in self.names:
            raise ForbiddenImportError(
                f"gradcheck: importing '{top}' is not allowed in this exercise", name=fullname)
        return None

    def install(self) -> None:
        """Forget refused modules already imported, then refuse them from now on."""
        for name in list(_sys_modules):
            if name.partition(".")[0] in self.names:
                del _sys_modules[name]
        sys.meta_path.insert(0, self)


# ---------------------------------------------------------------------------- the session


class WrongType(Exception):
    """The learner returned something that is not array-like numbers."""


class Session:
    """One imported submission and the calls made into it."""

    def __init__(self, config: dict):
        self.path = config["path"]
        self.timeout = float(config["timeout"])
        self.import_timeout = float(config["import_timeout"])
        self.memory_mb = int(config["memory_mb"])
        self.forbidden = tuple(config.get("forbidden_imports", ()))
        self.pid = _getpid()
        self.module = None

    # -- import

    def import_submission(self) -> dict | None:
        """Import the learner's file; the failure, described, or None."""
        RefuseImports(self.forbidden).install()
        sys.argv = [self.path]
        arm_cpu_limit(2 * self.import_timeout + 1)
        try:
            spec = importlib.util.spec_from_file_location(MODULE_NAME, self.path)
            module = importlib.util.module_from_spec(spec)
            _sys_modules[MODULE_NAME] = module    # dataclasses and the like look it up
            spec.loader.exec_module(module)
        except BaseException as exc:   # noqa: BLE001 - learner code: anything can come out
            return self.import_failure(exc)
        finally:
            self.guard_fork()
            flush_stdio()
        self.module = module
        return None

    def import_failure(self, exc: BaseException) -> dict:
        """Kind, summary, frames and hint of an exception raised while importing."""
        frames = self.learner_frames(exc.__traceback__)
        hint = None
        if isinstance(exc, SyntaxError) and exc.filename == self.path:
            kind, summary = "syntax_error", f"{type(exc).__name__}: {exc.msg}"
            frames = [{"file": self.path, "line": exc.lineno or 0, "function": "<module>",
                       "source": (exc.text or "").rstrip("\n"), "column": exc.offset}]
        elif isinstance(exc, ForbiddenImportError):
            kind, summary = "forbidden_import", str(exc)
            hint = "Write the gradient with NumPy only; this exercise refuses that library."
        elif isinstance(exc, SystemExit):
            kind = "exit"
            summary = f"the submission called sys.exit({exc.code!r}) while being imported"
            hint = ("Move script code (tests, prints, exit) under "
                    "`if __name__ == \"__main__\":`; gradcheck imports the file as a module.")
        elif isinstance(exc, MemoryError):
            kind = "memory_limit"
            summary = f"MemoryError: importing the submission needed more than {self.memory_mb} MB"
        else:
            kind, summary = "exception", describe_exception(exc)
        return {"kind": kind, "summary": summary, "frames": frames, "hint": hint}

    def functions(self) -> dict:
        """Top-level callables of the submission and the line each is defined on (or None)."""
        out = {}
        for name, obj in list(vars(self.module).items()):
            try:
                if name.startswith("__") or not callable(obj):
                    continue
                out[str(name)] = self.definition_line(obj)
            except BaseException:      # noqa: BLE001 - a learner object's attributes misbehaved
                continue
        return out

    def definition_line(self, obj) -> int | None:
        """The first line of ``obj``'s definition in the submission (its decorator's, if any)."""
        for _ in range(8):             # through functools.wraps, partial and bound methods
            inner = getattr(obj, "__wrapped__", None)   # the decorated function, not its wrapper
            if inner is None:
                code = getattr(obj, "__code__", None)
                if code is not None:
                    return code.co_firstlineno if code.co_filename == self.path else None
                inner = getattr(obj, "__func__", None) or getattr(obj, "func", None)
            if inner is None:
                return None
            obj = inner
        return None

    # -- calls

    def call(self, header: dict, arrays: list) -> tuple[dict, list]:
        """Run one learner function on fresh copies; the reply header and the result arrays."""
        name, names = header["function"], header["names"]
        n_results = int(header.get("n_results", 1))
        func = vars(self.module).get(name) if self.module is not None else None
        if func is None or not callable(func):
            return {"status": "missing", "diagnosis": "missing_function",
                    "message": f"{name} is not defined in the submission"}, []
        pristine = [(a.dtype.str, a.shape, a.tobytes()) for a in arrays]
        reply = {"status": "ok", "diagnosis": None, "message": "", "frames": []}
        values = []
        arm_cpu_limit(2 * self.timeout + 1)
        started = _perf_counter()
        try:
            values = to_arrays(func(*arrays), n_results, name)
        except WrongType as exc:
            reply = {"status": "error", "diagnosis": "wrong_type", "message": str(exc),
                     "frames": []}
        except MemoryError:
            reply = {"status": "memory_limit", "diagnosis": "memory_limit", "frames": [],
                     "message": f"{name} needed more than {self.memory_mb} MB of memory"}
        except BaseException as exc:   # noqa: BLE001 - learner code: anything can come out
            message = (f"{name} called sys.exit({exc.code!r})" if isinstance(exc, SystemExit)
                       else describe_exception(exc))
            reply = {"status": "error", "diagnosis": "exception", "message": message,
                     "frames": self.learner_frames(exc.__traceback__)}
        finally:
            duration = _perf_counter() - started
            self.guard_fork()
            flush_stdio()
        reply["duration_s"] = duration
        reply["mutated"] = [n for n, a, (dtype, shape, data) in zip(names, arrays, pristine)
                            if a.dtype.str != dtype or a.shape != shape or a.tobytes() != data]
        return reply, values

    def learner_frames(self, tb) -> list[dict]:
        """The traceback frames in the submission file, oldest first: none of the machinery's."""
        try:
            frames = [f for f in _extract_tb(tb) if f.filename == self.path]
        except BaseException:          # noqa: BLE001 - unreadable source: no frames, no crash
            return []
        return [{"file": f.filename, "line": f.lineno, "function": f.name, "source": f.line or ""}
                for f in frames[-MAX_FRAMES:]]

    def guard_fork(self) -> None:
        """A process the learner forked must not return into the worker's loop."""
        if _getpid() != self.pid:
            _exit(0)


def to_arrays(result, n_results: int, name: str) -> list:
    """The learner's result as ``n_results`` numeric arrays, or WrongType saying what it was."""
    if n_results == 1:
        return [to_array(result, f"{name} returned")]
    if not isinstance(result, (tuple, list)):
        raise WrongType(f"{name} returned {describe(result)}; expected a tuple of {n_results} "
                        "arrays, one gradient per input")
    if len(result) != n_results:
        raise WrongType(f"{name} returned {len(result)} values; expected {n_results}, "
                        "one gradient per input")
    return [to_array(value, f"value {i + 1} of {n_results} that {name} returned")
            for i, value in enumerate(result)]


def to_array(value, what: str):
    """One returned value as a numeric array (its own dtype kept)."""
    if value is None:
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
    if arr.dtype.kind not in NUMERIC_KINDS:
        raise WrongType(f"{what} {describe(value)}, not an array of numbers "
                        f"(NumPy sees dtype {arr.dtype})")
    return arr


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
        text = _short.repr(value)
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


def flush_stdio() -> None:
    """Push what the learner printed into the capture pipe before the reply goes out."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:          # noqa: BLE001 - closed or replaced by the learner
            pass


# ---------------------------------------------------------------------------- main loop


def serve(channel: Channel, config: dict) -> None:
    """Import the submission, say what it defines, then answer calls until the grader hangs up."""
    channel.send({"kind": "started", "pid": _getpid(), "limits": apply_limits(config)})
    session = Session(config)
    failure = session.import_submission()
    functions = session.functions() if failure is None else {}
    channel.send({"kind": "ready", "functions": functions, "import_error": failure})
    while True:
        header, arrays = channel.receive()
        if header.get("op") != "call":
            _exit(0)
        reply, values = session.call(header, arrays)
        channel.send({"kind": "result", **reply}, values)


def main(argv: list[str]) -> None:
    channel = Channel(int(argv[1]), int(argv[2]))
    config, _ = channel.receive()
    serve(channel, config)


if __name__ == "__main__":
    main(sys.argv)
