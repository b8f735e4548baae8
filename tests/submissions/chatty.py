"""Prints a lot, at import and during calls, to stdout and stderr."""

import sys

print("import-time line")


def grad_chatty(x, dz):
    line = "x" * 1023
    for _ in range(4096):       # 4 MiB
        print(line)
    return dz


def grad_quiet_stderr(x, dz):
    print("to stdout")
    print("to stderr", file=sys.stderr)
    return dz
