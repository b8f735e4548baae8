"""Attack: answer with 20 million numbers where the gradient has a handful, to fill the grader's
memory (it once kept every reply for the report)."""

import numpy as np

TARGETS = {}  # the test writes its token, listener, folders and time limit here


def grad_sigmoid(x, dz):
    return np.zeros(20_000_000)
