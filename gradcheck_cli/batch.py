"""Grading a class: find the submissions, grade them in parallel with one seed, keep a gradebook.

Which paths are submissions (``discover``):

- a ``.py`` file or a Jupyter notebook (``.ipynb``) is one submission;
- a folder: each ``.py`` file and notebook directly in it is a submission, and each subfolder
  is one learner's submission whose file is the only notebook directly inside it (the ``.py``
  files beside a notebook are its helper modules), or else the only ``.py`` file;
- with ``file_name`` (``--file NAME``): a folder that holds NAME is itself one submission;
  otherwise each of its subfolders is a submission graded through SUBFOLDER/NAME, and loose
  files are ignored.

Names starting with ``.`` or ``__`` (``.git``, ``__pycache__``) are skipped. A learner's folder
without a usable file still gets a gradebook row that says why, scored 0.

A submission is named after its learner (its JSON result, shard and report row): a folder by
its name, a file by its stem, or by its folder where several share a stem (``*/grads.py``);
names still equal after that get ``-2``, ``-3``, ... in the order found.

Each submission is graded in its own worker against cases and references computed once
(``prepare``): one seed, the same cases for all. Workers are forked from one fork server
(NumPy imported once, never any learner code) where the system allows, else spawned. A
submission that makes the grader fail gets a row saying so and never stops the batch. Result
files are written atomically (a JSON per submission as it is graded, the gradebook at the
end), so an interrupted batch leaves complete files only. A class in which no folder has a
file to grade is the command line's mistake (exit 2).
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from .atomic import write_atomic
from .errors import GradcheckError, UsageError
from .report.gradebook import gradebook_csv, write_gradebook  # noqa: F401 - batch's API
from .report.model import Report
from .report.neutral import one_line


# What a submission file can be: a Python file or a Jupyter notebook.
SUBMISSION_SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Submission:
    """One learner's work: how the gradebook names it and the file to grade."""

    label: str                  # the file, or the learner's folder, as found
    path: Path | None           # None when the folder has no usable file
    key: str                    # unique, file-name safe: names the JSON result
    problem: str | None = None  # why there is no file


@dataclass
class Graded:
    """The outcome of one submission: a report, or the reason there is none."""

    submission: Submission
    report: Report | None = None
    problem: str | None = None      # the learner's: no file to grade
    internal: str | None = None     # the grader's own failure (a bug to report)
    traceback: str = ""
    _docs: dict = field(default_factory=dict, repr=False, compare=False)

    def doc(self, show_hidden: bool = False) -> dict | None:
        """The JSON result (CONTRACTS §4), made once however many outputs ask for it."""
        if self.report is None:
            return None
        if show_hidden not in self._docs:
            from .report.formats.json import report_json
            self._docs[show_hidden] = report_json(self.report, show_hidden)
        return self._docs[show_hidden]

    @property
    def passed(self) -> bool:
        return self.report is not None and self.report.passed

    def status(self) -> str:
        """A few words for the gradebook's status column."""
        if self.internal is not None:
            return f"grader error: {self.internal}"
        if self.report is None:
            return f"not graded: {self.problem}"
        if self.report.import_error:
            return f"could not import: {_first_line(self.report.import_error)}"
        if self.report.passed:
            return "passed"
        return self.report.counts_text()


def shared_modules(paths: Sequence[str | Path]) -> tuple[str, ...]:
    """The absolute paths of a course's shared modules (``--shared``), checked."""
    out = []
    for raw in paths:
        path = Path(raw)
        if not (path.is_dir() or (path.is_file() and path.suffix == ".py")):
            raise UsageError(f"--shared {raw}: no such .py file or package folder",
                             hint="name the course's module every learner imports, e.g. "
                                  "--shared submissions/course_utils.py")
        out.append(str(path.resolve()))
    return tuple(out)


