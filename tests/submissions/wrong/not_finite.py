"""Goes through log space "for stability" and takes the log of negative numbers: NaN.

expect: softmax not_finite
"""

import numpy as np


def grad_softmax(x, dz):
    e = np.exp(x - np.max(x))
    s = e / e.sum()
    with np.errstate(invalid="ignore"):
        return np.exp(np.log(s) + np.log(dz - np.dot(dz, s)))
