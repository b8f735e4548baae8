"""Exercise specs: safe YAML, one schema, formulas compiled to engine calls, seeded cases.

    exercises = load_exercises([default_catalog_dir()])      # sorted by name
    cases = exercises[0].generate_cases(seed=1234)            # same seed, same arrays

An exercise file, with every feature (``gradcheck schema`` prints the full JSON Schema)::

    name: matmul                        # the id: gradcheck run -e matmul
    title: Gradient of a matrix product
    function: grad_matmul(x, y, dz)     # what the learner writes; the last parameter is dz
    forward: x @ y                      # engine ops, + - * / ** @, .T, x[0, 1:]; never eval'd
    wrt: x                              # or [x, y]: then the learner returns a tuple
    points: 2                           # default 1
    scoring: partial                    # or all-or-nothing
    group: seed-000
    tags: [linear-algebra]
    tolerance: {rtol: 1.0e-4}           # a floor for an ill-conditioned forward; the rule is
                                        # gradcheck_cli/tolerance.py's (by the answer's dtype)
    kinks: {at: [0], margin: 1.0e-3}    # random inputs keep this far from kinks (relu, abs)
    forbidden_imports: [torch, jax]     # replaces the default list
    hints: [Check the shapes.]
    description: |                      # Markdown for `gradcheck show`
      ...
    cases:
      - name: worked-example            # literal arrays, shown to the learner
        inputs: {x: [[3, 4], [5, 6]], y: [[4, 5], [6, 7]], dz: [[1, 2], [3, 4]]}
      - name: random                    # expands to random-1, random-2, random-3
        hidden: true
        repeat: 3
        dims: {m: 2..6, k: 2..6, n: 2..6}   # named sizes, drawn per case, inclusive
        distinct: [m, k, n]             # they must differ: no square shortcuts
        inputs:
          x: {shape: [m, k]}            # dist: normal (mean, scale), uniform / positive
          y: {shape: [k, n], dist: uniform, low: -2, high: 2}   # (low, high), integers
          dz: random                    # or omitted, or {dist: ...}: the output's shape
    mistakes:
      - id: missing_transpose
        gradient: dz @ y                # a formula over the inputs and dz
        message: The result is dz @ y.
        hint: dL/dx = dz @ y.T

A shape entry is a size (``3``), an inline range (``"5..8"``, drawn per case) or a name from
``dims``. Loading checks the file against the schema and the formulas against the inputs;
``gradcheck validate`` (``authoring``) goes on to draw and evaluate the cases for several seeds.
"""

from ..tolerance import DEFAULT_ATOL, DEFAULT_RTOL, Tolerance
from .cases import MAX_CASE_ELEMENTS, Case, CaseSpec
from .catalog import default_catalog_dir, load_exercise, load_exercises, spec_files
from .distributions import DISTRIBUTIONS, Distribution
from .builder import build_exercise
from .exercise import STYLES, Exercise, Kinks, Mistake
from .expression import Expression, parse_expression, parse_signature
from .schema import DEFAULT_FORBIDDEN_IMPORTS, schema_document, spec_schema
from .validator import validate
from .yamlload import parse_yaml, read_yaml

__all__ = [
    "Case", "CaseSpec", "DEFAULT_ATOL", "DEFAULT_FORBIDDEN_IMPORTS", "DEFAULT_RTOL",
    "DISTRIBUTIONS", "Distribution", "Exercise", "Expression", "Kinks", "MAX_CASE_ELEMENTS",
    "Mistake", "Tolerance", "build_exercise", "default_catalog_dir",
    "load_exercise", "load_exercises", "parse_expression", "parse_signature", "parse_yaml",
    "read_yaml", "schema_document", "spec_schema", "spec_files", "validate",
]