def discover(paths: Sequence[str | Path], file_name: str | None = None,
             shared: Sequence[str] = ()) -> list[Submission]:
    """The submissions named by ``paths``, in a stable order, without ``shared`` modules."""
    skip = {Path(p) for p in shared}
    found: list[Submission] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            if path.suffix not in SUBMISSION_SUFFIXES:
                raise UsageError(f"{path}: a submission is a .py file, a notebook (.ipynb) or "
                                 "a folder of them",
                                 hint="pass Python files or notebooks, or folders that hold them")
            found.append(_file(path))
        elif path.is_dir():
            inside = _discover_folder(path, file_name)
            if not inside:
                raise UsageError(f"{path}: no submissions in this folder",
                                 hint="a folder of submissions holds .py files or one "
                                      "subfolder per learner")
            found.extend(inside)
        else:
            raise UsageError(f"submission not found: {path}",
                             hint="pass .py files or folders of submissions")
    found = [sub for sub in found if Path(sub.label).resolve() not in skip
             and (sub.path is None or sub.path.resolve() not in skip)]
    # A file given that is a link is refused before repeats are dropped: it must not hide
    # the file it names, given too.
    found = _unique(_after_folders([_not_a_link(sub) for sub in found]))
    _some_to_grade(found, file_name)
    return found


def _some_to_grade(found: list[Submission], file_name: str | None) -> None:
    """No learner's folder has a file to grade: the command line's mistake, not zeros."""
    unchosen = [s for s in found if s.path is None and re.match(
        f"no {re.escape(file_name or '')} in |no \\.py file |.* choose one with --file",
        s.problem or "", re.S)]
    if not unchosen or len(unchosen) != len(found):
        return
    if all((s.problem or "").startswith("no .py file ") for s in unchosen):
        raise UsageError(f"none of the {len(found)} learners' folders holds a .py file or a "
                         "notebook", hint="give the folder that holds the learners' folders")
    seen = sorted({p.name for s in unchosen for p in Path(s.label).glob("*.*") if p.is_file()})
    raise UsageError((f"--file {file_name}: none of the {len(found)} learners' folders holds it"
                      if file_name else f"each of the {len(found)} learners' folders holds "
                      "several files, so gradcheck cannot tell which one to grade"),
                     hint="choose one with --file NAME; they hold "
                          + ", ".join(one_line(name) for name in seen[:6]))


def _after_folders(found: list[Submission]) -> list[Submission]:
    """Files of the same stem, each renamed after the folder holding it (its learner)."""
    stems: dict[str, set] = {}              # stem -> the distinct files of that stem
    for sub in found:
        if _is_file(sub):
            stems.setdefault(sub.key.casefold(), set()).add(sub.path.resolve())
    out = []
    for sub in found:
        folder = sub.path.resolve().parent.name if _is_file(sub) else ""
        if _is_file(sub) and len(stems[sub.key.casefold()]) > 1 and folder:
            sub = replace(sub, key=folder)
        out.append(sub)
    return out


def _is_file(sub: Submission) -> bool:
    """Whether the submission is a file given as such (not found in a learner's folder)."""
    return sub.path is not None and sub.label == str(sub.path)


def _discover_folder(folder: Path, file_name: str | None) -> list[Submission]:
    if file_name is not None and (folder / file_name).is_file():
        return [Submission(str(folder), folder / file_name, folder.name)]
    children = sorted((c for c in folder.iterdir() if not _ignored(c.name)),
                      key=lambda c: c.name)
    out = []
    for child in children:
        if child.is_symlink() and child.is_dir():
            # A learner's folder that is a link could be another learner's, or any folder.
            out.append(_refused_link(str(child), child.name, child))
        elif child.is_dir():
            out.append(_learner_folder(child, file_name))
        elif file_name is None and child.suffix in SUBMISSION_SUFFIXES and child.is_file():
            out.append(_file(child))
    return out


def _not_a_link(sub: Submission) -> Submission:
    """The submission, or why not, if its file is a link (a classmate's, say)."""
    if sub.path is None or not sub.path.is_symlink():
        return sub
    return _refused_link(sub.label, sub.key, sub.path)


def _refused_link(label: str, key: str, link: Path) -> Submission:
    return Submission(label, None, key, problem=f"{link} is a symbolic link; gradcheck grades "
                                                "only regular files and folders")


