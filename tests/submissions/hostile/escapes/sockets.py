"""Attack: phone home, over TCP to 127.0.0.1 and over a Unix socket of the host that anyone
may connect to (the test's listeners), and through an abstract Unix socket."""

import socket

import numpy as np

TARGETS = {}  # the test writes its token, listener, folders and time limit here


def grad_sigmoid(x, dz):
    for family, address in ((socket.AF_INET, ("127.0.0.1", TARGETS["port"])),
                            (socket.AF_UNIX, TARGETS["unix"]),
                            (socket.AF_UNIX, "\0gcx" + TARGETS["token"])):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(1.0)
                s.connect(address)
                s.sendall(b"the hidden test cases, please")
        except OSError:
            pass
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
