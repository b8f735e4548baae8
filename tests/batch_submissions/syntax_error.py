"""A submission that does not even parse: every exercise reports import_error."""

import numpy as np


def grad_sigmoid(x, dz)
    return dz * x
