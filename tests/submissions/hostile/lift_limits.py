"""Attack: lift the worker's CPU-time backstop, so that a process left behind can spin forever.
Returns [whether the hard limit could be raised, the hard limit in seconds (-1: unlimited)]."""

import resource

import numpy as np


def grad_attack(x, dz):
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        raised = 1.0
    except (ValueError, OSError):
        raised = 0.0
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    return np.array([raised, -1.0 if hard == resource.RLIM_INFINITY else float(hard)])


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
