"""Starts background processes that would outlive the grader if nothing stopped them."""

import os
import subprocess
import sys

import numpy as np

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
# Starts a grandchild in its own session, prints its pid and exits: the grandchild is orphaned.
ORPHAN_MAKER = [sys.executable, "-c",
                "import subprocess, sys, time\n"
                "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
                " start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
                "print(p.pid)\n"]


def grad_spawn(x, dz):
    plain = subprocess.Popen(SLEEPER)
    escaped = subprocess.Popen(SLEEPER, start_new_session=True)
    maker = subprocess.run(ORPHAN_MAKER, capture_output=True, text=True, check=True)
    orphan = int(maker.stdout.split()[0])
    return np.array([plain.pid, escaped.pid, orphan, os.getpid()])


def grad_spawn_then_loop(x, dz):
    pids = grad_spawn(x, dz)
    with open("pids.txt", "w") as f:
        f.write(" ".join(str(p) for p in pids))
    print(" ".join(str(p) for p in pids), flush=True)
    while True:
        pass
