"""How a spec says the learner's code is called: `style` (simple, pair, loss), `backward`, and
`params` for arguments that are not arrays; every mistake in them is a SpecError with the line."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from gradcheck_cli.errors import SpecError
from gradcheck_cli.spec import build_exercise, parse_yaml

CASES = """
cases:
  - name: random
    inputs:
      x: {shape: [3, 4]}
"""


def exercise(head: str, body: str = CASES):
    text = "name: demo\ntitle: Demo\n" + textwrap.dedent(head) + textwrap.dedent(body)
    return build_exercise(parse_yaml(text, "demo.yaml"), "demo.yaml")


def test_a_parameter_of_the_simple_style_goes_where_the_signature_has_it():
    ex = exercise("""
        function: grad_leaky(x, lrelu_param, dz)
        params:
          lrelu_param: {alpha: 0.1}
        forward: leaky_relu(x, slope=0.1)
        """)
    assert ex.params == ("x",) and ex.dz_name == "dz" and ex.style == "simple"
    assert ex.placement() == {"layout": ["a", {"param": {"alpha": 0.1}, "name": "lrelu_param"},
                                         "a"]}


def test_a_pair_names_its_upstream_gradient_after_the_backwards_first_parameter():
    ex = exercise("""
        style: pair
        function: relu_forward(x)
        backward: relu_backward(dout, cache)
        forward: relu(x)
        """, CASES.replace("x: {shape: [3, 4]}", "x: {shape: [3, 4]}\n      dout: random"))
    assert ex.functions == ("relu_forward", "relu_backward") and ex.dz_name == "dout"
    assert ex.generate_cases(0)[0].dz.shape == (3, 4)


def test_a_loss_has_an_upstream_gradient_of_one():
    ex = exercise("""
        style: loss
        function: half_square(x)
        forward: 0.5 * sum(square(x))
        """)
    assert ex.generate_cases(0)[0].dz.shape == () and float(ex.generate_cases(0)[0].dz) == 1.0


@pytest.mark.parametrize("head, words, line", [
    ("function: grad(x, conv_param, dz)\nparams:\n  conv_parm: 1\nforward: x\n",
     ["'conv_parm' is not a parameter", "did you mean 'conv_param'"], 5),
    ("style: pair\nfunction: f(x)\nforward: x\n", ["the pair style needs `backward`"], 3),
    ("function: grad(x, dz)\nbackward: b(dout, cache)\nforward: x\n",
     ["`backward` belongs to the pair style"], 4),
    ("function: grad(x, p, dz)\nparams:\n  p: 2\nforward: x * p\n",
     ["cannot use 'p', a parameter that is not an array"], 6),
    ("function: grad(p, dz)\nparams:\n  p: 2\nforward: p\n", ["takes no array input"], 3),
    ("style: bogus\nfunction: f(x)\nforward: x\n", ["style"], 3),
])
def test_a_mistake_in_the_style_or_the_params_names_the_line(head, words, line):
    with pytest.raises(SpecError) as caught:
        exercise(head)
    text = str(caught.value)
    for word in words:
        assert word in text
    assert caught.value.line == line


def test_a_loss_case_cannot_give_an_upstream_gradient():
    with pytest.raises(SpecError, match="a loss function's upstream gradient is 1"):
        exercise("style: loss\nfunction: f(x)\nforward: sum(x)\n",
                 CASES.replace("x: {shape: [3, 4]}", "x: {shape: [3, 4]}\n      dloss: 1"))


def test_labels_are_drawn_as_integers_and_kept_off_nothing():
    ex = exercise("""
        style: loss
        function: loss(x, y)
        forward: -mean(pick(log_softmax(x, axis=-1), y))
        wrt: x
        kinks: {at: [0, 1, 2]}
        """, """
        cases:
          - name: random
            inputs:
              x: {shape: [5, 3]}
              y: {shape: [5], dist: labels, classes: 3}
        """)
    labels = ex.generate_cases(0)[0].inputs["y"]
    assert labels.dtype == np.int64 and set(labels.tolist()) <= {0, 1, 2}


LABELLED = """
    style: loss
    function: loss(x, y)
    forward: -mean(pick(log_softmax(x, axis=-1), y))
    wrt: x
    """


def test_labels_written_out_in_a_worked_example_arrive_as_integers_too():
    """As the drawn labels do: a course's loss indexes with them (probs[arange(N), y])."""
    ex = exercise(LABELLED, """
        cases:
          - name: worked-example
            inputs:
              x: [[0.1, 0.2, 0.3], [1.0, 0.0, -1.0]]
              y: [2, 0]
          - name: random
            inputs:
              x: {shape: [5, 3]}
              y: {shape: [5], dist: labels, classes: 3}
        """)
    labels = ex.generate_cases(0)[0].inputs["y"]
    assert labels.dtype == np.int64 and labels.tolist() == [2, 0]
    assert ex.generate_cases(0)[0].inputs["x"].dtype == np.float64


def test_labels_written_out_must_be_whole_numbers():
    with pytest.raises(SpecError, match="'y' holds a number that is not whole, but case "
                                        "'random' draws it as integers") as caught:
        exercise(LABELLED, """
            cases:
              - name: worked-example
                inputs:
                  x: [[0.1, 0.2, 0.3], [1.0, 0.0, -1.0]]
                  y: [2, 0.5]
              - name: random
                inputs:
                  x: {shape: [5, 3]}
                  y: {shape: [5], dist: labels, classes: 3}
            """)
    assert caught.value.line == 13          # the line of `y: [2, 0.5]`
