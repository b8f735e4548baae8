"""The safe YAML reader: plain data only, with the line of every key and value."""

from __future__ import annotations

import pytest

from gradcheck_cli.errors import SpecError
from gradcheck_cli.spec import parse_yaml
from gradcheck_cli.spec.yamlload import YMap, YSeq

TEXT = """\
name: demo
description: |
  first line
  second line
cases:
  - name: a
    inputs: {x: [1, 2]}
  -
    name: b
when: 2024-01-01
small: 1e-4
"""


def test_lines_of_keys_values_and_items():
    data = parse_yaml(TEXT, "t.yaml")
    assert isinstance(data, YMap) and isinstance(data["cases"], YSeq)
    assert data.key_line("name") == 1 and data.value_line("name") == 1
    assert data.key_line("description") == 2
    assert data.value_line("description") == 3  # a block scalar starts below its `|`
    assert data.value_line("cases") == 6
    cases = data["cases"]
    assert cases.item_line(0) == 6 and cases.item_line(1) == 9
    assert cases[0].key_line("inputs") == 7
    assert cases[0]["inputs"].value_line("x") == 7


def test_plain_types_only():
    data = parse_yaml(TEXT, "t.yaml")
    assert data["when"] == "2024-01-01"  # not a datetime
    assert data["small"] == 1e-4 and isinstance(data["small"], float)
    assert type(data) is YMap and dict(data)["name"] == "demo"


@pytest.mark.parametrize("text, line, words", [
    ("a: 1\nb: &x [1]\nc: *x\n", 3, "alias"),
    ("a: 1\na: 2\n", 2, "duplicate key 'a'"),
    ("<<: {a: 1}\n", 1, "merge keys"),
    ("? [a, b]\n: 1\n", 1, "plain name"),
    ("a: !!python/tuple [1, 2]\n", 1, "!!python/tuple"),
    ("a: [1, 2\nb: 3\n", 2, "invalid YAML"),
])
def test_refused(text, line, words):
    with pytest.raises(SpecError) as info:
        parse_yaml(text, "t.yaml")
    assert info.value.line == line and words in info.value.message and info.value.hint
