"""Lets an autodiff library do the work."""

import numpy as np
import torch


def grad_sigmoid(x, dz):
    t = torch.tensor(x, requires_grad=True)
    torch.sigmoid(t).backward(torch.tensor(dz))
    return t.grad.numpy()
