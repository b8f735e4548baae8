"""Attack: phone home. Connects to 127.0.0.1 on the port given as x[0] (loopback only)."""

import socket

import numpy as np


def grad_attack(x, dz):
    try:
        with socket.create_connection(("127.0.0.1", int(x[0])), timeout=2.0) as conn:
            conn.sendall(b"the hidden test cases, please")
        return np.array([1.0])
    except OSError:
        return np.array([0.0])


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
