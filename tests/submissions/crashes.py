"""Functions that end the worker process in the middle of a call."""

import os
import signal

import numpy as np


def grad_os_exit(x, dz):
    print("leaving now")
    os._exit(7)


def grad_sigkill(x, dz):
    os.kill(os.getpid(), signal.SIGKILL)


def grad_segfault(x, dz):
    import ctypes
    return ctypes.string_at(0)


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
