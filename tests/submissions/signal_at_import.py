"""Kills itself with a signal while the file is imported."""

import os
import signal


def grad_sigmoid(x, dz):
    return dz


os.kill(os.getpid(), signal.SIGSEGV)
