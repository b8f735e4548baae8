"""Looks around the worker: environment variables, working directory."""

import os

import numpy as np


def grad_look_around(x, dz):
    print(os.getcwd())
    secret = "GRADCHECK_TEST_SECRET" in os.environ
    with open("scratch.txt", "w") as f:      # the working directory is writable
        f.write("notes")
    with open("scratch.txt") as f:
        kept = f.read() == "notes"
    return np.array([float(secret), float(kept)])
