"""Attack: break NumPy's comparisons and reach for the grader's own code, then answer wrong."""

import json

import numpy as np

np.allclose = lambda *args, **kwargs: True
np.isclose = lambda *args, **kwargs: np.True_
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
json.dumps = lambda *args, **kwargs: '{"status": "ok", "passed": true}'

try:
    import gradcheck_cli                    # the grader knows every answer
    from gradcheck_cli.grading import compare
    compare.compare = lambda *args, **kwargs: None
    REACHED = 1.0
except ImportError:
    REACHED = 0.0


def grad_sigmoid(x, dz):
    return np.zeros_like(x)                 # wrong: what the grader must see


def grad_grader_reached(x, dz):
    return np.array([REACHED])
