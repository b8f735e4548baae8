"""Landlock: which files the learner's processes may touch, where no private mount view exists.

Without bubblewrap the worker sees the host's file system. Landlock (Linux 5.13+, no privilege
needed) then restricts this process and everything it starts: read (and run) only the
interpreter, NumPy and the system libraries, read and write only its work directory; no other
file, /proc included, can be opened, listed or changed, whatever the user or its capabilities.
Where the kernel knows them, TCP, abstract Unix sockets outside the domain and signals to
processes outside it are refused too.

System calls through ctypes (the numbers are the same on every architecture); the standard
library only, as all of ``inside/``.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

# File-system rights, by the ABI version that introduced them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 2, 4, 8
_ALL_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
READ = EXECUTE | READ_FILE | READ_DIR
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | (1 << 14) | (1 << 15)   # + truncate, ioctl
_NET_TCP = 1 | 2                     # bind, connect (ABI 4)
_SCOPE_ALL = 1 | 2                   # abstract Unix sockets, signals (ABI 6)


def abi() -> int:
    """The kernel's Landlock ABI version, or 0 where there is none."""
    if not sys.platform.startswith("linux"):     # the syscall numbers are Linux's
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        version = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0),
                               ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def restrict(readable, writable) -> str:
    """Allow reading ``readable`` and everything in ``writable``, nothing else; what was done.

    Paths that do not exist are skipped. no_new_privs must be set already.
    """
    version = abi()
    if version < 1:
        return "host, as the worker's user (Landlock is not available)"
    libc = ctypes.CDLL(None, use_errno=True)
    handled = _ALL_BY_ABI[max(v for v in _ALL_BY_ABI if v <= version)]
    attr = struct.pack("=QQQ", handled, _NET_TCP if version >= 4 else 0,
                       _SCOPE_ALL if version >= 6 else 0)
    size = 8 if version < 4 else (16 if version < 6 else 24)
    ruleset = libc.syscall(_CREATE_RULESET, attr, ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return f"host (Landlock refused the rules: {os.strerror(ctypes.get_errno())})"
    try:
        for paths, rights in ((readable, READ), (writable, handled)):
            for path in paths:
                _allow(libc, ruleset, path, rights & handled)
        if libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            return f"host (Landlock did not apply: {os.strerror(ctypes.get_errno())})"
    finally:
        os.close(ruleset)
    return "Landlock: reads the interpreter and NumPy, writes its work directory only"


def _allow(libc, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS           # a file takes file rights only
        rule = struct.pack("=Qi", rights, fd)
        libc.syscall(_ADD_RULE, ruleset, ctypes.c_uint32(_RULE_PATH_BENEATH), rule,
                     ctypes.c_uint32(0))
    finally:
        os.close(fd)
