"""What an exercise file may say, described once.

``spec_schema()`` is the single description of the format: a JSON-Schema-like dict that
``schema_document()`` publishes as a JSON Schema (draft 2020-12, for editors) and that
``validator.validate()`` walks to check a file. Defaults live here too (``default``), and the
loader reads them back with ``default_of``.
"""

from __future__ import annotations

import copy
from typing import Any

from ..sandbox.options import DEFAULT_FORBIDDEN_IMPORTS
from ..tolerance import DEFAULT_ATOL, DEFAULT_RTOL  # the defaults a spec file may override
from .distributions import DISTRIBUTIONS, parameter_names

IDENTIFIER = "^[A-Za-z_][A-Za-z0-9_]*$"
CASE_NAME = "^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
RANGE = "^[0-9]+[.][.][0-9]+$"
MODULE = "^[A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)*$"
SHAPE_ENTRY = "^([0-9]+[.][.][0-9]+|[A-Za-z_][A-Za-z0-9_]*)$"

SCORING_MODES = ("partial", "all-or-nothing")


def _dimension(description: str) -> dict:
    return {"anyOf": [{"type": "integer", "minimum": 1},
                      {"type": "string", "pattern": RANGE}],
            "description": description, "examples": [4, "2..6"]}


def _literal() -> dict:
    return {"anyOf": [{"type": "number"},
                      {"type": "array", "items": {"$ref": "#/$defs/literal"}}],
            "description": "a number or nested lists of numbers, written out in full"}


def _generator() -> dict:
    props: dict[str, Any] = {
        "shape": {
            "type": "array", "maxItems": 8,
            "items": {"anyOf": [{"type": "integer", "minimum": 1},
                                {"type": "string", "pattern": SHAPE_ENTRY}]},
            "description": "one entry per axis: a size (3), a range drawn per case (\"5..8\", "
                           "inclusive), or the name of a dimension from the case's `dims`; "
                           "required for an input, left out for the upstream gradient (it "
                           "has the forward output's shape)",
            "examples": [[3, "5..8"], ["m", "k"]]},
        "dist": {"enum": list(DISTRIBUTIONS), "default": "normal",
                 "description": "; ".join(f"{d.name}: {d.description}"
                                          for d in DISTRIBUTIONS.values())},
        "constant_along": {
            "type": "integer", "minimum": -8, "maximum": 7,
            "description": "make the first line along this axis one repeated value (exact in "
                           "any precision): a row (-1) or column (0) with zero variance, to "
                           "stress a normalisation's epsilon",
            "examples": [-1]},
    }
    for name in parameter_names():
        owners = ", ".join(d.name for d in DISTRIBUTIONS.values() if name in d.defaults)
        props[name] = {"type": "number", "description": f"parameter of dist {owners}"}
    return {"type": "object", "properties": props, "additionalProperties": False,
            "description": "random numbers: {shape: [...], dist: ..., parameters}"}


