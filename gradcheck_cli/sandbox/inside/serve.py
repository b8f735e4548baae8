"""A worker's life: import one submission, then serve call requests until the grader hangs up.

``start.py worker`` runs ``main`` in a fresh interpreter; the fork server calls
``run_worker`` in each process it forks. File descriptors 1 and 2 are the grader's capture
pipe: whatever the learner prints goes there, never into the request/response channel.

The conversation, in frames of ``wire.py``::

    grader → worker   {"op": "init", "path", "timeout", "import_timeout", "deadline",
                       "memory_mb", "process_limit", "forbidden_imports", "confinement",
                       "slot", "read_error", "folder", "modules", "package"}
                      + the submission's bytes (uint8), then each module's of "modules"
    worker → grader   {"kind": "started", "pid", "limits", "confinement"}
    worker → grader   {"kind": "ready", "functions": {name: line},
                       "not_functions": {name: type name}, "import_error": null | {...}}
    grader → worker   {"op": "call", "seq", "function", "names", "n_results"}
                      + the argument arrays
    worker → grader   {"kind": "result", "seq", "status", "diagnosis", "message", "frames",
                       "mutated", "duration_s"} + the result arrays (their own dtypes)
    grader → worker   {"op": "call_pair", "seq", "forward", "backward", "names", "n_results"}
                      + the argument arrays and dz, last
    worker → grader   a result as above: the forward's output, then the gradients
    grader → worker   {"op": "call_loss", "seq", "function", "names", "grads"} + the arrays
    worker → grader   a result as above: the loss (a float64 scalar), then the gradients
                      of the inputs ``grads`` names, in that order

    grader → worker   {"op": "call_rows", "seq", "function", "style", "vary", "names"}
                      + the arguments, then a stack of rows for each argument ``vary`` lists
    worker → grader   a result as above: the forward's outputs, stacked (finite differences)

Every call request may also carry ``layout`` (where non-array parameters, JSON values, go
among the arrays: ``"a"`` the next array, ``{"param": value, "name": ...}`` a parameter),
``kwargs`` (parameters by name) and ``bind`` (check the signature takes the
arguments first: a mismatch is the caller's ``bad_arguments``, not the learner's exception).

A result echoes its request's ``seq``, so a reply left in the pipe (after a forged one was
taken for it) is never taken for a later call's. The worker exits when the request pipe
closes. Verdicts are never decided here: the worker only sends numbers back, and the grader
compares them; the grader checks every message (``sandbox/protocol.py``).
"""

import os

from . import wire
from .calls import Calls
from .limits import apply_limits
from .submission import Submission

# Taken before any learner code runs (see calls.py).
_getpid = os.getpid
_exit = os._exit
_readv = os.readv
_writev = os.writev
_encode_parts, _decode, _written_out = wire.encode_parts, wire.decode, wire.written_out


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
        """Write one reply frame, whole, in as few writes as the pipe allows (one, mostly:
        the grader then wakes once per reply, not once per part)."""
        pending = [memoryview(part) for part in _encode_parts(header, arrays) if len(part)]
        while pending:
            _written_out(pending, _writev(self.response_fd, pending))


def serve(channel: Channel, config: dict, source, modules=()) -> None:
    """Import the submission, say what it defines, then answer calls until the grader hangs up.

    ``source`` is the submission's bytes, ``modules`` those of the learner's modules beside
    it, sent by the grader: the worker need not be able to read any learner's file.
    """
    submission = Submission(config, source, modules)
    limits, confinement = apply_limits(config)
    channel.send({"kind": "started", "pid": _getpid(), "limits": limits,
                  "confinement": confinement})
    failure = submission.import_module()
    # A notebook whose cell raised keeps what the cells before it defined, as Jupyter's
    # kernel does after Run All stops: those functions can still be called.
    imported = submission.module is not None
    functions = submission.functions() if imported else {}
    others = submission.not_functions() if imported else {}
    channel.send({"kind": "ready", "functions": functions, "not_functions": others,
                  "import_error": failure})
    calls = Calls(submission, float(config["timeout"]), int(config["memory_mb"]))
    operations = {"call": calls.call, "call_pair": calls.call_pair, "call_loss": calls.call_loss,
                  "call_rows": calls.call_rows}
    while True:
        header, arrays = channel.receive()
        operation = operations.get(header.get("op"))
        if operation is None:
            _exit(0)
        reply, values = operation(header, arrays)
        channel.send({"kind": "result", "seq": header.get("seq"), **reply}, values)


def run_worker(request_fd: int, response_fd: int) -> None:
    """Be a worker on these pipes: wait for the grader's init, then serve; never returns."""
    channel = Channel(request_fd, response_fd)
    config, arrays = channel.receive()
    serve(channel, config, bytes(arrays[0]) if arrays else None,
          [bytes(a) for a in arrays[1:]])
    _exit(0)


def main(args: list[str]) -> None:
    """``REQUEST_FD RESPONSE_FD [NUMPY_DIR]``, as ``start.py worker`` passes them."""
    run_worker(int(args[0]), int(args[1]))
