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

from ..notebook import NotebookError, NotebookSource, is_notebook, read_notebook
from . import protocol
from .channel import Closed, TimedOut
from .forkserver import launch
from .inside import wire
from .layer_calls import StyledCalls
from .learner_files import check_submission
from .options import SandboxOptions
from .process import SandboxError, WorkerProcess, describe_exit
from .protocol import ProtocolViolation
from .replies import Naming, arguments, not_called_again, oversized, reply_budget
from .results import CallResult, ImportFailure

if TYPE_CHECKING:
    from .forkserver import ForkServer

# The CPU-time backstop fired (SIGXCPU at the soft limit, SIGKILL at the hard one): a timeout.
_CPU_LIMIT = -getattr(signal, "SIGXCPU", 24)


def _notebook_cells(file: Path) -> NotebookSource | None:
    """How a notebook's lines map to its cells (None for a .py file, or a notebook that cannot
    be read: the worker then reports why as the submission's import failure)."""
    if not is_notebook(file):
        return None
    try:
        return read_notebook(file)
    except NotebookError:
        return None


def not_a_function(name: str, kind: str) -> str:
    """`grad_sigmoid is defined but not a function (it is an int)`."""
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return f"{name} is defined but not a function (it is {article} {kind})"


class Worker(StyledCalls):
    """A submission's worker process, driven from the grader (one thread per worker).

    ``start()`` (or entering the ``with`` block) launches the process, which imports the
    submission while the caller does other work; ``import_error``, ``functions`` and
    ``import_stdout`` wait for that import. After a call times out, crashes or runs out of
    memory, the next call gets a fresh process that imports the submission again. With a
    running ``fork_server``, each process is forked from it instead of spawned. Besides each
    call's timeout, the submission has a deadline (``options.deadline``): the seconds the
    grader waits on its code in all, import and restarts included; once it is used up, the
    remaining calls are not made and come back as timeouts.
    """

    def __init__(self, path: str | Path, options: SandboxOptions | None = None, *,
                 fork_server: ForkServer | None = None):
        self.path = str(path)
        self.options = options or SandboxOptions()
        self.fork_server = fork_server
        file = Path(path)
        check_submission(file)
        self._abs_path = str(file.resolve())
        self._naming = Naming(self.path, self._abs_path, _notebook_cells(file))
        self.restarts = 0
        self.waited = 0.0                    # seconds spent waiting on the learner's code
        self._seq = 0                        # numbers the requests; a reply echoes it
        self._process: WorkerProcess | None = None
        self._finalizer: weakref.finalize | None = None
        self._imported = False
        self._import_error: ImportFailure | None = None
        self._functions: dict[str, int | None] = {}
        self._not_functions: dict[str, str] = {}
        self._function_cells: dict[str, int] = {}
        self._hung: set[str] = set()         # functions that ran past the timeout once
        self.call_hung_again = False         # set by a caller that must see them answer
        self._import_stdout = ""
        self._limits: list[str] = []
        self._confinement: dict[str, Any] = {}
        self._launched_by = ""
        self._confined: dict[str, Any] = {}
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
    def function_cells(self) -> dict[str, int]:
        """In a notebook: the cell defining each function (``functions`` has the line in it)."""
        self._ensure_imported()
        return dict(self._function_cells)

    @property
    def not_functions(self) -> dict[str, str]:
        """Top-level names of the submission bound to something not callable → its type name
        (``grad_sigmoid = 3`` gives ``{"grad_sigmoid": "int"}``)."""
        self._ensure_imported()
        return dict(self._not_functions)

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

        ``confinement`` is ``bwrap`` or ``process`` (the fallback; ``confinement_note`` says
        why); ``kill`` how the learner's processes are ended; ``memory_budget`` whether
        ``memory_mb`` counts all of them together; ``filesystem``, ``proc`` and ``syscalls``
        what the learner's code can reach; ``network`` is "cut" or "not cut: <reason>";
        ``process_limit`` the processes it may start, or why none; ``uid`` and ``user`` whom
        it ran as; ``launch`` "fork" (from a fork server) or "spawn" (a fresh interpreter).
        Waits for the worker to start.
        """
        if not self._closed:
            self._ensure_imported()
        opts = self.options
        confinement = self._confinement
        return {"isolation": "process", "launch": self._launched_by or "spawn",
                **self._confined,
                "timeout_s": opts.timeout, "deadline_s": opts.deadline,
                "import_timeout_s": opts.effective_import_timeout, "memory_mb": opts.memory_mb,
                "network": confinement.get("network", "not cut: the worker did not start"),
                "filesystem": confinement.get("filesystem"), "proc": confinement.get("proc"),
                "syscalls": confinement.get("syscalls"),
                "pid_namespace": bool(confinement.get("pid_namespace")),
                "process_limit": confinement.get("process_limit", opts.process_limit),
                "uid": confinement.get("uid"), "user": confinement.get("user"),
                "forbidden_imports": list(opts.refused_imports),
                "capture_limit": opts.capture_limit, "limits": list(self._limits),
                "restarts": self.restarts}

    # -- calls

    def call(self, function: str, args: Mapping[str, Any] | Iterable, n_results: int = 1,
             expect: Iterable | None = None, params: Mapping | None = None) -> CallResult:
        """Call a learner function on fresh copies of ``args``; never raises for its mistakes.

        ``args`` are positional, in signature order: ``(name, array)`` pairs, a mapping, or
        bare arrays. A function expected to return several gradients gets ``n_results > 1``.
        This is also the simple style of a backward function, ``grad_f(*args, dz)``: pass dz
        as the last argument. ``expect``, the shapes of the expected results, bounds what is
        read of the reply: one far larger is a ``shape_mismatch`` and is not kept.
        ``params`` places non-array arguments (``layout``, ``kwargs``, ``bind``: see
        ``inside/serve.py``).
        """
        names, arrays = arguments(args)
        header = {"op": "call", "function": function, "names": names,
                  "n_results": int(n_results), **(params or {})}
        return self._request(function, (function,), header, names, arrays, int(n_results),
                             expect)

    def call_pair(self, forward: str, backward: str | None,
                  args: Mapping[str, Any] | Iterable, dz,
                  n_grads: int | None = None, params: Mapping | None = None) -> CallResult:
        """A CS231n-style layer: ``out, cache = forward(*args)``, then ``backward(dz, cache)``.

        Both run in the worker, one after the other, and the cache never leaves it. The
        result's ``values`` are ``(out, *grads)``: the forward's output, then the gradients
        ``backward`` returned, in its order. ``n_grads`` is how many gradients to expect;
        None takes what comes (a tuple: one gradient per element; anything else: one).
        ``mutated`` may name ``dz`` as well as the arguments. With ``backward=None`` only the
        forward runs and ``values`` is ``(out,)`` (the output's shape is what dz must have).
        """
        names, arrays = arguments(args)
        if backward is None:
            header = {"op": "call_pair", "forward": forward, "backward": None, "names": names,
                      "n_results": 0, **(params or {})}
            return self._request(forward, (forward,), header, names, arrays, 1)
        dz_name, dz_array = arguments([("dz", dz)])
        n_results = -1 if n_grads is None else int(n_grads)
        header = {"op": "call_pair", "forward": forward, "backward": backward,
                  "names": names + dz_name, "n_results": n_results, **(params or {})}
        expected = None if n_grads is None else 1 + int(n_grads)
        return self._request(f"{forward}/{backward}", (forward, backward), header,
                             names + dz_name, arrays + dz_array, expected)

    # -- internals

    def _request(self, label: str, functions: tuple[str, ...], header: dict, names: list[str],
                 arrays: list, n_values: int | None, expect=None) -> CallResult:
        """Send one call request and turn whatever happens into a CallResult (a function that
        ran past the timeout once is not called again: its later calls are timeouts at once)."""
        if self._closed:
            raise RuntimeError("this Worker is closed")
        failure = self.import_error
        if failure is not None and not all(f in self._functions for f in functions):
            return CallResult("error", diagnosis="import_error", message=failure.message,
                              frames=failure.frames)
        for function in functions:
            if function in self._not_functions:
                return CallResult("error", diagnosis="missing_function",
                                  message=not_a_function(function,
                                                         self._not_functions[function]))
            if function not in self._functions:
                return CallResult("missing", diagnosis="missing_function",
                                  message=f"{function} is not defined in {self.path}")
        if self._allowance(self.options.timeout)[0] <= 0:
            return self._past_deadline(label)
        if label in self._hung and not self.call_hung_again:
            return not_called_again(label, self.options.timeout)
        process = self._process
        if process is None:
            failure = self._relaunch()
            if self._process is not None:
                failure = None          # a notebook's partial import, as the first time
            if failure is not None and self._allowance(self.options.timeout)[0] <= 0:
                return self._past_deadline(label)
            if failure is not None:
                return CallResult("error", diagnosis="import_error", message=failure.message,
                                  frames=failure.frames, stdout=failure.stdout, called=False)
            process = self._process
        wait, by_deadline = self._allowance(self.options.timeout)
        if wait <= 0:
            return self._past_deadline(label)
        self._seq += 1
        request = wire.encode_parts({**header, "seq": self._seq}, arrays)
        budget = reply_budget(arrays, expect, process.pipes.max_payload)
        started = time.monotonic()
        try:
            process.pipes.send(request, started + wait)
            reply, values = process.pipes.receive(started + wait, budget)
        except TimedOut:
            self._discard()
            self._hung.add(label)
            limit = (f"{label} did not return before the submission's deadline of "
                     f"{self.options.deadline:g} s" if by_deadline else
                     f"{label} did not return within {self.options.timeout:g} s")
            return CallResult("timeout", diagnosis="timeout", stdout=process.capture.take(),
                              message=limit, duration_s=self._waited_since(started),
                              deadline=by_deadline)
        except wire.Oversized as exc:
            self._discard()
            try:
                return oversized(label, exc, expect, self._seq, process.capture.take(),
                                 self._waited_since(started))
            except ProtocolViolation as violation:
                return self._violation(label, process, violation)
        except (Closed, wire.WireError) as exc:
            self._waited_since(started)
            return self._died_during(label, process, started, exc)
        self._waited_since(started)
        try:
            protocol.result(reply, values, names, n_values, self._seq)
        except ProtocolViolation as exc:
            return self._violation(label, process, exc)
        return self._result(label, reply, values, process)

    def _past_deadline(self, label: str) -> CallResult:
        return CallResult("timeout", diagnosis="timeout", called=False,
                          message=f"{label} was not called: the submission used up its "
                                  f"deadline of {self.options.deadline:g} s")

    def _allowance(self, limit: float) -> tuple[float, bool]:
        """Seconds the next wait may last, and whether the deadline (not ``limit``) sets it."""
        remaining = self.options.deadline - self.waited
        return (remaining, True) if remaining < limit else (limit, False)

    def _waited_since(self, started: float) -> float:
        elapsed = time.monotonic() - started
        self.waited += elapsed
        return elapsed

    def _launch(self) -> WorkerProcess:
        process = launch(self._abs_path, self.options, self.fork_server)
        self._launched_by = process.launch
        self._confined = process.describe()
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
        for name, line in list(self._functions.items()):
            cell, self._functions[name] = self._naming.line(line)
            if cell is not None:
                self._function_cells[name] = cell
        self._imported = True

    def _relaunch(self) -> ImportFailure | None:
        self.restarts += 1
        _, failure, _ = self._await_ready(self._launch())
        return failure

    def _await_ready(self, process: WorkerProcess):
        """Wait for the worker's import; (functions, failure or None, import output)."""
        opts, naming = self.options, self._naming
        try:
            started, _ = process.pipes.receive(time.monotonic() + opts.startup_timeout)
            self._limits, self._confinement = protocol.started(started)
        except (Closed, TimedOut, wire.WireError, ProtocolViolation) as exc:
            status = process.exit_status()
            self._discard()
            raise SandboxError(f"the worker process did not start ({describe_exit(status)}, "
                               f"{type(exc).__name__}: {exc}); it printed:\n"
                               f"{process.capture.take()}") from None
        wait, by_deadline = self._allowance(opts.effective_import_timeout)
        begun = time.monotonic()
        try:
            ready, _ = process.pipes.receive(begun + max(wait, 0.0))
            functions, raw, self._not_functions = protocol.ready(ready)
        except TimedOut:
            self._waited_since(begun)
            self._discard()
            summary = (f"importing the submission did not end before its deadline of "
                       f"{opts.deadline:g} s" if by_deadline else
                       f"importing the submission took longer than "
                       f"{opts.effective_import_timeout:g} s (--import-timeout sets the limit)")
            return {}, naming.worker_failure("timeout", summary, process.capture.take()), ""
        except (wire.WireError, ProtocolViolation) as exc:
            self._waited_since(begun)
            self._discard()
            return {}, naming.worker_failure(
                "protocol_violation", f"the worker sent a malformed message while importing "
                                      f"the submission ({exc})", process.capture.take()), ""
        except Closed:
            self._waited_since(begun)
            status = process.exit_status()
            self._discard()
            if status == _CPU_LIMIT:
                kind, summary = "timeout", "importing the submission used too much CPU time"
            elif process.memory_exceeded():
                kind, summary = "memory_limit", (f"importing the submission needed more than "
                                                 f"{opts.memory_mb} MB of memory")
            else:
                kind, summary = "crashed", (f"the worker process died while importing the "
                                            f"submission ({describe_exit(status)})")
            return {}, naming.worker_failure(kind, summary, process.capture.take()), ""
        self._waited_since(begun)
        stdout = process.capture.take()
        if raw and not functions:
            self._discard()
            return {}, naming.import_failure(raw, stdout), stdout
        # A notebook's cell raised, the functions of the cells before it can still be called.
        return functions, naming.import_failure(raw, stdout) if raw else None, stdout

    def _died_during(self, function: str, process: WorkerProcess, started: float,
                     exc: Exception) -> CallResult:
        status = process.exit_status() if isinstance(exc, Closed) else None
        self._discard()
        duration = time.monotonic() - started
        stdout = process.capture.take()
        if status == _CPU_LIMIT:
            self._hung.add(function)
            return CallResult("timeout", diagnosis="timeout", stdout=stdout, duration_s=duration,
                              message=f"{function} used more CPU time than allowed")
        if isinstance(exc, Closed) and process.memory_exceeded():
            return CallResult("memory_limit", diagnosis="memory_limit", stdout=stdout,
                              duration_s=duration,
                              message=f"{function} and the processes it started needed more "
                                      f"than {self.options.memory_mb} MB of memory together")
        if isinstance(exc, wire.WireError):
            return CallResult("crashed", diagnosis="protocol_violation", stdout=stdout,
                              duration_s=duration,
                              message=f"{function} crashed: the worker's reply broke the "
                                      f"protocol ({exc})")
        return CallResult("crashed", diagnosis="crashed", stdout=stdout, duration_s=duration,
                          message=f"{function} crashed: the worker process died "
                                  f"({describe_exit(status)})")

    def _violation(self, label: str, process: WorkerProcess,
                   exc: ProtocolViolation) -> CallResult:
        self._discard()
        return CallResult("crashed", diagnosis="protocol_violation",
                          stdout=process.capture.take(),
                          message=f"{label} crashed: the worker's reply broke the protocol "
                                  f"({exc})")

    def _result(self, label: str, header: dict, values: list,
                process: WorkerProcess) -> CallResult:
        """A checked reply as a CallResult."""
        status = header["status"]
        stdout = process.capture.take()
        if status == "memory_limit":
            self._discard()                  # a fresh process for the next call
        if status == "ok" and protocol.complex_result(values):
            self._discard()                  # the worker sends no complex result: forged
            return CallResult("error", diagnosis="wrong_type", stdout=stdout,
                              duration_s=header["duration_s"],
                              message=f"{label} returned complex numbers; a gradient of real "
                                      "inputs is real (take no square root of a negative "
                                      "number, or return .real deliberately)")
        return CallResult(
            status=status, values=tuple(values) if status == "ok" else (),
            diagnosis=header["diagnosis"], message=header["message"],
            frames=self._naming.frames(header["frames"]), stdout=stdout,
            mutated=tuple(header["mutated"]), duration_s=float(header["duration_s"]))
