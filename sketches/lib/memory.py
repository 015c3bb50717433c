"""Give freed memory back to the system, so that hot reloads do not ratchet the process's size up.

A reload decodes atlas sheets (an 8192 px sheet is 192 MB of pixels, plus PIL's own copy) on background
threads and frees them again. glibc serves allocations below its mmap threshold from heaps it keeps, and
raises that threshold after every large free (up to 32 MB), so these buffers end up in heaps that stay
resident after they are freed: measured, resident memory swung by ±400 MB from reload to reload and drifted
up. `keep_big_buffers_out_of_the_heap` fixes the threshold (allocations from 1 MB are mapped and unmapped
on their own) and `release_free_memory` trims what the heaps hold free. Both do nothing outside glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_MMAP_THRESHOLD = -3       # mallopt parameter numbers (malloc.h)
MMAP_THRESHOLD_BYTES = 1 << 20


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def keep_big_buffers_out_of_the_heap() -> None:
    """Allocate buffers of 1 MB and more with their own mapping (returned to the system when freed)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def release_free_memory() -> None:
    """Return the free memory of the heaps to the system (after a reload has freed the old layout)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