def _learner_folder(folder: Path, file_name: str | None) -> Submission:
    if file_name is not None:
        target = folder / file_name
        if target.is_file():
            return Submission(str(folder), target, folder.name)
        return Submission(str(folder), None, folder.name, problem=f"no {file_name} in {folder}")
    notebooks = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not _ignored(p.name))
    if len(notebooks) == 1:
        return Submission(str(folder), notebooks[0], folder.name)
    if notebooks:
        names = ", ".join(p.name for p in notebooks)
        return Submission(str(folder), None, folder.name,
                          problem=f"{len(notebooks)} notebooks in {folder} ({names}); "
                                  "choose one with --file NAME")
    files = sorted(p for p in folder.glob("*.py") if p.is_file() and not _ignored(p.name))
    if len(files) == 1:
        return Submission(str(folder), files[0], folder.name)
    if not files:
        return Submission(str(folder), None, folder.name,
                          problem=f"no .py file or notebook in {folder}")
    names = ", ".join(p.name for p in files)
    return Submission(str(folder), None, folder.name,
                      problem=f"{len(files)} .py files in {folder} ({names}); "
                              "choose one with --file NAME")


def _file(path: Path) -> Submission:
    return Submission(str(path), path, path.stem)


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.startswith("__")


def _unique(found: list[Submission]) -> list[Submission]:
    """Drop repeats of the same file; make every key distinct and safe as a file name."""
    seen_paths: set = set()
    keys: set[str] = set()
    out = []
    for sub in found:
        # A problem is the label's own (a link refused is not the file it names).
        ident = sub.path.resolve() if sub.path is not None else os.path.abspath(sub.label)
        if ident in seen_paths:
            continue
        seen_paths.add(ident)
        base = re.sub(r"[^\w.-]", "_", sub.key).strip(".") or "submission"
        key, n = base, 1
        while key.lower() in keys:          # case-insensitive file systems exist
            n += 1
            key = f"{base}-{n}"
        keys.add(key.lower())
        out.append(Submission(sub.label, sub.path, key, sub.problem))
    return out


# ---------------------------------------------------------------------------- grading


# Submissions in flight per core. A job spends most of its time waiting for its learner's
# process (forking it, the import, each call's round trip), so with one job per core the cores
# idle; two keep both the grader and the workers busy (300 submissions of the worked exercises
# on 2 cores: 79-81/s with 2 jobs, 91-98/s with 4; benchmarks/README.md). Each job keeps two
# workers alive (the one graded, the next one importing).
JOBS_PER_CORE = 2


def cores() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:          # not on Linux
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """How many submissions ``grade`` works on at once by default: two per core."""
    return JOBS_PER_CORE * cores()


def grade_batch(submissions: Sequence[Submission], exercises: Sequence, options, *,
                jobs: int | None = None, json_dir: Path | None = None,
                show_hidden: bool = False,
                on_graded: Callable[[Graded], None] | None = None) -> list[Graded]:
    """Grade every submission with the same cases; results in the order of ``submissions``."""
    from .grading.runner import prepare

    with _fork_server(len(submissions)) as server, _one_blas_thread():
        # (the fork server gets ready while the cases are made)
        prepared = prepare(exercises, options.seed)   # once, before any learner code runs
        options = replace(options, fork_server=server,
                          hidden_paths=learners_work(submissions, options.hidden_paths))
        return _grade_all(submissions, prepared, options,
                          jobs=jobs, json_dir=json_dir, show_hidden=show_hidden,
                          on_graded=on_graded)


def _one_blas_thread():
    """BLAS threads of the grader's own would only spin beside grade's job threads (its
    arrays are small); NumPy's BLAS is set to one thread while a batch is graded."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(1, user_api="blas")


def learners_work(submissions: Sequence[Submission], known=()) -> tuple[str, ...]:
    """Every learner's file and folder (and ``known`` ones): a learner's worker gets the
    modules beside its submission (its own folder), never another learner's."""
    found = set(known)
    for sub in submissions:
        if sub.path is not None:
            found.add(str(sub.path.resolve()))
        label = Path(sub.label)
        if label.is_dir():
            found.add(str(label.resolve()))
    return tuple(sorted(found))


