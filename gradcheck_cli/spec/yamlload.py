"""Read an exercise file as plain data, safely, remembering the line of every key and value.

Exercise files come from teachers and from the internet, so reading one must never run code or
blow up memory: only plain YAML types are built (no ``!!python/...`` or other tags), aliases are
refused (no "billion laughs"), nesting depth and file size are capped. Mappings and lists come
back as ``YMap``/``YSeq``, ordinary ``dict``/``list`` subclasses that know where each entry was
written, so every later error can say ``file:line``.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..errors import SpecError

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 32  # a literal 8-D array sits at depth ~12; anything deeper is not a spec

_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(_CORE + t for t in ("null", "bool", "int", "float", "str", "seq", "map"))

# YAML 1.1 reads `1e-4` and `1.0e4` as strings; authors mean numbers (as YAML 1.2 and JSON do).
_FLOAT = re.compile(r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                        |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
                        |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
                        |[-+]?\.(?:inf|Inf|INF)
                        |\.(?:nan|NaN|NAN))$""", re.X)


class YMap(dict):
    """A mapping read from YAML that remembers the 1-based line of each key and value."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.key_lines: dict = {}
        self.value_lines: dict = {}

    def key_line(self, key) -> int:
        """The line where ``key`` was written (the mapping's own line if it was not)."""
        return self.key_lines.get(key, self.line)

    def value_line(self, key) -> int:
        """The line where the value of ``key`` starts (the mapping's own line if absent)."""
        return self.value_lines.get(key, self.line)


class YSeq(list):
    """A list read from YAML that remembers the 1-based line of each item."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []

    def item_line(self, index: int) -> int:
        """The line where item ``index`` starts."""
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def _line(mark) -> int | None:
    return mark.line + 1 if mark is not None else None


def _value_line(node: yaml.Node) -> int:
    # A block scalar (`key: |`) starts on the line after its indicator.
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        line += 1
    return line


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and non-core tags and builds ``YMap``/``YSeq``."""

    yaml_implicit_resolvers = {
        first: [(tag, _FLOAT if tag == _CORE + "float" else regexp)
                for tag, regexp in resolvers if tag != _CORE + "timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream, file: str):
        super().__init__(stream)
        self.file = file
        self.depth = 0

    def fail(self, message: str, mark, hint: str) -> SpecError:
        return SpecError(message, file=self.file, line=_line(mark), hint=hint)

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise self.fail(f"YAML alias '*{event.anchor}' is not allowed in an exercise file",
                            event.start_mark,
                            "write the value out in full; anchors and aliases are refused "
                            "because they can expand into huge documents")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the YAML is nested more than {MAX_DEPTH} levels deep",
                            self.peek_event().start_mark, "flatten the structure")
        node = super().compose_node(parent, index)
        self.depth -= 1
        if node.tag == _CORE + "merge":
            raise self.fail("YAML merge keys (`<<`) are not allowed in an exercise file",
                            node.start_mark, "write the keys out in full")
        if node.tag not in ALLOWED_TAGS:
            tag = node.tag.replace(_CORE, "!!", 1) if node.tag.startswith(_CORE) else node.tag
            raise self.fail(f"YAML tag '{tag}' is not allowed in an exercise file",
                            node.start_mark,
                            "remove the tag: only plain strings, numbers, booleans, lists and "
                            "mappings are read (no !!python/... or other tags)")
        return node

    def construct_located_mapping(self, node: yaml.MappingNode) -> YMap:
        result = YMap(node.start_mark.line + 1)
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail("a key must be a plain name, not a list or a mapping",
                                key_node.start_mark, "write `name: value`")
            key = self.construct_object(key_node, deep=True)
            if key in result:
                raise self.fail(f"duplicate key {key!r} (first written at line "
                                f"{result.key_lines[key]})", key_node.start_mark,
                                "keep one of them: YAML would silently use the last one")
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = line
            result.value_lines[key] = _value_line(value_node)
        return result

    def construct_located_sequence(self, node: yaml.SequenceNode) -> YSeq:
        result = YSeq(node.start_mark.line + 1)
        for child in node.value:
            result.append(self.construct_object(child, deep=True))
            result.item_lines.append(_value_line(child))
        return result


_SpecLoader.add_constructor(_CORE + "map", _SpecLoader.construct_located_mapping)
_SpecLoader.add_constructor(_CORE + "seq", _SpecLoader.construct_located_sequence)

try:
    from yaml.cyaml import CParser
except ImportError:  # PyYAML built without libyaml
    CParser = None

if CParser is not None:
    class _FastSpecLoader(_SpecLoader, CParser):
        """``_SpecLoader`` reading its events from libyaml, about ten times faster.

        Only the scanning and parsing move to C: composing, the refusals and the line
        bookkeeping above run as they are, on the same events.
        """

        check_event = CParser.check_event
        peek_event = CParser.peek_event
        get_event = CParser.get_event
        dispose = CParser.dispose

        def __init__(self, stream, file: str):
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.file = file
            self.depth = 0
else:
    _FastSpecLoader = None

_PARSER_HINTS = {
    "\\t": "YAML does not allow tabs for indentation; use spaces",
    "mapping values are not allowed": "quote a value that contains ': ', or fix the indentation",
    "expected <block end>": "check the indentation: items of one list or mapping line up",
    "could not find expected ':'": "a key needs a ':' after it; quote a value with odd characters",
    "expected a single document": "an exercise file holds one document: remove the `---` line",
}


def _parser_hint(problem: str) -> str:
    for needle, hint in _PARSER_HINTS.items():
        if needle in problem:
            return hint
    return "check the indentation and the quoting around this line"


def parse_yaml(text: str, file: str) -> object:
    """Parse one YAML document from ``text`` into plain data (``YMap``/``YSeq``/scalars)."""
    if _FastSpecLoader is not None:
        loader = _FastSpecLoader(text, file)
        try:
            return loader.get_single_data()
        except (yaml.YAMLError, RecursionError):
            pass  # malformed: the pure-Python parser below says what is wrong, in its words
        finally:
            loader.dispose()
    loader = _SpecLoader(text, file)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise SpecError(f"invalid YAML: {problem}", file=file, line=_line(mark),
                        hint=_parser_hint(problem)) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", file=file,
                        hint="save the file as UTF-8 text") from None
    except RecursionError:
        raise SpecError("the YAML is nested too deeply", file=file,
                        hint="flatten the structure") from None
    finally:
        loader.dispose()


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
    data = parse_yaml(text, file)
    if data is None:
        raise SpecError("the file is empty", file=file,
                        hint="start from `gradcheck new NAME`, which writes a template")
    if not isinstance(data, YMap):
        raise SpecError("an exercise file must be a YAML mapping (`name: ...`, `forward: ...`)",
                        file=file, line=1, hint="start from `gradcheck new NAME`")
    return data
