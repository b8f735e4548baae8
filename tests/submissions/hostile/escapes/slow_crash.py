"""Attack: a slow import, then a crash on every call, so that every case restarts the worker
and imports again: without a deadline per submission this cost minutes."""

import os
import time

TARGETS = {}  # the test writes its token, listener, folders and time limit here

time.sleep(0.5)


def grad_sigmoid(x, dz):
    os._exit(3)
