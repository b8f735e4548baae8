"""A seccomp filter for the learner's processes: no sockets, no new namespaces, no io_uring.

The learner's code needs none of these. Refusing ``socket`` reaches what a network namespace
does not: Unix sockets of the host (a file-system socket, an abstract one shared by the
workers of one batch). Refusing ``unshare``, ``setns`` and the namespace flags of ``clone``
keeps the kernel's user-namespace surface closed; ``clone3`` is refused with ENOSYS, which C
libraries answer by falling back to ``clone``; io_uring could open sockets without ``socket``.
Calls from another architecture's ABI (i386 through ``int 0x80``, x32) are refused whole.

Built by hand in classic BPF (a few instructions), for x86-64 and AArch64; elsewhere the
filter is not installed and the report says so. Runs in the worker: the standard library only.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct
import sys

# Per architecture: audit arch, and the numbers of socket, clone, unshare, setns, clone3,
# io_uring_setup/enter/register.
_ARCHES = {
    "x86_64": (0xC000003E, dict(socket=41, clone=56, unshare=272, setns=308, clone3=435,
                                io_uring_setup=425, io_uring_enter=426, io_uring_register=427)),
    "aarch64": (0xC00000B7, dict(socket=198, clone=220, unshare=97, setns=268, clone3=435,
                                 io_uring_setup=425, io_uring_enter=426, io_uring_register=427)),
}
_X32_BIT = 0x40000000
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 \
    | 0x20000000 | 0x40000000 | 0x00000080

# BPF opcodes and seccomp return values.
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
# Offsets in struct seccomp_data: nr, arch, then args (little-endian: low word first).
_NR, _ARCH, _ARG0_LOW = 0, 4, 16

PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _refuse(number: int, err: int) -> list[bytes]:
    """If the call is ``number``, fail it with ``err``; else go on."""
    return [_ins(_JEQ_K, number, 0, 1), _ins(_RET_K, _RET_ERRNO | err)]


def program(machine: str) -> bytes | None:
    """The filter for ``machine`` (``platform.machine()``), or None where there is none."""
    if machine not in _ARCHES:
        return None
    arch, nr = _ARCHES[machine]
    code = [_ins(_LD_W_ABS, _ARCH), _ins(_JEQ_K, arch, 1, 0),
            _ins(_RET_K, _RET_ERRNO | errno.ENOSYS), _ins(_LD_W_ABS, _NR)]
    if machine == "x86_64":
        code += [_ins(_JGE_K, _X32_BIT, 0, 1), _ins(_RET_K, _RET_ERRNO | errno.ENOSYS)]
    code += _refuse(nr["socket"], errno.EACCES)
    code += _refuse(nr["clone3"], errno.ENOSYS)
    for name in ("unshare", "setns", "io_uring_setup", "io_uring_enter", "io_uring_register"):
        code += _refuse(nr[name], errno.EPERM)
    # clone: allowed unless its flags (first argument) ask for a new namespace.
    code += [_ins(_JEQ_K, nr["clone"], 0, 3), _ins(_LD_W_ABS, _ARG0_LOW),
             _ins(_JSET_K, _NAMESPACE_FLAGS, 0, 1), _ins(_RET_K, _RET_ERRNO | errno.EPERM)]
    code.append(_ins(_RET_K, _RET_ALLOW))
    return b"".join(code)


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_prepared: dict = {}


def prepare() -> None:
    """Build the filter and load the C library once (a fork server does it before forking)."""
    if _prepared:
        return
    code = program(platform.machine()) if sys.platform.startswith("linux") else None
    _prepared["code"] = code
    if code is None:
        return
    try:
        _prepared["libc"] = ctypes.CDLL(None, use_errno=True)
    except OSError as exc:
        _prepared["error"] = str(exc)
        return
    buffer = ctypes.create_string_buffer(code, len(code))
    _prepared["buffer"] = buffer                  # kept alive with the program that points in
    _prepared["program"] = _Program(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))


def install() -> str:
    """Filter this process and all it starts (no_new_privs must be set); what was done."""
    prepare()
    if _prepared["code"] is None:
        return f"not filtered: no filter for {sys.platform} on {platform.machine()}"
    if "error" in _prepared:
        return f"not filtered: {_prepared['error']}"
    libc = _prepared["libc"]
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(_prepared["program"]),
                  0, 0) != 0:
        return f"not filtered: {errno.errorcode.get(ctypes.get_errno(), 'error')}"
    return "filtered: no sockets, no new namespaces, no io_uring"
