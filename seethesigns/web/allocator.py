"""How a worker's C allocator treats the large buffers an upload passes through (issue 16).

gunicorn reads a request body 8 KiB at a time into a BytesIO that grows to each read's size
(1 MiB for an upload), then copies it out; the form parser copies again. glibc serves
allocations that large with mmap and trims freed memory back to the kernel, so nearly every
buffer came back as fresh pages that the kernel had to zero and map. Measured on this machine:
reading 1 GiB through gunicorn's own body reader took 191,852 page faults and 0.96 CPU-s, and
with the settings here 1,748 faults and 0.25 CPU-s. In the worker, page faults were a third of
the main thread's CPU during an upload (perf), and keeping the buffers cut the worker and
gpg's CPU for 512 MiB from 4.6 to 3.1-3.4 s (bench/upload).

Here allocations up to MMAP_THRESHOLD come from the arenas, and an arena keeps up to
TRIM_THRESHOLD of free memory for the next request instead of handing it back. A request
holds a few such buffers at once, so what stays resident is a few MiB per busy thread;
bench/upload measures the worker's resident memory against the issue's budget.
"""

from __future__ import annotations

import ctypes
import logging

MMAP_THRESHOLD = 4 * 1024 * 1024
TRIM_THRESHOLD = 32 * 1024 * 1024
# mallopt's parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

log = logging.getLogger(__name__)


def keep_upload_buffers() -> bool:
    """Tell glibc's malloc to reuse large buffers; False where the C library has no mallopt.

    The process's own symbols include the C library's: no search for it (ctypes.util's
    find_library runs ldconfig in a subprocess, at every worker's start).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except AttributeError:
        log.info("the C library has no mallopt: large buffers are left to its defaults")
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt answers 1 when it took the value, 0 when it did not.
    kept = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and kept
