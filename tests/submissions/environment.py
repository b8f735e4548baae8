"""Looks around the worker: environment variables, working directory."""

import os

import numpy as np


def grad_look_around(x, dz):
    print(os.getcwd())
    secret = "GRADCHECK_TEST_SECRET" in os.environ
    with open("scratch.txt", "w") as f:      # the working directory is writable
        f.write("notes")
    return np.array([float(secret)])
