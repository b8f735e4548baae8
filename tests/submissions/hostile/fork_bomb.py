"""Attack: start hundreds of processes that sleep, hoping to exhaust the process table.

Bounded on purpose: if containment failed, the attempt still stops at ATTEMPTS processes
that sleep a minute, which any machine survives.
"""

import os
import time

import numpy as np

ATTEMPTS = 500


def grad_attack(x, dz):
    started = refused = 0
    for _ in range(ATTEMPTS):
        try:
            pid = os.fork()
        except OSError:                     # the process limit: stop trying
            refused += 1
            break
        if pid == 0:
            try:
                time.sleep(60)
            finally:
                os._exit(0)
        started += 1
    return np.array([started, refused], dtype=float)


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
