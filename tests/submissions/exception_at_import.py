"""Raises while the file is imported, from a helper called at the top level."""

import numpy as np


def grad_sigmoid(x, dz):
    return dz


def _self_test():
    return grad_sigmoid(np.ones(3), np.ones(2)) + undefined_name


_self_test()
