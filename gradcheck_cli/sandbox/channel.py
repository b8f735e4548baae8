"""The grader's end of a worker's pipes: frames with deadlines, and the learner's output.

Requests, replies and the learner's output travel on three separate pipes, so a learner who
prints cannot corrupt a frame. The worker flushes the learner's output before it writes a
reply, so once a reply has arrived, all output of that call is already in the output pipe:
draining it then gives exactly that call's output.
"""

from __future__ import annotations

import os
import selectors
import time

from .inside import wire

READ_CHUNK = 1 << 20
# Most bytes one drain reads: a process the learner left running may never stop printing.
DRAIN_BUDGET = 16 * READ_CHUNK
# A reply header of ours is a few kilobytes; the payload of a frame nobody waits for (a forged
# one, written while a request goes out) is refused past this size before it is allocated.
MAX_REPLY_HEADER = 1 << 20
UNSOLICITED_PAYLOAD = 1 << 20
_IOV_MAX = 1024                 # buffers one writev takes (Linux's UIO_MAXIOV)


class Closed(Exception):
    """The worker hung up (it died, or closed its end) before a whole reply arrived."""


class TimedOut(Exception):
    """The deadline passed before a whole reply arrived."""


class Capture:
    """The learner's output, kept up to ``limit`` bytes; the rest is only counted."""

    def __init__(self, limit: int):
        self.limit = limit
        self._kept = bytearray()
        self._dropped = 0

    def feed(self, data: bytes) -> None:
        """Keep what fits under the limit, count the rest."""
        room = max(self.limit - len(self._kept), 0)
        self._kept += data[:room]
        self._dropped += max(len(data) - room, 0)

    def take(self) -> str:
        """The output so far, with a truncation marker; the capture starts over."""
        text = self._kept.decode("utf-8", errors="replace")
        if self._dropped:
            text += f"\n… {self._dropped} bytes truncated"
        self._kept, self._dropped = bytearray(), 0
        return text


class Pipes:
    """Non-blocking frame exchange on (request, response) plus capture of the output pipe."""

    def __init__(self, request_fd: int, response_fd: int, output_fd: int, capture: Capture,
                 max_payload: int):
        self.request_fd, self.response_fd, self.output_fd = request_fd, response_fd, output_fd
        self.capture = capture
        for fd in (request_fd, response_fd, output_fd):
            os.set_blocking(fd, False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(response_fd, selectors.EVENT_READ)
        self._selector.register(output_fd, selectors.EVENT_READ)
        self._output_open = True
        self.max_payload = max_payload
        self._reader = wire.FrameReader(UNSOLICITED_PAYLOAD, MAX_REPLY_HEADER)
        self._frame: tuple[bytes, bytearray] | None = None
        self._closed = False
        self._process_fd: int | None = None

    def watch(self, process_fd: int | None) -> None:
        """Also wait on ``process_fd`` (a pidfd of the worker, owned from now on): once the
        worker ended, a reply that is not whole is never coming, even if a process it left
        behind still holds the pipe open."""
        if process_fd is not None:
            self._process_fd = process_fd
            self._selector.register(process_fd, selectors.EVENT_READ)

    def send(self, parts, deadline: float) -> None:
        """Write one frame (its buffers in order), capturing output meanwhile."""
        pending = [memoryview(p) for p in parts if len(p)]
        while pending and not self._write_some(pending):
            pass
        if not pending:
            return
        self._selector.register(self.request_fd, selectors.EVENT_WRITE)
        try:
            while pending:
                for key, _ in self._wait(deadline):
                    if key.fd == self.request_fd:
                        while pending and not self._write_some(pending):
                            pass
                    else:
                        self._on_readable(key.fd)
        finally:
            self._selector.unregister(self.request_fd)

    def receive(self, deadline: float, max_payload: int | None = None) -> tuple[dict, list]:
        """Wait for one reply frame, then collect the output written before it.

        A payload over ``max_payload`` bytes (default: the pipes' own limit) is never read:
        ``wire.Oversized`` carries the header, and the pipe is then unusable.
        """
        self._reader.max_payload = self.max_payload if max_payload is None else max_payload
        try:
            while self._frame is None:
                for key, _ in self._wait(deadline):
                    self._on_readable(key.fd)
        finally:
            self._reader.max_payload = UNSOLICITED_PAYLOAD
        frame, self._frame = self._frame, None
        self.drain_output()
        return wire.decode(*frame, copy=False)

    def drain_output(self) -> None:
        """Move whatever output is waiting in the pipe into the capture, without blocking."""
        budget = DRAIN_BUDGET
        while self._output_open and not self._closed and budget > 0:
            try:
                data = os.read(self.output_fd, READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._close_output()
                return
            self.capture.feed(data)
            budget -= len(data)

    def close(self) -> None:
        """Close the grader's ends of the three pipes; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._output_open = False
        self._selector.close()
        for fd in (self.request_fd, self.response_fd, self.output_fd, self._process_fd):
            if fd is None:
                continue
            try:
                os.close(fd)
            except OSError:
                pass

    # -- internals

    def _wait(self, deadline: float):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimedOut
        events = self._selector.select(min(remaining, 3600.0))
        if not events and time.monotonic() >= deadline:
            raise TimedOut
        return events

    def _write_some(self, pending: list) -> bool:
        """Write what the pipe takes of the pending buffers, in one call (so that the worker
        wakes once per request); True if the pipe is full for now."""
        try:
            written = os.writev(self.request_fd, pending[:_IOV_MAX])
        except BlockingIOError:
            return True
        except OSError as exc:          # EPIPE: the worker is gone
            raise Closed(str(exc)) from None
        wire.written_out(pending, written)
        return False

    def _on_readable(self, fd: int) -> None:
        if fd == self.output_fd:
            self.drain_output()
            return
        if fd == self._process_fd:              # the worker ended: take what it wrote
            while self._frame is None and self._read_reply():
                pass
            if self._frame is None:
                raise Closed("the worker process ended")
            return
        while self._read_reply():       # the rest of a reply is mostly there already:
            pass                        # read it now rather than after another wait

    def _read_reply(self) -> bool:
        """Read what waits of the reply; False if nothing was there (or a reply is whole)."""
        if self._frame is not None:     # a whole reply is waiting to be taken
            return False
        try:
            n = os.readv(self.response_fd, [self._reader.buffer()])
        except BlockingIOError:
            return False
        except OSError as exc:
            raise Closed(str(exc)) from None
        if not n:
            raise Closed("the worker closed its reply pipe")
        self._frame = self._reader.advance(n)
        return True

    def _close_output(self) -> None:
        if self._output_open:
            self._output_open = False
            self._selector.unregister(self.output_fd)
