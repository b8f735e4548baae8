"""Attack: megabytes of output, and a process left behind that never stops printing."""

import os
import sys

import numpy as np

MIB = 1 << 20


def grad_attack(x, dz):
    for _ in range(8):
        sys.stdout.write("x" * MIB)         # through Python's buffers
        os.write(2, b"y" * MIB)             # and straight to the descriptor
    return dz


def grad_leave_a_printer(x, dz):
    if os.fork() == 0:
        try:
            while True:
                os.write(1, b"z" * 65536)
        finally:
            os._exit(0)
    return dz


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
