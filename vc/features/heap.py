"""Keeping freed memory in the process for the next utterance (glibc's ``mallopt``).

Analysing and converting 30 s of audio allocates a dozen arrays of 12-25 MB (spectral envelope,
aperiodicity, their codings, G's feature maps) and frees them before the next utterance. glibc
serves large requests with fresh ``mmap`` pages and hands freed memory back to the kernel once
the top of the heap holds more than a threshold, so every conversion faulted its pages in
again: about 18 000 minor page faults per 30 s conversion (``getrusage``), at ~4 us each in a
VM, against ~400 for bare WORLD (whose two arrays glibc's own adaptive threshold keeps).
Raising both thresholds lets freed blocks be reused: the faults go to zero, and the median ratio
of conversion to bare WORLD on 30 s (``bench/convert_speed.py``) fell from 1.20-1.21x to
1.17-1.18x. The memory stays with the process: at most the peak of one conversion, which a
converting process needs again anyway.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

#: glibc's ``mallopt`` parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Requests below this are served from the heap, so their memory can be reused when freed.
MMAP_THRESHOLD = 256 << 20
#: Free memory at the top of the heap up to this size is kept instead of returned to the kernel.
TRIM_THRESHOLD = 1 << 30

_applied: bool | None = None


def retain_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds for this process (once); False where the C library is
    not glibc (macOS, musl, Windows), which then keeps its own behaviour."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    log.debug("glibc mallopt: mmap threshold %d MiB, trim threshold %d MiB: %s", MMAP_THRESHOLD >> 20,
              TRIM_THRESHOLD >> 20, "set" if _applied else "refused")
    return _applied
