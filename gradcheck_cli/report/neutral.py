"""Learner text made inert for the programs that read our reports.

A learner's output, exception texts and source lines reach CI logs, XML parsers and web pages.
Some of it would be obeyed rather than shown: terminal escapes (ANSI: colours, cursor moves,
window titles, hyperlinks), GitHub Actions workflow commands (a log line that starts with ``::``
such as ``::add-mask::`` or ``::stop-commands::``, or holds the older ``##[``), and the end of an
XML CDATA section (``]]>``). ``inert`` removes the escapes and control characters and breaks the
commands with an invisible zero-width space, so the text reads the same to a person.
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
_SUSPECT = re.compile(_CONTROL.pattern + r"|::|##\[|]]>")
# Values inert_strings passes through untouched, without a call per number.
_PLAIN = frozenset({int, float, bool, type(None)})


def inert(text: object) -> str:
    """``text`` without terminal escapes or control characters, with workflow commands and
    CDATA terminators broken (newlines, carriage returns and tabs kept)."""
    text = str(text)
    if _SUSPECT.search(text) is None:
        return text
    text = _CONTROL.sub("", _ESCAPES.sub("", text))
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
