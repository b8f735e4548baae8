"""The shipped exercise files, parsed ahead of time, so that a run need not import PyYAML.

For each catalog file ``NAME.yaml``, ``parsed_catalog/NAME.json`` holds the file's exact text
and what ``yamlparse.parse`` made of it (mappings and lists with the line of every entry).
``lookup`` uses it only when the file being read has that name and exactly that text: a file
edited since, or any other file, is parsed from its YAML as before, so the snapshot can make a
read faster and never different. The snapshot is part of the package (it is trusted as its code is),
and tests/spec/test_parsed_snapshot.py fails when it is stale. Regenerate it with

    python -m gradcheck_cli.spec.make_parsed
"""

from __future__ import annotations

import json
from pathlib import Path

from .located import YMap, YSeq

SNAPSHOT_DIR = Path(__file__).resolve().parent / "parsed_catalog"
FORMAT = 1


def lookup(stem: str, text: str) -> YMap | None:
    """The parse of ``text`` if the snapshot of the catalog file ``stem`` was made from it."""
    if not stem or stem.startswith("."):
        return None
    try:
        with open(SNAPSHOT_DIR / f"{stem}.json", encoding="utf-8") as f:
            entry = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("source") != text:
        return None
    data = decode(entry["data"])
    return data if isinstance(data, YMap) else None


def encode(value: object) -> object:
    """JSON for a parsed document: ``["m", line, [[key, key line, value line, value], ...]]``
    for a mapping, ``["s", line, [[item line, item], ...]]`` for a list, scalars as they are."""
    if isinstance(value, YMap):
        return ["m", value.line, [[k, value.key_lines[k], value.value_lines[k], encode(v)]
                                  for k, v in value.items()]]
    if isinstance(value, YSeq):
        return ["s", value.line, [[line, encode(v)] for line, v in zip(value.item_lines, value)]]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"a parsed exercise file holds no {type(value).__name__}")


def decode(value: object) -> object:
    """The inverse of ``encode``."""
    if not isinstance(value, list):
        return value
    kind, line, entries = value
    if kind == "m":
        result = YMap(line)
        for key, key_line, value_line, item in entries:
            result[key] = decode(item)
            result.key_lines[key] = key_line
            result.value_lines[key] = value_line
        return result
    seq = YSeq(line)
    for item_line, item in entries:
        seq.append(decode(item))
        seq.item_lines.append(item_line)
    return seq
