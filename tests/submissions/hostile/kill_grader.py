"""Attack: kill the process given as x[0] (the fork server) and the worker's parent."""

import os
import signal

import numpy as np


def grad_attack(x, dz):
    hits = 0.0
    for pid in (int(x[0]), os.getppid()):
        if pid <= 1:
            continue                        # never init, never "every process"
        try:
            os.kill(pid, signal.SIGKILL)
            hits += 1.0
        except OSError:
            pass
    return np.array([hits])


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
