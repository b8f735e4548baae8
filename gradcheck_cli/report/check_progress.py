"""What ``gradcheck check`` shows while it calls the learner's forward: a long check (a
naive layer, big inputs) is not silent. On a terminal, a transient line that counts the calls;
in a log, a line every ``LINE_EVERY_S`` seconds once the check has taken that long."""

from __future__ import annotations

import time

from .batch_summary import LINE_EVERY_S, console

REFRESH_S = 0.2


class CheckProgress:
    """Told how many forward calls each request made (``checking.check_file``'s ``progress``)."""

    def __init__(self, forward: str):
        self.err = console(stderr=True)
        self.forward = forward
        self.calls = 0
        self.started = self.shown = time.monotonic()
        self.status = None

    def __enter__(self) -> "CheckProgress":
        if self.err.is_terminal:
            self.status = self.err.status(self.line(self.started), spinner="dots")
            self.status.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.status is not None:
            self.status.stop()

    def __call__(self, calls: int) -> None:
        self.calls += calls
        now = time.monotonic()
        if self.status is not None:
            if now - self.shown >= REFRESH_S:
                self.shown = now
                self.status.update(self.line(now))
        elif now - self.shown >= LINE_EVERY_S:
            self.shown = now
            self.err.print(self.line(now), highlight=False, markup=False)

    def line(self, now: float) -> str:
        """``checking: 1,200 calls of conv_forward_naive so far, in 13 s``."""
        return (f"checking: {self.calls:,} calls of {self.forward} so far, in "
                f"{now - self.started:.0f} s")
