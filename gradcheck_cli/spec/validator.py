"""The validator that walks ``schema.spec_schema()`` over a loaded exercise file.

The first problem becomes a ``SpecError`` with the file, the line and a fix (a misspelt key
gets a suggestion). Checks that need more than the shape of the data (expressions, shapes that
must fit together) happen after this, in ``exercise.py``.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from ..errors import SpecError
from .schema import CASE_NAME, IDENTIFIER, MODULE, RANGE, SHAPE_ENTRY, spec_schema
from .yamlload import YMap, YSeq


_TYPES: dict[str, tuple[Any, str]] = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "number": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "boolean": (lambda v: isinstance(v, bool), "true or false"),
    "array": (lambda v: isinstance(v, list), "a list"),
    "object": (lambda v: isinstance(v, dict), "a mapping (key: value)"),
    "null": (lambda v: v is None, "nothing"),
}


def describe(value: Any) -> str:
    """A short phrase naming what a YAML value turned out to be."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()} (YAML reads yes/no/on/off as booleans)"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def suggest(word: str, choices) -> str | None:
    """The closest of ``choices`` to a misspelt ``word``, if any is close: one the word holds
    whole (``hidden_hints`` -> ``hints``), else the most similar."""
    word, names = str(word), [str(c) for c in choices]
    held = [c for c in names if len(c) >= 4 and c in word]
    if held:
        return max(held, key=len)
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return close[0] if close else None


def format_path(parts: tuple) -> str:
    """``("cases", 1, "inputs", "x")`` -> ``cases[1].inputs.x``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the file"


class _Where:
    """A value's place in the file, worded (``format_path``) only if a message uses it: the
    walk visits thousands of places and words a handful."""

    __slots__ = ("path",)

    def __init__(self, path: tuple):
        self.path = path

    def __str__(self) -> str:
        return format_path(self.path)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _hint(schema: dict, key: str | None = None) -> str | None:
    parts = []
    if schema.get("description"):
        parts.append(schema["description"])
    if schema.get("examples"):
        example = schema["examples"][0]
        shown = f"{key}: {_yaml_inline(example)}" if key else _yaml_inline(example)
        parts.append(f"e.g. `{shown}`")
    return "; ".join(parts) or None


def _yaml_inline(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_inline(v)}" for k, v in value.items()) + "}"
    return str(value)


class _Validator:
    """Walks a value and its schema together. A mismatch raises; where a mapping's keys or a
    list's items are checked one by one, each one's mismatch is set aside in ``found`` and
    the walk goes on to its siblings, so that a file's every problem is told at once (but in
    the branches of an ``anyOf``, which are tried by their first mismatch)."""

    def __init__(self, root: dict, file: str | None):
        self.root = root
        self.file = file
        self.found: list[SpecError] = []
        self.trying = 0              # > 0 inside anyOf branches: raise, never set aside

    def each(self, check) -> None:
        """Run one sibling's ``check()``; outside anyOf branches, set its mismatch aside."""
        try:
            check()
        except SpecError as exc:
            self.report(exc)

    def report(self, error: SpecError) -> None:
        """A mismatch found: raised inside anyOf branches, else set aside."""
        if self.trying:
            raise error
        self.found.append(error)

    def fail(self, message: str, line: int | None, hint: str | None) -> SpecError:
        return SpecError(message, file=self.file, line=line,
                         hint=hint or "`gradcheck schema` prints what every key accepts")

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            node: Any = self.root
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def types_of(self, schema: dict) -> set[str] | None:
        """The JSON types a schema can accept (None: any)."""
        schema = self.resolve(schema)
        if "type" in schema:
            return {schema["type"]} if isinstance(schema["type"], str) else set(schema["type"])
        if "anyOf" in schema:
            found: set[str] = set()
            for branch in schema["anyOf"]:
                sub = self.types_of(branch)
                if sub is None:
                    return None
                found |= sub
            return found
        values = [schema["const"]] if "const" in schema else schema.get("enum")
        if values is not None:
            return {name for v in values for name, (test, _) in _TYPES.items() if test(v)}
        return None

    def fits(self, value: Any, schema: dict) -> bool:
        types = self.types_of(schema)
        if types is None:
            return True
        return any(_TYPES[t][0](value) for t in types)

    def phrase(self, schema: dict) -> str:
        schema = self.resolve(schema)
        if "const" in schema:
            return repr(schema["const"])
        if "enum" in schema:
            return "one of " + ", ".join(repr(v) for v in schema["enum"])
        if "anyOf" in schema:
            return _join_or([self.phrase(b) for b in schema["anyOf"]])
        types = self.types_of(schema) or set()
        return _join_or([_TYPES[t][1] for t in _TYPES if t in types])

    def check(self, value: Any, schema: dict, path: tuple, line: int | None) -> None:
        schema = self.resolve(schema)
        where = _Where(path)
        if "anyOf" in schema:
            self.check_any_of(value, schema, path, line)
            return
        if not self.fits(value, schema):
            hint = _hint(schema, str(path[-1]) if path else None)
            if isinstance(value, dict) and self.types_of(schema) == {"string"}:
                hint = "put the text in quotes: YAML reads `words: more words` as a mapping"
            raise self.fail(f"{where}: expected {self.phrase(schema)}, got {describe(value)}",
                            line, hint)
        if "const" in schema and value != schema["const"]:
            raise self.fail(f"{where}: expected {schema['const']!r}, got {describe(value)}",
                            line, _hint(schema))
        if "enum" in schema and value not in schema["enum"]:
            close = suggest(value, schema["enum"])
            guess = f" — did you mean {close!r}?" if close else ""
            raise self.fail(f"{where}: {value!r} is not allowed{guess}", line,
                            "use one of " + ", ".join(repr(v) for v in schema["enum"]))
        rules = []
        for keyword, rule in _RULES.items():
            if keyword in schema and rule not in rules:
                rules.append(rule)
        for rule in rules:
            rule(self, value, schema, path, line)

    def check_any_of(self, value: Any, schema: dict, path: tuple, line: int | None) -> None:
        branches = [self.resolve(b) for b in schema["anyOf"]]
        fitting = [b for b in branches if self.fits(value, b)]
        if not fitting:
            raise self.fail(f"{format_path(path)}: expected {self.phrase(schema)}, "
                            f"got {describe(value)}", line, _hint(schema))
        first_error = None
        self.trying += 1
        try:
            for branch in fitting:
                try:
                    self.check(value, branch, path, line)
                    return
                except SpecError as exc:
                    first_error = first_error or exc
        finally:
            self.trying -= 1
        raise first_error