def spec_schema() -> dict:
    """The description of an exercise file (JSON Schema keywords only)."""
    return {
        "title": "gradcheck exercise",
        "description": "One exercise: the forward the learner differentiates, the signature "
                       "of the function they write, and the cases it is graded on.",
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": IDENTIFIER, "maxLength": 64,
                     "description": "the exercise's id, used by `gradcheck run -e NAME`",
                     "examples": ["conv2d"]},
            "title": {"type": "string", "minLength": 1, "maxLength": 200,
                      "description": "a one-line title",
                      "examples": ["Gradient of the logistic sigmoid"]},
            "description": {"type": "string", "default": "",
                            "description": "Markdown shown by `gradcheck show NAME`: the "
                                           "forward, what dz is, the shapes, a nudge"},
            "function": {"type": "string", "maxLength": 200,
                         "description": "the signature the learner implements; in the simple "
                                        "style its last parameter is the upstream gradient, "
                                        "in the pair and loss styles it is the forward's",
                         "examples": ["grad_conv2d(x, w, dz)",
                                      "conv_forward(x, w, b, conv_param)"]},
            "style": {"enum": ["simple", "pair", "loss"], "default": "simple",
                      "description": "how the learner's code is called: simple, `function` "
                                     "returns the gradients; pair, `function` returns (out, "
                                     "cache) and `backward(dout, cache)` the gradients; loss, "
                                     "`function` returns (loss, grads), grads a tuple in "
                                     "`wrt` order, one array or a dict by input name"},
            "backward": {"type": "string", "maxLength": 200,
                         "description": "pair style: the backward's signature; its first "
                                        "parameter names the upstream gradient",
                         "examples": ["conv_backward(dout, cache)"]},
            "params": {"type": "object", "propertyNames": {"pattern": IDENTIFIER},
                       "additionalProperties": {},
                       "description": "parameters of `function` that are not arrays (a dict, "
                                      "a list, a number, a string, a boolean), passed where "
                                      "the signature has them and never differentiated; "
                                      "`gradcheck check --param NAME=JSON` gives the same",
                       "examples": [{"conv_param": {"stride": 2, "pad": 1}}]},
            "forward": {"type": "string", "maxLength": 1000,
                        "description": "an expression over the inputs using the engine's ops, "
                                       "+ - * / ** @, .T and constant indexing; never run as "
                                       "Python",
                        "examples": ["conv2d(x, w)"]},
            "wrt": {"anyOf": [{"type": "string", "pattern": IDENTIFIER},
                              {"type": "array", "minItems": 1, "uniqueItems": True,
                               "items": {"type": "string", "pattern": IDENTIFIER}}],
                    "description": "the input(s) the learner returns the gradient for; with "
                                   "a list, they return a tuple in that order (default: the "
                                   "first input)",
                    "examples": ["w", ["x", "y"]]},
            "points": {"type": "number", "minimum": 0, "maximum": 1000, "default": 1,
                       "description": "what the exercise is worth", "examples": [2]},
            "scoring": {"enum": list(SCORING_MODES), "default": "partial",
                        "description": "partial: the points are split over the cases; "
                                       "all-or-nothing: every case must pass"},
            "group": {"type": "string", "maxLength": 100,
                      "description": "the set this exercise belongs to",
                      "examples": ["seed-000"]},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True,
                     "default": [], "description": "topics, for `gradcheck list`",
                     "examples": [["activations", "elementwise"]]},
            "tolerance": {
                "type": "object", "additionalProperties": False,
                "description": "an element passes when |got - want| <= R * (the largest |want| "
                               "of its output) + atol, with R = max(rtol, 4096 epsilons of "
                               "the answer's precision); leave it out unless the forward is "
                               "ill-conditioned at the inputs",
                "properties": {
                    "rtol": {"type": "number", "minimum": 0, "maximum": 1,
                             "default": DEFAULT_RTOL,
                             "description": "the least R, relative to each output's largest "
                                            "element (default: only the answer's precision)"},
                    "atol": {"type": "number", "minimum": 0, "maximum": 1,
                             "default": DEFAULT_ATOL, "description": "absolute tolerance"},
                }},
            "hints": {"type": "array", "items": {"type": "string"}, "default": [],
                      "description": "nudges shown to a learner whose answer is wrong"},
            "forbidden_imports": {
                "type": "array", "uniqueItems": True,
                "items": {"type": "string", "pattern": MODULE},
                "default": list(DEFAULT_FORBIDDEN_IMPORTS),
                "description": "modules a submission may not import (replaces the default "
                               "list; include it again to extend it)"},
            "kinks": {
                "type": "object", "additionalProperties": False,
                "description": "input values where the forward is not differentiable (relu, "
                               "abs at 0); random inputs are kept away from them, literal "
                               "inputs are not moved and the engine's convention applies",
                "properties": {
                    "at": {"type": "array", "items": {"type": "number"}, "default": [],
                           "description": "the kink positions", "examples": [[0]]},
                    "margin": {"type": "number", "exclusiveMinimum": 0, "default": 1e-3,
                               "description": "the smallest distance a random input keeps "
                                              "from a kink"},
                }},
            "cases": {"type": "array", "minItems": 1, "maxItems": 100,
                      "items": {"$ref": "#/$defs/case"},
                      "description": "what the learner's function is called on"},
            "mistakes": {"type": "array", "default": [], "maxItems": 50,
                         "items": {"$ref": "#/$defs/mistake"},
                         "description": "known wrong answers, recognised and explained"},
        },
        "required": ["name", "title", "function", "forward", "cases"],
        "additionalProperties": False,
        "$defs": {
            "literal": _literal(),
            "case": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": CASE_NAME, "maxLength": 64,
                             "description": "shown in reports; repeats get -1, -2, ...",
                             "examples": ["worked-example"]},
                    "hidden": {"type": "boolean", "default": False,
                               "description": "hidden cases are graded but their inputs "
                                              "are not shown", "examples": [True]},
                    "repeat": {"type": "integer", "minimum": 1, "maximum": 100, "default": 1,
                               "description": "how many copies, each with fresh random "
                                              "draws"},
                    "sizes": {"type": "array", "minItems": 1, "maxItems": 20,
                              "items": {"type": "object",
                                        "propertyNames": {"pattern": IDENTIFIER},
                                        "additionalProperties": _dimension(
                                            "a size for one of the case's dims, or a "
                                            "narrower range")},
                              "description": "one case per entry, with these dims: the sizes "
                                             "every seed must cover (odd and even, say), "
                                             "values still random; instead of `repeat`",
                              "examples": [[{"rows": 5, "cols": 6}, {"rows": 6, "cols": 7}]]},
                    "dims": {"type": "object",
                             "propertyNames": {"pattern": IDENTIFIER},
                             "additionalProperties": _dimension("a named size: a number or "
                                                                "a range like 2..6"),
                             "default": {},
                             "description": "named sizes drawn once per case and shared by "
                                            "the inputs' shapes", "examples": [{"m": "2..5"}]},
                    "distinct": {"type": "array",
                                 "items": {"anyOf": [
                                     {"type": "string", "pattern": IDENTIFIER},
                                     {"type": "array", "minItems": 2,
                                      "items": {"type": "string", "pattern": IDENTIFIER}}]},
                                 "default": [],
                                 "description": "dims that must all differ (a list of names, "
                                                "or a list of such lists): keeps random "
                                                "shapes non-square",
                                 "examples": [["m", "k", "n"]]},
                    "inputs": {"type": "object",
                               "propertyNames": {"pattern": IDENTIFIER},
                               "additionalProperties": {"$ref": "#/$defs/input"},
                               "description": "a value for every parameter of `function`; "
                                              "the upstream gradient may be omitted "
                                              "(random)"},
                },
                "required": ["inputs"],
            },
            "input": {"anyOf": [{"$ref": "#/$defs/literal"},
                                {"$ref": "#/$defs/generator"},
                                {"const": "random"}],
                      "description": "a literal array, a generator {shape: [...], dist: ...}, "
                                     "or (for the upstream gradient only) `random`"},
            "generator": _generator(),
            "mistake": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": IDENTIFIER, "maxLength": 64,
                           "description": "a stable id, reported as a diagnosis",
                           "examples": ["missing_transpose"]},
                    "gradient": {"type": "string", "maxLength": 1000,
                                 "description": "the wrong answer, as an expression over the "
                                                "inputs and the upstream gradient",
                                 "examples": ["dz @ y"]},
                    "wrt": {"type": "string", "pattern": IDENTIFIER,
                            "description": "which returned gradient this mistake is about "
                                           "(needed when `wrt` lists several)"},
                    "message": {"type": "string",
                                "description": "what went wrong, in a sentence"},
                    "hint": {"type": "string", "description": "how to fix it"},
                },
                "required": ["id", "gradient"],
            },
        },
    }


def schema_document() -> dict:
    """The exercise-file format as a JSON Schema (draft 2020-12), for ``gradcheck schema``."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            **copy.deepcopy(spec_schema())}


def default_of(*path: str) -> Any:
    """The default of a property, e.g. ``default_of("tolerance", "rtol")``."""
    node = spec_schema()
    for key in path:
        node = node["properties"][key]
    return copy.deepcopy(node["default"])