@contextmanager
def _fork_server(count: int):
    """A running fork server for a batch of ``count`` submissions, or None (spawn instead)."""
    from .sandbox import ForkServer, SandboxError

    if count < 2 or not ForkServer.supported():     # one worker: nothing to share
        yield None
        return
    try:
        server = ForkServer().start()
    except (SandboxError, OSError):
        yield None
        return
    with server:
        yield server


def _grade_all(submissions: Sequence[Submission], prepared: list, options, *, jobs,
               json_dir, show_hidden, on_graded) -> list[Graded]:
    """Grade on ``jobs`` threads; each starts its next learner's worker before grading the
    current one, so that worker imports the submission while this one is graded."""
    if json_dir is not None:
        json_dir.mkdir(parents=True, exist_ok=True)
    results: list[Graded | None] = [None] * len(submissions)
    queue_: queue.Queue = queue.Queue()
    order = iter(range(len(submissions)))
    lock, stop = threading.Lock(), threading.Event()

    def take() -> int | None:
        with lock:
            return None if stop.is_set() else next(order, None)

    def work() -> None:
        current = take()
        early = _start(submissions, current, prepared, options)
        try:
            while current is not None:
                upcoming = take()
                ahead = _start(submissions, upcoming, prepared, options)
                queue_.put((current, grade_one(submissions[current], prepared, options,
                                               early)))
                current, early = upcoming, ahead
        except BaseException as exc:  # noqa: BLE001 - Ctrl-C in a thread: the main one raises
            queue_.put((None, exc))
        finally:
            if early is not None:        # started for a learner that will not be graded now
                early.close()

    threads = [threading.Thread(target=work, name="gradcheck-grade", daemon=True)
               for _ in range(min(jobs or default_jobs(), max(len(submissions), 1)))]
    for thread in threads:
        thread.start()
    try:
        for _ in range(len(submissions)):
            index, graded = queue_.get()
            if index is None:
                raise graded
            results[index] = graded
            if json_dir is not None and graded.report is not None:
                write_report_json(json_dir, graded, show_hidden)
            if on_graded is not None:
                on_graded(graded)
    except BaseException:
        # Ctrl-C (or a failing callback): stop handing out work; what is running finishes.
        stop.set()
        raise
    for thread in threads:
        thread.join()
    return results


def _start(submissions: Sequence[Submission], index: int | None, prepared: list, options):
    """The worker of submission ``index``, started now (None when there is none to start)."""
    from .grading.options import start_worker

    if index is None or submissions[index].path is None:
        return None
    try:
        return start_worker(submissions[index].path, options,
                            [exercise for exercise, _ in prepared])
    except Exception:  # noqa: BLE001 - grading it will start one again, and report the trouble
        return None


def grade_one(submission: Submission, prepared: list, options, worker=None) -> Graded:
    """Grade one submission (with ``worker``, if one was started for it already); any failure
    becomes part of the result, never an exception."""
    from .grading.runner import grade_prepared

    if submission.path is None:
        return Graded(submission, problem=submission.problem)
    try:
        extra = {} if worker is None else {"worker": worker}
        return Graded(submission, report=grade_prepared(submission.path, prepared, options,
                                                        **extra))
    except GradcheckError as exc:        # e.g. the file vanished since discovery
        return Graded(submission, problem=_first_line(str(exc)))
    except Exception as exc:  # noqa: BLE001 - one broken submission must not stop the batch
        return Graded(submission, internal=f"{type(exc).__name__}: {_first_line(str(exc))}",
                      traceback=traceback.format_exc())
    finally:
        if worker is not None:
            worker.close()


def exit_code(results: Sequence[Graded]) -> int:
    """0 if everything passed, 1 if anything did not, 2 if the grader failed on any."""
    if any(g.internal is not None for g in results):
        return 2
    return 0 if results and all(g.passed for g in results) else 1


def write_report_json(folder: Path, graded: Graded, show_hidden: bool = False) -> Path:
    """The JSON result (CONTRACTS §4) of one graded submission, written atomically."""
    target = folder / f"{graded.submission.key}.json"
    doc = graded.doc(show_hidden)
    write_atomic(target, json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return target


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else ""