def _join_or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# -- keyword rules: each checks one JSON Schema keyword, for values of the right type already


_PATTERN_WORDS = {
    IDENTIFIER: "use letters, digits and _, not starting with a digit (like a Python name)",
    CASE_NAME: "use letters, digits, _, - and .",
    RANGE: "write a range as LOW..HIGH, e.g. 2..6",
    MODULE: "write a module name, e.g. torch or scipy.optimize",
    SHAPE_ENTRY: "a shape entry is a size (3), a range (5..8) or a name from the case's dims",
}


def _pattern(v: _Validator, value, schema, path, line) -> None:
    if isinstance(value, str) and not re.search(schema["pattern"], value):
        what = path[-1] if path and isinstance(path[-1], str) else "entry"
        raise v.fail(f"{format_path(path)}: {value!r} is not a valid {what}", line,
                     _PATTERN_WORDS.get(schema["pattern"], f"it must match {schema['pattern']}"))


def _length(v: _Validator, value, schema, path, line) -> None:
    if not isinstance(value, str):
        return
    if len(value) < schema.get("minLength", 0):
        raise v.fail(f"{format_path(path)}: must not be empty", line, _hint(schema))
    if len(value) > schema.get("maxLength", len(value)):
        raise v.fail(f"{format_path(path)}: is {len(value)} characters long; at most "
                     f"{schema['maxLength']} are allowed", line, "shorten it")


def _bounds(v: _Validator, value, schema, path, line) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    where = _Where(path)
    if value != value:  # NaN compares false with every bound
        raise v.fail(f"{where}: must be a number, got nan", line, _hint(schema))
    if "minimum" in schema and not value >= schema["minimum"]:
        raise v.fail(f"{where}: {value} is below the minimum {schema['minimum']}", line,
                     _hint(schema))
    if "exclusiveMinimum" in schema and not value > schema["exclusiveMinimum"]:
        raise v.fail(f"{where}: {value} must be above {schema['exclusiveMinimum']}", line,
                     _hint(schema))
    if "maximum" in schema and not value <= schema["maximum"]:
        raise v.fail(f"{where}: {value} is above the maximum {schema['maximum']}", line,
                     _hint(schema))


