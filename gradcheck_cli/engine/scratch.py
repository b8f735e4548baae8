"""Per-thread temporaries of the convolution code, and the im2col matrix kept between passes.

Page-faulting fresh megabytes at every call costs as much as a convolution's arithmetic, so
temporaries that never leave ``conv.py`` live in reusable buffers, one set per thread
(``scratch``, and ``zeroed`` for those whose untouched parts must stay zero), and the first
big temporary asks glibc to keep freed memory mapped (``_keep_freed_memory``).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable

import numpy as np


_SCRATCH_LIMIT = 32 * 2**20   # bytes; bigger temporaries are allocated fresh, not kept
_local = threading.local()


_ALLOCATOR_TUNED = False
_BIG_TEMPORARY = 2**20          # bytes; from here on freed memory is worth keeping mapped


def _keep_freed_memory() -> None:
    """Let glibc keep freed blocks of up to 32 MiB mapped, once per process.

    A fresh process starts with a 128 KiB mmap threshold that grows only to the largest block
    freed so far, and trims the heap's top once twice that much is free. Then the megabytes
    of every convolution's outputs go back to the system when freed and are page-faulted in
    again at the next call: about 1,300 faults, a fifth of the time, for a batch of 8 images
    of 16x32x32. A process that once freed a bigger block (PyTorch's, say) never pays this,
    which is why the engine looks faster next to another library than on its own.
    Settings the user made (MALLOC_*_ variables) win; other C libraries are left alone.
    """
    global _ALLOCATOR_TUNED
    _ALLOCATOR_TUNED = True
    if any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                                           "MALLOC_TOP_PAD_")):
        return
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
        import ctypes
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, ValueError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3     # from glibc's malloc.h
    mallopt(m_mmap_threshold, 32 * 2**20)           # glibc's largest allowed value
    mallopt(m_trim_threshold, 64 * 2**20)


def scratch(slot: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A reusable, uninitialised buffer for a temporary that never leaves this module."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64))
    if not _ALLOCATOR_TUNED and size * dtype.itemsize >= _BIG_TEMPORARY:
        _keep_freed_memory()
    if size * dtype.itemsize > _SCRATCH_LIMIT:
        return np.empty(shape, dtype)
    buffers = _local.__dict__.setdefault("buffers", {})
    buf = buffers.get((slot, dtype))
    if buf is None or buf.size < size:
        buf = buffers[(slot, dtype)] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


def zeroed(slot: str, shape: tuple[int, ...], dtype, layout: tuple) -> np.ndarray:
    """This thread's zero-filled buffer of ``slot``, kept while shape and layout stay the same.

    For a temporary of which every call writes the same part, so that the rest (borders,
    gaps) is zeroed once rather than at every call. ``layout`` must name everything that
    decides which part is written (two geometries can share a shape but not their zeros);
    any change gets a new buffer.
    """
    key = (tuple(shape), np.dtype(dtype), tuple(layout))
    kept = _local.__dict__.setdefault("zeroed", {})
    saved = kept.get(slot)
    if saved is None or saved[0] != key:
        size = int(np.prod(shape, dtype=np.int64)) * key[1].itemsize
        if not _ALLOCATOR_TUNED and size >= _BIG_TEMPORARY:
            _keep_freed_memory()
        if size > _SCRATCH_LIMIT:
            kept.pop(slot, None)
            return np.zeros(shape, dtype)
        saved = kept[slot] = (key, np.zeros(shape, dtype))
    return saved[1]


def views(slot: str, key: tuple, build: Callable[[], tuple]) -> tuple:
    """This thread's ``build()`` for ``key``: buffers and the views a loop needs of them,
    made once per geometry rather than at every sample (a strided view costs microseconds
    to make, and a thread holding the GIL to make it keeps the other one waiting)."""
    kept = _local.__dict__.setdefault("views", {})
    saved = kept.get(slot)
    if saved is None or saved[0] != key:
        made = build()
        if sum(a.nbytes for a in made if isinstance(a, np.ndarray)) > _SCRATCH_LIMIT:
            kept.pop(slot, None)        # too big to keep between calls
            return made
        saved = kept[slot] = (key, made)
    return saved[1]


def _memory_key(x: np.ndarray):
    """What identifies the values of ``x``: its owning array, address, shape and strides."""
    owner = x if x.base is None else x.base
    try:
        ref = weakref.ref(owner)
    except TypeError:  # an exotic buffer owner: never remembered
        return None, None
    return (id(owner), x.__array_interface__["data"][0], x.shape, x.strides, x.dtype.str), ref


def remember_columns(x: np.ndarray | None, geometry, cols: np.ndarray | None) -> None:
    """Keep ``cols`` as the im2col matrix of ``x`` (or forget the last one, given None)."""
    key, ref = _memory_key(x) if x is not None else (None, None)
    _local.last_columns = None if key is None else ((key, geometry), ref, cols)


def recall_columns(x: np.ndarray, geometry) -> np.ndarray | None:
    """The kept im2col matrix of ``x`` with this geometry, if it is still the last one made."""
    saved = getattr(_local, "last_columns", None)
    if saved is None:
        return None
    key, _ = _memory_key(x)
    (saved_key, ref, cols) = saved
    # An alive referent with the same id is the same object: ids are unique among the living.
    if key is None or saved_key != (key, geometry) or ref() is None:
        return None
    return cols
