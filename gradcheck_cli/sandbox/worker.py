"""``Worker``: one submission, imported in its own process, called function by function.

Learner code never runs in the grader's process. The worker sends back bytes of numbers and
nothing else; whatever the learner does in there (monkeypatching NumPy, printing, exiting,
looping forever) can fail a call but cannot change how the grader judges the numbers.
"""

from __future__ import annotations

import signal
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from ..errors import UsageError
from .channel import Closed, TimedOut
from .inside import wire
from .options import SandboxOptions
from .process import SandboxError, WorkerProcess, describe_exit, launch
from .results import STATUSES, CallResult, Frame, ImportFailure

if TYPE_CHECKING:
    from .forkserver import ForkServer

_CPU_LIMIT = -getattr(signal, "SIGXCPU", 24)       # the backstop fired: a timeout, really
_IMPORT_HINTS = {
    "timeout": "Look for an endless loop or a long computation at the top level of the file; "
               "put script code under `if __name__ == \"__main__\":`.",
    "crashed": "Something at the top level of the file ended the process (os._exit, a signal, "
               "a native crash); put script code under `if __name__ == \"__main__\":`.",
}


class Worker:
    """A submission's worker process, driven from the grader (one thread per worker).

    ``start()`` (or entering the ``with`` block) launches the process, which imports the
    submission while the caller does other work; ``import_error``, ``functions`` and
    ``import_stdout`` wait for that import. After a call times out, crashes or runs out of
    memory, the next call gets a fresh process that imports the submission again. With a
    running ``fork_server``, each process is forked from it instead of spawned: the same
    worker, sooner.
    """

    def __init__(self, path: str | Path, options: SandboxOptions | None = None, *,
                 fork_server: ForkServer | None = None):
        self.path = str(path)
        self.options = options or SandboxOptions()
        self.fork_server = fork_server
        file = Path(path)
        if not file.is_file():
            raise UsageError(f"submission file not found: {path}",
                             hint="pass the path of a Python file that defines the functions")
        self._abs_path = str(file.resolve())
        self.restarts = 0
        self._process: WorkerProcess | None = None
        self._finalizer: weakref.finalize | None = None
        self._imported = False
        self._import_error: ImportFailure | None = None
        self._functions: dict[str, int | None] = {}
        self._import_stdout = ""
        self._limits: list[str] = []
        self._confinement: dict[str, Any] = {}
        self._launched_by = ""
        self._closed = False

    def __enter__(self) -> "Worker":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("running" if self._process else "idle")
        return f"Worker({self.path!r}, {state})"

    # -- lifecycle

    def start(self) -> "Worker":
        """Launch the worker process without waiting for the submission to import."""
        if self._closed:
            raise RuntimeError("this Worker is closed")
        if self._process is None and not self._imported:
            self._launch()
        return self

    def close(self) -> None:
        """Kill the worker and everything it started; idempotent."""
        self._closed = True
        self._discard()

    # -- what the import found

    @property
    def import_error(self) -> ImportFailure | None:
        """Why the submission could not be imported, or None."""
        self._ensure_imported()
        return self._import_error

    @property
    def functions(self) -> dict[str, int | None]:
        """Top-level callables of the submission → the line defining them (None if elsewhere)."""
        self._ensure_imported()
        return dict(self._functions)

    @property
    def import_stdout(self) -> str:
        """What the submission printed while being imported (capped)."""
        self._ensure_imported()
        return self._import_stdout

    @property
    def pid(self) -> int | None:
        """The current worker process's id (as the grader sees it), or None."""
        return self._process.pid if self._process is not None else None

    def describe(self) -> dict[str, Any]:
        """The sandbox's settings and what it did, as plain data for reports.

        ``network`` is "cut" or "not cut: <reason>"; ``process_limit`` the RLIMIT_NPROC set,
        or why none; ``uid`` and ``user`` whom the learner's code ran as; ``launch`` "fork"
        (from a fork server) or "spawn" (a fresh interpreter). Waits for the worker to start.
        """
        if not self._closed:
            self._ensure_imported()
        opts = self.options
        confinement = self._confinement
        return {"isolation": "process", "launch": self._launched_by or "spawn",
                "timeout_s": opts.timeout,
                "import_timeout_s": opts.effective_import_timeout, "memory_mb": opts.memory_mb,
                "network": confinement.get("network", "not cut: the worker did not start"),
                "pid_namespace": bool(confinement.get("pid_namespace")),
                "process_limit": confinement.get("process_limit", opts.process_limit),
                "uid": confinement.get("uid"), "user": confinement.get("user"),
                "forbidden_imports": list(opts.refused_imports),
                "capture_limit": opts.capture_limit, "limits": list(self._limits),
                "restarts": self.restarts}

    # -- calls

    def call(self, function: str, args: Mapping[str, Any] | Iterable, n_results: int = 1
             ) -> CallResult:
        """Call a learner function on fresh copies of ``args``; never raises for its mistakes.

        ``args`` are positional, in signature order: ``(name, array)`` pairs, a mapping, or
        bare arrays. A function expected to return several gradients gets ``n_results > 1``.
        This is also the simple style of a backward function, ``grad_f(*args, dz)``: pass dz
        as the last argument.
        """
        names, arrays = _arguments(args)
        header = {"op": "call", "function": function, "names": names,
                  "n_results": int(n_results)}
        return self._request(function, (function,), header, names, arrays, int(n_results))

    def call_pair(self, forward: str, backward: str | None,
                  args: Mapping[str, Any] | Iterable, dz,
                  n_grads: int | None = None) -> CallResult:
        """A CS231n-style layer: ``out, cache = forward(*args)``, then ``backward(dz, cache)``.

        Both run in the worker, one after the other, and the cache never leaves it. The
        result's ``values`` are ``(out, *grads)``: the forward's output, then the gradients
        ``backward`` returned, in its order. ``n_grads`` is how many gradients to expect;
        None takes what comes (a tuple: one gradient per element; anything else: one).
        ``mutated`` may name ``dz`` as well as the arguments. With ``backward=None`` only the
        forward runs and ``values`` is ``(out,)`` (the output's shape is what dz must have).
        """
        names, arrays = _arguments(args)
        if backward is None:
            header = {"op": "call_pair", "forward": forward, "backward": None, "names": names,
                      "n_results": 0}
            return self._request(forward, (forward,), header, names, arrays, 1)
        dz_name, dz_array = _arguments([("dz", dz)])
        n_results = -1 if n_grads is None else int(n_grads)
        header = {"op": "call_pair", "forward": forward, "backward": backward,
                  "names": names + dz_name, "n_results": n_results}
        expected = None if n_grads is None else 1 + int(n_grads)
        return self._request(f"{forward}/{backward}", (forward, backward), header,
                             names + dz_name, arrays + dz_array, expected)

    # -- internals

    def _request(self, label: str, functions: tuple[str, ...], header: dict, names: list[str],
                 arrays: list, n_values: int | None) -> CallResult:
        """Send one call request and turn whatever happens into a CallResult."""
        if self._closed:
            raise RuntimeError("this Worker is closed")
        failure = self.import_error
        if failure is not None:
            return CallResult("error", diagnosis="import_error", message=failure.message,
                              frames=failure.frames)
        for function in functions:
            if function not in self._functions:
                return CallResult("missing", diagnosis="missing_function",
                                  message=f"{function} is not defined in {self.path}")
        process = self._process
        if process is None:
            failure = self._relaunch()
            if failure is not None:
                return CallResult("error", diagnosis="import_error", message=failure.message,
                                  frames=failure.frames, stdout=failure.stdout)
            process = self._process
        request = wire.encode_parts(header, arrays)
        started = time.monotonic()
        try:
            process.pipes.send(request, started + self.options.timeout)
            reply, values = process.pipes.receive(started + self.options.timeout)
        except TimedOut:
            self._discard()
            return CallResult("timeout", diagnosis="timeout", stdout=process.capture.take(),
                              message=f"{label} did not return within "
                                      f"{self.options.timeout:g} s",
                              duration_s=time.monotonic() - started)
        except (Closed, wire.WireError) as exc:
            return self._died_during(label, process, started, exc)
        return self._result(reply, values, names, n_values, process.capture.take())

    def _launch(self) -> WorkerProcess:
        process = launch(self._abs_path, self.options, self.fork_server)
        self._launched_by = process.launch
        self._process = process
        self._finalizer = weakref.finalize(self, process.end)
        return process

    def _discard(self) -> None:
        """End the current process (if any); the next call starts a fresh one."""
        if self._finalizer is not None:
            self._finalizer()               # runs process.end() once
        self._process, self._finalizer = None, None

    def _ensure_imported(self) -> None:
        if self._imported:
            return
        process = self._process or self.start()._process
        self._functions, self._import_error, self._import_stdout = self._await_ready(process)
        self._imported = True

    def _relaunch(self) -> ImportFailure | None:
        self.restarts += 1
        _, failure, _ = self._await_ready(self._launch())
        return failure

    def _await_ready(self, process: WorkerProcess):
        """Wait for the worker's import; (functions, failure or None, import output)."""
        opts = self.options
        try:
            started, _ = process.pipes.receive(time.monotonic() + opts.startup_timeout)
        except (Closed, TimedOut, wire.WireError) as exc:
            status = process.exit_status()
            self._discard()
            raise SandboxError(f"the worker process did not start ({describe_exit(status)}, "
                               f"{type(exc).__name__}); it printed:\n"
                               f"{process.capture.take()}") from None
        self._limits = [str(x) for x in started.get("limits", ())]
        self._confinement = dict(started.get("confinement") or {})
        try:
            ready, _ = process.pipes.receive(time.monotonic() + opts.effective_import_timeout)
        except TimedOut:
            self._discard()
            return {}, self._worker_failure(
                "timeout", f"importing the submission took longer than "
                           f"{opts.effective_import_timeout:g} s", process), ""
        except (Closed, wire.WireError):
            status = process.exit_status()
            self._discard()
            if status == _CPU_LIMIT:
                return {}, self._worker_failure(
                    "timeout", "importing the submission used too much CPU time", process), ""
            return {}, self._worker_failure(
                "crashed", f"the worker process died while importing the submission "
                           f"({describe_exit(status)})", process), ""
        stdout = process.capture.take()
        raw = ready.get("import_error")
        if raw:
            self._discard()
            return {}, self._import_failure(raw, stdout), stdout
        functions = {str(k): (int(v) if isinstance(v, int) else None)
                     for k, v in dict(ready.get("functions") or {}).items()}
        return functions, None, stdout

    def _worker_failure(self, kind: str, summary: str, process: WorkerProcess) -> ImportFailure:
        return ImportFailure(f"{self.path}: {summary}", stdout=process.capture.take(),
                             kind=kind, hint=_IMPORT_HINTS.get(kind))

    def _import_failure(self, raw: dict, stdout: str) -> ImportFailure:
        """The worker's description of a failed import, as a message naming file and line."""
        frames = self._frames(raw.get("frames"))
        summary = str(raw.get("summary") or "the submission could not be imported")
        message = f"{self.path}:{frames[-1]['line']}: {summary}" if frames \
            else f"{self.path}: {summary}"
        if frames and frames[-1].get("source"):
            message += _source_excerpt(frames[-1])
        hint = raw.get("hint")
        return ImportFailure(message, frames, stdout, kind=str(raw.get("kind") or "exception"),
                             hint=str(hint) if hint else None)

    def _died_during(self, function: str, process: WorkerProcess, started: float,
                     exc: Exception) -> CallResult:
        status = process.exit_status() if isinstance(exc, Closed) else None
        self._discard()
        duration = time.monotonic() - started
        stdout = process.capture.take()
        if status == _CPU_LIMIT:
            return CallResult("timeout", diagnosis="timeout", stdout=stdout, duration_s=duration,
                              message=f"{function} used more CPU time than allowed")
        cause = (f"the worker sent a malformed reply ({exc})" if isinstance(exc, wire.WireError)
                 else f"the worker process died ({describe_exit(status)})")
        return CallResult("crashed", diagnosis="crashed", stdout=stdout, duration_s=duration,
                          message=f"{function} crashed: {cause}")

    def _result(self, header: dict, values: list, names: list[str], n_values: int | None,
                stdout: str) -> CallResult:
        status = header.get("status")
        wrong_count = n_values is not None and len(values) != n_values
        if status not in STATUSES or (status == "ok" and (wrong_count or not values)):
            self._discard()
            return CallResult("crashed", diagnosis="crashed", stdout=stdout,
                              message="the worker sent a malformed reply")
        if status == "memory_limit":
            self._discard()                  # a fresh process for the next call
        mutated = tuple(n for n in header.get("mutated") or () if n in names)
        return CallResult(
            status=status, values=tuple(values) if status == "ok" else (),
            diagnosis=header.get("diagnosis"), message=str(header.get("message") or ""),
            frames=self._frames(header.get("frames")), stdout=stdout, mutated=mutated,
            duration_s=float(header.get("duration_s") or 0.0))

    def _frames(self, raw) -> tuple[Frame, ...]:
        """Frames as plain dicts, naming the submission the way the caller named it."""
        frames = []
        for f in raw or ():
            file = str(f.get("file", ""))
            frame: Frame = {"file": self.path if file == self._abs_path else file,
                            "line": int(f.get("line") or 0),
                            "function": str(f.get("function", "")),
                            "source": str(f.get("source") or "")}
            if f.get("column") is not None:
                frame["column"] = int(f["column"])
            frames.append(frame)
        return tuple(frames)


def _source_excerpt(frame: Frame) -> str:
    """The offending line, indented, with a caret under the column when known."""
    source = frame["source"].rstrip()
    stripped = source.lstrip()
    text = f"\n    {stripped}"
    column = frame.get("column")
    if column:
        text += "\n    " + " " * max(column - 1 - (len(source) - len(stripped)), 0) + "^"
    return text


def _arguments(args) -> tuple[list[str], list[np.ndarray]]:
    """Names and numeric arrays of the positional arguments of a call."""
    items = list(args.items()) if isinstance(args, Mapping) else list(args)
    names, arrays = [], []
    for i, item in enumerate(items):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            name, value = item
        else:
            name, value = f"arg{i}", item
        arr = np.asarray(value)
        if arr.dtype.kind not in wire.NUMERIC_KINDS:
            raise TypeError(f"argument {name!r} is not numeric (dtype {arr.dtype})")
        names.append(name)
        arrays.append(arr)
    return names, arrays