def _items(v: _Validator, value, schema, path, line) -> None:
    if not isinstance(value, list):
        return
    where = _Where(path)
    if len(value) < schema.get("minItems", 0):
        raise v.fail(f"{where}: needs at least {schema['minItems']} item(s), got {len(value)}",
                     line, _hint(schema, str(path[-1]) if path else None))
    if len(value) > schema.get("maxItems", len(value)):
        raise v.fail(f"{where}: has {len(value)} items; at most {schema['maxItems']} are "
                     "allowed", line, "split it up or drop some")
    if schema.get("uniqueItems"):
        seen: list = []
        for i, item in enumerate(value):
            if item in seen:
                raise v.fail(f"{where}: {item!r} is listed twice", _item_line(value, i, line),
                             "remove the repeat")
            seen.append(item)
    if "items" in schema:
        for i, item in enumerate(value):
            v.each(lambda i=i, item=item: v.check(item, schema["items"], path + (i,),
                                                  _item_line(value, i, line)))


def _item_line(seq: list, index: int, line: int | None) -> int | None:
    return seq.item_line(index) if isinstance(seq, YSeq) else line


def _object(v: _Validator, value, schema, path, line) -> None:
    if not isinstance(value, dict):
        return
    where = _Where(path)
    props = schema.get("properties", {})
    key_line = (lambda k: value.key_line(k)) if isinstance(value, YMap) else (lambda k: line)
    value_line = (lambda k: value.value_line(k)) if isinstance(value, YMap) else (lambda k: line)
    own_line = value.line if isinstance(value, YMap) else line
    for key in value:
        v.each(lambda key=key: _key(v, value, schema, path, key, key_line, value_line))
    missing = [key for key in schema.get("required", ()) if key not in value]
    # A misspelt key is one problem, not also its right spelling missing. (Guessed only when a
    # key is missing: most mappings miss none, and guessing is slow.)
    meant = ({suggest(k, props) for k in value if isinstance(k, str) and k not in props}
             if missing else set())
    for key in missing:
        if key not in meant:
            sub = v.resolve(props.get(key, {}))
            in_where = f" in {where}" if path else ""
            v.report(v.fail(f"missing required key '{key}'{in_where}", own_line,
                            "add " + (_hint(sub, key) or f"`{key}: ...`")))
    for key, sub in props.items():
        if key in value:
            v.each(lambda key=key, sub=sub: v.check(value[key], sub, path + (key,),
                                                   value_line(key)))


def _key(v: _Validator, value, schema, path, key, key_line, value_line) -> None:
    """One key of a mapping: a name, known here (or valid for the extra keys it allows)."""
    where, props = _Where(path), schema.get("properties", {})
    if not isinstance(key, str):
        raise v.fail(f"{where}: key {describe(key)} is not a name", key_line(key),
                     "quote it, e.g. `'yes': ...`" if isinstance(key, bool) else
                     "keys are names like `shape`")
    if key in props:
        return
    extra = schema.get("additionalProperties", True)
    if extra is False:
        close = suggest(key, props)
        guess = f" — did you mean '{close}'?" if close else ""
        in_where = f" in {where}" if path else ""
        raise v.fail(f"unknown key '{key}'{in_where}{guess}", key_line(key),
                     "known keys here: " + ", ".join(props))
    names = schema.get("propertyNames", {})
    if "pattern" in names and not re.search(names["pattern"], key):
        raise v.fail(f"{where}: '{key}' is not a valid name", key_line(key),
                     _PATTERN_WORDS.get(names["pattern"], f"match {names['pattern']}"))
    if isinstance(extra, dict):
        v.check(value[key], extra, path + (key,), value_line(key))


_RULES = {
    "pattern": _pattern,
    "minLength": _length,
    "maxLength": _length,
    "minimum": _bounds,
    "maximum": _bounds,
    "exclusiveMinimum": _bounds,
    "items": _items,
    "minItems": _items,
    "maxItems": _items,
    "properties": _object,
    "additionalProperties": _object,
}


def validate(data: Any, file: str | None = None) -> None:
    """Check a loaded exercise file against ``spec_schema()``; raise ``SpecError`` if it fails."""
    schema = spec_schema()
    line = data.line if isinstance(data, YMap) else 1
    walk = _Validator(schema, file)
    walk.each(lambda: walk.check(data, schema, (), line))
    if walk.found:
        first = walk.found[0]
        first.others = walk.found[1:]        # the rest, for `gradcheck validate` to list
        raise first
