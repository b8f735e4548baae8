"""Imports an autodiff library only when the gradient is called."""

import numpy as np


def grad_sigmoid(x, dz):
    from torch.autograd import grad
    return grad


def grad_uses_grader(x, dz):
    import gradcheck_cli
    return gradcheck_cli.vjp


def grad_plain(x, dz):
    return np.asarray(dz)
