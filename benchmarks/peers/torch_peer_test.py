"""The peer of `gradcheck run`: a pytest file checking the four worked exercises with torch autograd.

Used by benchmarks/bench_run.py; it is what a course without gradcheck would write by hand.
"""

import importlib.util
import os

import numpy as np
import pytest
import torch

_spec = importlib.util.spec_from_file_location("solutions", os.environ["SOLUTIONS_FILE"])
solutions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solutions)
rng = np.random.default_rng(0)


def _check(forward, grad, inputs, wrt):
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in inputs]
    out = forward(*tensors)
    dz = rng.standard_normal(tuple(out.shape))
    out.backward(torch.tensor(dz))
    expected = tensors[wrt].grad.numpy()
    np.testing.assert_allclose(grad(*inputs, dz), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("n", [3, 5, 7, 4])
def test_sigmoid(n):
    _check(torch.sigmoid, solutions.grad_sigmoid, [rng.standard_normal(n)], 0)


@pytest.mark.parametrize("n", [3, 5, 7, 4])
def test_softmax(n):
    _check(lambda x: torch.softmax(x, 0), solutions.grad_softmax, [rng.standard_normal(n)], 0)


@pytest.mark.parametrize("m,k,n", [(2, 2, 2), (2, 3, 4), (5, 3, 2), (4, 6, 3)])
def test_matmul(m, k, n):
    _check(torch.matmul, solutions.grad_matmul,
           [rng.standard_normal((m, k)), rng.standard_normal((k, n))], 0)


@pytest.mark.parametrize("h,w,kh,kw", [(4, 4, 2, 2), (6, 8, 2, 3), (7, 5, 3, 2), (9, 6, 4, 3)])
def test_conv2d(h, w, kh, kw):
    conv = lambda x, k: torch.nn.functional.conv2d(x[None, None], k[None, None])[0, 0]
    _check(conv, solutions.grad_conv2d, [rng.standard_normal((h, w)), rng.standard_normal((kh, kw))], 1)
