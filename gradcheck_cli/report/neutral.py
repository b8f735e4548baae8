"""Learner text made inert for the programs that read our reports.

A learner's output, exception texts and source lines reach CI logs, XML parsers and web pages.
Some of it would be obeyed rather than shown: terminal escapes (ANSI: colours, cursor moves,
window titles, hyperlinks), GitHub Actions workflow commands (a log line that starts with ``::``
such as ``::add-mask::`` or ``::stop-commands::``, or holds the older ``##[``), and the end of an
XML CDATA section (``]]>``). ``inert`` removes the escapes and control characters, spells out
the bidirectional overrides (which reorder what a line shows), and breaks the commands with
an invisible zero-width space, so the text reads the same to a person.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), and the other two-character escapes.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]"
                      r"|[\x1b\x9d]\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[ -~]?")
# Control characters but tab, newline and carriage return (C0, DEL, C1).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A workflow command: "::" first on a line (GitHub skips leading spaces, and a carriage return
# ends a line for it too), or "##[" anywhere.
_WORKFLOW_COMMAND = re.compile(r"(?:^|(?<=\r))([ \t]*:)(:)", re.M)
_LEGACY_COMMAND = re.compile(r"##\[")
ZERO_WIDTH_SPACE = "\u200b"
# Anything the patterns above could change (every escape starts with a control character):
# most strings hold none of it and are kept as they are, one search instead of five
# substitutions (a class's reports hold many strings).
_SUSPECT = re.compile(_CONTROL.pattern + r"|::|##\[|]]>|[\u202a-\u202e\u2066-\u2069]")
# Values inert_strings passes through untouched, without a call per number.
_PLAIN = frozenset({int, float, bool, type(None)})


# Learner text (messages, source lines, output) can hold terminal escapes or binary junk.
# C0 and C1 controls (0x9b alone starts an escape sequence on many terminals), and the
# bidirectional overrides and isolates, which reorder what a line shows.
_SPELLED = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0))}
_BIDI_SPELLED = {c: f"\\u{c:04x}" for c in (*range(0x202a, 0x202f), *range(0x2066, 0x206a))}
_SPELLED.update(_BIDI_SPELLED)


def printable(text: str) -> str:
    """``text`` with control characters (but newlines and tabs) spelled as \\xNN escapes: for
    a terminal, where an escape or a carriage return could redraw what was printed. A file
    name that is not UTF-8 (its bytes held as surrogates) is spelled \\udcff, not an error."""
    text = text.translate(_SPELLED)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def one_line(text: str) -> str:
    """``printable``, with newlines spelled too: a name (a file's, a folder's) shown on a line
    of its own must not start another, which could read as a line of the report."""
    return printable(text).replace("\n", "\\x0a")


def inert(text: object) -> str:
    """``text`` without terminal escapes or control characters, with workflow commands and
    CDATA terminators broken (newlines, carriage returns and tabs kept)."""
    text = str(text)
    if _SUSPECT.search(text) is None:
        return text
    text = _CONTROL.sub("", _ESCAPES.sub("", text)).translate(_BIDI_SPELLED)
    return no_commands(text).replace("]]>", f"]]{ZERO_WIDTH_SPACE}>")


def no_commands(text: str) -> str:
    """``text`` with every GitHub Actions workflow command broken, the rest untouched."""
    text = _WORKFLOW_COMMAND.sub(rf"\1{ZERO_WIDTH_SPACE}\2", text)
    return _LEGACY_COMMAND.sub(f"##{ZERO_WIDTH_SPACE}[", text)


def inert_strings(doc):
    """A JSON document (dicts, lists, scalars) with every string made ``inert``."""
    if isinstance(doc, str):
        return inert(doc)
    if isinstance(doc, dict):
        return {inert(k) if isinstance(k, str) else k:
                v if type(v) in _PLAIN else inert_strings(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [v if type(v) in _PLAIN else inert_strings(v) for v in doc]
    return doc


def map_strings(value, change):
    """``value`` (a report, or any part of one: dataclasses, lists, tuples, dicts) with
    ``change`` applied to every string in it, the original untouched; arrays and numbers are
    shared, not copied."""
    if isinstance(value, str):
        return change(value)
    if type(value) in _PLAIN:
        return value
    if isinstance(value, list):
        return [map_strings(v, change) for v in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(map_strings(v, change) for v in value)
    if isinstance(value, dict):
        return {map_strings(k, change): map_strings(v, change) for k, v in value.items()}
    fields = getattr(type(value), "__dataclass_fields__", None)
    if fields is None:
        return value
    copy = object.__new__(type(value))
    copy.__dict__.update(value.__dict__)
    for name in fields:
        if name in copy.__dict__:
            copy.__dict__[name] = map_strings(copy.__dict__[name], change)
    return copy
