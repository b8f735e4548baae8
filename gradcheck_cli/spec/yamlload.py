"""Read an exercise file as plain data, safely, remembering the line of every key and value.

Exercise files come from teachers and from the internet, so reading one must never run code or
blow up memory: only plain YAML types are built (no ``!!python/...`` or other tags), aliases are
refused (no "billion laughs"), nesting depth and file size are capped. Mappings and lists come
back as ``YMap``/``YSeq``, ordinary ``dict``/``list`` subclasses that know where each entry was
written, so every later error can say ``file:line``.

The parser itself (PyYAML, with libyaml where it is built) is in ``yamlparse.py``, imported only
when a file must be parsed: a shipped exercise file comes from ``parsed.py``'s snapshot, made
from the same parser and used only when the file's text is exactly the text it was made from.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SpecError
from .located import YMap, YSeq

__all__ = ["MAX_FILE_BYTES", "YMap", "YSeq", "parse_yaml", "read_yaml"]

MAX_FILE_BYTES = 1_000_000


def parse_yaml(text: str, file: str) -> object:
    """Parse one YAML document from ``text`` into plain data (``YMap``/``YSeq``/scalars)."""
    from .yamlparse import parse

    return parse(text, file)


def read_yaml(path: str | Path) -> YMap:
    """Read an exercise file: size-capped, UTF-8, one YAML mapping at the top."""
    path = Path(path)
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(f"the file is {size:,} bytes; exercise files are limited to "
                            f"{MAX_FILE_BYTES:,}", file=file,
                            hint="generate large inputs with `shape:` instead of writing them out")
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror or exc}", file=file,
                        hint="check the path and its permissions") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise SpecError("the file is not UTF-8 text", file=file, line=line,
                        hint="save it as UTF-8") from None
    data = parsed_snapshot(path, text)
    if data is None:
        data = parse_yaml(text, file)
    if data is None:
        raise SpecError("the file is empty", file=file,
                        hint="start from `gradcheck new NAME`, which writes a template")
    if not isinstance(data, YMap):
        raise SpecError("an exercise file must be a YAML mapping (`name: ...`, `forward: ...`)",
                        file=file, line=1, hint="start from `gradcheck new NAME`")
    return data


def parsed_snapshot(path: Path, text: str) -> YMap | None:
    """The shipped parse of ``text`` if ``path`` is named as a catalog file whose text it is."""
    from .parsed import lookup

    return lookup(path.stem, text)
