"""A learner's file an hour in: two functions written so far, one of them still wrong, with a
print to see what is going on. `gradcheck run examples/first_hour.py` grades these two."""

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)


def grad_softmax(x, dz):
    e = np.exp(x - np.max(x))
    s = e / e.sum()
    print("s =", s)
    return dz * s * (1 - s)
