"""Formulas in specs: the whitelist, what the compiled closures compute, and what is refused."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli.errors import SpecError
from gradcheck_cli.spec import parse_expression, parse_signature


def value(expr, **env):
    return np.asarray(expr(**env), dtype=np.float64)


def test_arithmetic_matches_numpy():
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    y = np.array([[2.0, 3.0, -1.0], [0.5, 4.0, 1.0]])
    expr = parse_expression("-x * 2 + y / 4 - x ** 2 + exp(y) * sigmoid(x)", ["x", "y"])
    want = -x * 2 + y / 4 - x ** 2 + np.exp(y) / (1 + np.exp(-x))
    np.testing.assert_allclose(value(expr, x=x, y=y), want)


def test_keyword_arguments_and_negative_constants():
    x = np.array([-2.0, -0.5, 0.0, 3.0])
    expr = parse_expression("leaky_relu(x, slope=0.25) + maximum(x, -1)", ["x"])
    want = np.where(x > 0, x, 0.25 * x) + np.maximum(x, -1)
    np.testing.assert_allclose(value(expr, x=x), want)


def test_names_functions_and_source():
    expr = parse_expression("  tanh(w) * x + exp(x) ", ["x", "w", "unused"])
    assert expr.source == "tanh(w) * x + exp(x)"
    assert expr.variables == ("w", "x")
    assert set(expr.functions) == {"mul", "tanh", "add", "exp"}


def test_missing_variable_at_call():
    expr = parse_expression("x * y", ["x", "y"])
    with pytest.raises(TypeError, match="y"):
        expr(x=np.ones(2))


def test_constant_powers_are_float_not_bigint():
    # Python would spend forever on 2 ** 10 ** 10 as integers; the ops give a float inf.
    expr = parse_expression("x * 0 + 2 ** 10 ** 10", ["x"])
    with np.errstate(over="ignore"):
        assert np.isinf(value(expr, x=np.ones(2))).all()


@pytest.mark.parametrize("source, words", [
    ("sigmoud(x)", "did you mean 'sigmoid'"),
    ("__import__('os')", "unknown op '__import__'"),
    ("__import__('os').system('true')", "'.system' is not allowed"),
    ("x.__class__", "'.__class__' is not allowed"),
    ("x.__class__.__mro__", "not allowed"),
    ("().__class__", "not allowed"),
    ("lambda: x", "lambda"),
    ("(lambda v: v)(x)", "lambda"),
    ("[v for v in x]", "comprehensions"),
    ("x if x else x", "not allowed"),
    ("x > 0", "comparisons"),
    ("x and x", "not allowed"),
    ("{'a': x}", "dictionaries"),
    ("sigmoid(*x)", "unpacking"),
    ("leaky_relu(x, slope=x)", "keyword argument must be a constant"),
    ("sigmoid(x, **{})", "unpacking"),
    ("z + 1", "unknown name 'z'"),
    ("xx + 1", "did you mean 'x'"),
    ("sigmoid + x", "is an op"),
    ("'text'", "only numbers"),
    ("x[y]", "index must be a whole number"),
    ("x[0.5]", "index must be a whole number"),
    ("open('f')", "unknown op 'open'"),
    ("x +", "not a valid expression"),
    ("", "empty"),
    ("x % 2", "not allowed"),
    ("~x", "not allowed"),
    ("(x := 1)", "not allowed"),
    ("f'{x}'", "f-strings"),
    ("(x, x)", "one array"),
])
def test_refused(source, words):
    with pytest.raises(SpecError) as info:
        parse_expression(source, ["x", "y"], file="spec.yaml", line=7, single=True)
    assert words in info.value.message
    assert info.value.file == "spec.yaml" and info.value.line == 7


def test_size_limits():
    with pytest.raises(SpecError, match="characters"):
        parse_expression("x + " * 400 + "x", ["x"])
    with pytest.raises(SpecError, match="too large|nested"):
        parse_expression("-" * 100 + "x", ["x"])


def test_error_line_follows_multiline_formula():
    with pytest.raises(SpecError) as info:
        parse_expression("(x +\n sigmoud(x))", ["x"], line=10)
    assert info.value.line == 11


def test_sequence_allowed_when_not_single():
    expr = parse_expression("(x, 2 * x)", ["x"])
    first, second = expr(x=np.array([1.0, 2.0]))
    np.testing.assert_allclose(np.asarray(second), [2.0, 4.0])


def test_ops_are_looked_up_when_parsing(monkeypatch):
    from gradcheck_cli.engine import ops
    monkeypatch.setitem(ops.OPS, "double_it", lambda t: ops.mul(t, 2.0))
    expr = parse_expression("double_it(x)", ["x"])
    np.testing.assert_allclose(value(expr, x=np.array([1.5])), [3.0])


@pytest.mark.parametrize("source, expected", [
    ("grad_conv2d(x, w, dz)", ("grad_conv2d", ("x", "w", "dz"))),
    ("  grad_sigmoid( x , upstream )  ", ("grad_sigmoid", ("x", "upstream"))),
])
def test_signature(source, expected):
    assert parse_signature(source) == expected


@pytest.mark.parametrize("source", ["grad_f", "grad_f(dz)", "grad_f(x, x, dz)", "grad_f(x=1, dz)",
                                    "grad_f(x, dz", "obj.grad(x, dz)", "grad_f(1, dz)",
                                    "_private(x, dz)"])
def test_bad_signature(source):
    with pytest.raises(SpecError) as info:
        parse_signature(source, file="s.yaml", line=3)
    assert info.value.line == 3 and info.value.hint


def test_a_positional_shape_tuple_keeps_whole_numbers():
    """reshape(b, (1, -1, 1, 1)) reads like NumPy; the shape must not turn into floats."""
    import numpy as np

    from gradcheck_cli.spec import parse_expression

    expr = parse_expression("reshape(b, (1, -1, 1, 1)) + x", ["b", "x"])
    out = expr(b=np.arange(3.0), x=np.zeros((2, 3, 4, 5)))
    assert out.shape == (2, 3, 4, 5)
    np.testing.assert_array_equal(np.asarray(out)[1, :, 2, 3], [0.0, 1.0, 2.0])
