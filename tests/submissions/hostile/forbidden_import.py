"""Attack: let an autodiff library compute the gradient, imported only inside the call."""

import numpy as np


def grad_attack(x, dz):
    import torch
    t = torch.tensor(x, requires_grad=True)
    (torch.sigmoid(t) * torch.tensor(dz)).sum().backward()
    return t.grad.numpy()


def grad_sneaky(x, dz):
    grader = __import__("gradcheck_cli")
    return grader.vjp


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
