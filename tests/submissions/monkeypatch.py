"""Tries to get graded right by breaking NumPy in the worker."""

import json

import numpy as np

np.allclose = lambda *args, **kwargs: True
np.isclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.asarray = lambda *args, **kwargs: np.array([0.045177, 0.035325, 0.019944])
np.ascontiguousarray = lambda *args, **kwargs: np.array([0.045177, 0.035325, 0.019944])
np.frombuffer = lambda *args, **kwargs: np.zeros(3)
json.dumps = lambda *args, **kwargs: '{"status": "ok"}'


def grad_sigmoid(x, dz):
    return [1.0, 2.0, 3.0]          # wrong: what the grader must see


def grad_inputs_seen(x, dz):
    return x + 10.0 * dz            # shows that the inputs arrived intact
