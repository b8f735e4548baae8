"""What ``check_file`` checks and how."""

from __future__ import annotations

from dataclasses import dataclass

from ..tolerance import CHECK_RTOL, DEFAULT_ATOL

STYLES = ("auto", "simple", "pair", "loss")

# `gradcheck check` calls the learner's forward twice per perturbed input: past this many
# numbers a check takes minutes, and a gradient bug shows on small shapes just as well.
MAX_CHECK_ELEMENTS = 20_000


@dataclass(frozen=True)
class CheckOptions:
    """What ``check_file`` checks and how: the style, the seed, the tolerance, the sandbox."""

    seed: int = 0
    style: str = "auto"
    rtol: float = CHECK_RTOL          # the reference is finite differences
    atol: float = DEFAULT_ATOL
    timeout: float = 10.0
    import_timeout: float | None = None  # None: the sandbox's default
    memory_mb: int = 1024
    deadline: float = 3600.0         # all the calls of a check: two per checked number
    max_elements: int = MAX_CHECK_ELEMENTS
    dout_name: str | None = None     # the upstream gradient's name (default: dz; dout in pairs)
