"""The one description of the format: its JSON Schema, its defaults, the validator built on it."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from gradcheck_cli.errors import SpecError
from gradcheck_cli.spec import (DEFAULT_ATOL, DEFAULT_RTOL, DISTRIBUTIONS, build_exercise,
                                parse_yaml, schema_document, spec_schema, validate)
from gradcheck_cli.spec.validator import _Validator


def walk(node, path=()):
    """Every sub-schema of the description, with its path."""
    if isinstance(node, dict):
        yield path, node
        for key, child in node.items():
            yield from walk(child, path + (key,))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from walk(child, path + (i,))


def test_schema_document_is_a_json_schema():
    doc = json.loads(json.dumps(schema_document()))
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["type"] == "object" and doc["additionalProperties"] is False
    assert {"name", "title", "function", "forward", "cases"} <= set(doc["required"])
    for key in ("wrt", "points", "scoring", "tolerance", "hints", "forbidden_imports", "kinks",
                "mistakes", "group", "tags", "description"):
        assert key in doc["properties"]


def test_every_ref_resolves():
    root = spec_schema()
    refs = [node["$ref"] for _, node in walk(root) if "$ref" in node]
    assert refs
    for ref in refs:
        assert ref.startswith("#/$defs/") and ref.split("/")[-1] in root["$defs"]


def test_examples_and_defaults_satisfy_their_own_schema():
    # The description is the single source: its examples and defaults must pass its validator.
    root = spec_schema()
    validator = _Validator(root, "schema")
    checked = 0
    for path, node in walk(root):
        if path and path[-1] in ("examples", "properties", "$defs", "anyOf", "items"):
            continue
        for example in node.get("examples", []) + ([node["default"]] if "default" in node else []):
            validator.check(example, node, ("example",), None)
            checked += 1
    assert checked > 15


def test_distributions_of_the_registry_are_accepted():
    enum = spec_schema()["$defs"]["generator"]["properties"]["dist"]["enum"]
    assert enum == list(DISTRIBUTIONS)
    for name, dist in DISTRIBUTIONS.items():
        text = ("name: d\ntitle: d\nfunction: grad_d(x, dz)\nforward: x\n"
                f"cases:\n  - inputs: {{x: {{shape: [4], dist: {name}}}}}\n")
        ex = build_exercise(parse_yaml(text, "d.yaml"), "d.yaml")
        assert np.all(np.isfinite(ex.generate_cases(0)[0].inputs["x"]))


MINIMAL = """\
name: minimal
title: Minimal
function: grad_minimal(x, dz)
forward: sigmoid(x)
cases:
  - inputs: {x: [1, 2]}
"""


def test_defaults_come_from_the_schema():
    ex = build_exercise(parse_yaml(MINIMAL, "m.yaml"), "m.yaml")
    assert (ex.tolerance.rtol, ex.tolerance.atol) == (DEFAULT_RTOL, DEFAULT_ATOL)
    assert ex.points == 1 and ex.scoring == "partial" and ex.wrt == ("x",)
    assert {"torch", "jax", "tensorflow", "autograd", "gradcheck_cli"} <= set(ex.forbidden_imports)
    assert ex.mistakes == () and ex.hints == () and ex.group is None
    assert ex.kinks.at == ()


def test_yaml_1_1_exponents_are_numbers():
    text = MINIMAL + "tolerance: {rtol: 1e-3, atol: 2E-7}\n"
    ex = build_exercise(parse_yaml(text, "m.yaml"), "m.yaml")
    assert (ex.tolerance.rtol, ex.tolerance.atol) == (1e-3, 2e-7)


@pytest.mark.parametrize("extra, line, words", [
    ("scoring: partly\n", 7, "did you mean 'partial'"),
    ("tolerance: {rtol: -1}\n", 7, "below the minimum 0"),
    ("tolerance: {rtol: .nan}\n", 7, "nan"),
    ("tolerance: {rtl: 1e-3}\n", 7, "did you mean 'rtol'"),
    ("wrt: [x, x]\n", 7, "listed twice"),
    ("tags: tag\n", 7, "expected a list"),
    ("yes: 1\n", 7, "is not a name"),
    ("forbidden_imports: ['torch;rm']\n", 7, "not a valid"),
    ("name2: x\n", 7, "unknown key 'name2' — did you mean 'name'?"),
])
def test_validator_messages(extra, line, words):
    with pytest.raises(SpecError) as info:
        validate(parse_yaml(MINIMAL + extra, "m.yaml"), "m.yaml")
    assert words in info.value.message and info.value.line == line and info.value.hint


def test_errors_inside_lists_point_at_the_item():
    text = textwrap.dedent("""\
        name: lines
        title: Lines
        function: grad_lines(x, dz)
        forward: sigmoid(x)
        cases:
          - name: ok
            inputs: {x: [1, 2]}
          - name: bad
            inputs:
              x:
                - 1
                - two
        """)
    with pytest.raises(SpecError) as info:
        validate(parse_yaml(text, "l.yaml"), "l.yaml")
    assert info.value.line == 12
    assert "cases[1].inputs.x[1]" in info.value.message
