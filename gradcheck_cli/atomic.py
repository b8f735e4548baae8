"""Writing result files so that a reader never sees half of one."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from .errors import UsageError


def check_writable(path: str | Path, flag: str) -> None:
    """Refuse, before any grading, a result file ``flag`` could not write: its folder must
    exist and take a new file (tried for real, as only that is sure for every user and file
    system)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"{flag} {path}: this is a folder, not a file",
                         hint=f"give a file name, e.g. {flag} {path / _example(flag)}")
    if not folder.is_dir():
        if folder.exists():
            raise UsageError(f"{flag} {path}: {folder} is a file, not a folder",
                             hint=f"choose another path for {flag}")
        raise UsageError(f"{flag} {path}: the folder {folder} does not exist",
                         hint=f"create the folder first (mkdir -p {folder}) or choose another "
                              f"path for {flag}")
    _probe(folder, f"{flag} {path}")


def prepare_folder(path: str | Path, flag: str) -> Path:
    """The folder ``flag`` names, created if missing and known to take files, before grading."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path}: this is a file, not a folder",
                         hint=f"give a folder for {flag} (it is created if missing)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot create this folder ({exc.strerror})",
                         hint=f"choose a folder you can write to for {flag}") from None
    _probe(path, f"{flag} {path}")
    return path


def _example(flag: str) -> str:
    """A file name fitting for ``flag``'s hint."""
    return {"--gradebook": "gradebook.csv", "--html": "class.html"}.get(flag, "report.txt")


def _probe(folder: Path, what: str) -> None:
    try:
        with tempfile.NamedTemporaryFile(prefix=".gradcheck-probe-", dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"{what}: cannot write in the folder {folder} ({exc.strerror})",
                         hint="choose a folder you can write to, or fix its permissions") \
            from None


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write {path}: the folder {folder} does not exist",
                         hint="create the folder first or choose another --output path")
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder",
                         hint="give a file name, e.g. " + str(path / "report.txt"))
    with _ctrl_c_after():
        _write_through_temporary(path, folder, text)


@contextmanager
def _ctrl_c_after():
    """Hold back Ctrl-C until the block is done, so that it never leaves a temporary file; then
    the handler in place (Python's, or the command line's) gets the press."""
    handler = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(handler):
        yield
        return
    pressed = []
    signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
    if pressed:
        handler(signal.SIGINT, None)


def _write_through_temporary(path: Path, folder: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        # A file name that is not UTF-8 (from a zip, say) reaches a report as surrogate
        # escapes; written as \udcff rather than failing the whole gradebook.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private; a report is as readable as any file the user writes.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
