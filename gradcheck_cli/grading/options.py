"""How to grade a submission (`RunOptions`), and starting the learner's worker ahead of the grading.

This module imports only the sandbox's options (the rest of the sandbox lazily), so that the
worker can start before the grader imports the heavier machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..sandbox.options import DEFAULT_DEADLINE

if TYPE_CHECKING:
    from ..sandbox import ForkServer, SandboxOptions, Worker


@dataclass
class RunOptions:
    """How to grade: the seed and the sandbox limits."""

    seed: int = 0
    timeout: float = 10.0
    import_timeout: float | None = None     # None: the sandbox's default
    memory_mb: int = 1024
    deadline: float = DEFAULT_DEADLINE
    show_hidden: bool = False
    forbidden_imports: tuple[str, ...] | None = None
    fork_server: ForkServer | None = None    # if running, workers are forked from it
    # A batch's submissions (files and learners' folders): what one learner's worker is never
    # sent of the folder beside its submission.
    hidden_paths: tuple[str, ...] = ()
    # A course's own modules (files or package folders) that every learner's worker is sent.
    shared_paths: tuple[str, ...] = ()


def start_worker(path: str | Path, options: RunOptions, exercises=None) -> Worker | None:
    """A worker for ``path`` started now, before it is graded (None if no file).

    Without ``exercises`` (not loaded yet) it assumes the default forbidden imports, and is
    replaced if the exercises need others.
    """
    from ..sandbox import DEFAULT_FORBIDDEN_IMPORTS, Worker

    if not Path(path).is_file():
        return None
    if options.forbidden_imports is not None:
        forbidden = options.forbidden_imports
    elif exercises is not None:
        forbidden = tuple(sorted({n for ex in exercises for n in ex.forbidden_imports}))
    else:
        forbidden = tuple(sorted(DEFAULT_FORBIDDEN_IMPORTS))
    return Worker(str(path), sandbox_options(options, forbidden),
                  fork_server=options.fork_server).start()


def sandbox_options(options: RunOptions, forbidden: tuple[str, ...]) -> SandboxOptions:
    """The worker's limits for a run with ``options`` and these refused imports."""
    from ..sandbox import SandboxOptions

    return SandboxOptions(timeout=options.timeout, memory_mb=options.memory_mb,
                          forbidden_imports=forbidden, deadline=options.deadline,
                          hidden_paths=options.hidden_paths,
                          shared_paths=options.shared_paths,
                          import_timeout=options.import_timeout)
