"""The YAML parser behind ``yamlload``: PyYAML's safe loader, refusing what a spec may not hold.

Imported only when a file must really be parsed (see ``yamlload.py``); importing PyYAML is a
noticeable share of a run's start-up.
"""

from __future__ import annotations

import re

import yaml

from ..errors import SpecError
from .located import YMap, YSeq

MAX_DEPTH = 32  # a literal 8-D array sits at depth ~12; anything deeper is not a spec

_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(_CORE + t for t in ("null", "bool", "int", "float", "str", "seq", "map"))

# YAML 1.1 reads `1e-4` and `1.0e4` as strings; authors mean numbers (as YAML 1.2 and JSON do).
_FLOAT = re.compile(r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                        |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
                        |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
                        |[-+]?\.(?:inf|Inf|INF)
                        |\.(?:nan|NaN|NAN))$""", re.X)


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


def parse(text: str, file: str) -> object:
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
