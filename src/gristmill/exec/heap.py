"""The C heap of a process that runs tasks: with a setting, large blocks go back to the system when freed.

glibc's ``malloc`` maps a block of at least its *mmap threshold* on its own and unmaps it when freed; smaller
ones come from the heap, whose freed space the process keeps. The threshold starts at 128 KiB but rises, up
to 32 MiB, each time such a mapped block is freed. A task frees a batch's large blocks (Arrow buffers, NumPy
arrays, long texts) once per batch, so the threshold soon sits above them: every batch is then carved from
the heap, between the documents and tables that live on, and the heap keeps the high-water mark of the
batches plus what cannot be reused between them (measured: about 40 MB of the run process's peak on the
peer corpus). With ``GRISTMILL_MMAP_THRESHOLD`` set (e.g. ``1048576``), :func:`configure` fixes the
threshold, so a block of that many bytes or more is always its own mapping and is returned when freed: about
40 MB less per process on the peer corpus's x4 file, for about 3% more CPU (the kernel zeroes and maps the
pages of every batch's large blocks again: measured as 0.5-0.75 s more system time on 13-26 CPU s). The
default, 0, leaves glibc's rule: the peak stays under 300 MB per process without it.
:func:`release` then hands the heap's free pages back (``malloc_trim``) when a task ends; without the
setting it does nothing (measured: trimming after each of 20 tasks cost 1-1.5 CPU s on a 13 CPU s run of the
peer corpus, the next task faulting the pages in again, for a peak only ~6 MB lower). Neither changes
anything but memory; elsewhere than glibc both do nothing. A threshold set by ``MALLOC_MMAP_THRESHOLD_`` or
``GLIBC_TUNABLES`` in the environment is kept.

>>> threshold()  # GRISTMILL_MMAP_THRESHOLD unset
0
"""

from __future__ import annotations

import ctypes
import os

MMAP_THRESHOLD = 0  # default of GRISTMILL_MMAP_THRESHOLD (bytes; blocks this large are mapped alone; 0: glibc's rule)
_M_MMAP_THRESHOLD = -3    # mallopt's parameter number (malloc.h)
_state: dict = {}


def _libc():
    if "libc" not in _state:
        try:
            lib = ctypes.CDLL(None)  # the C library this process runs on (no look-up that starts a program)
        except OSError:  # pragma: no cover - a platform without dlopen(NULL)
            lib = None
        _state["libc"] = lib if hasattr(lib, "mallopt") and hasattr(lib, "malloc_trim") else None
    return _state["libc"]


def threshold() -> int:
    """The threshold to set, in bytes (``GRISTMILL_MMAP_THRESHOLD``; 0, the default: none)."""
    value = os.environ.get("GRISTMILL_MMAP_THRESHOLD", "").strip()
    return int(value) if value else MMAP_THRESHOLD


def configure() -> bool:
    """Fix glibc's mmap threshold for this process (once; later calls do nothing). Returns whether it is set."""
    if "configured" not in _state:
        lib, n = _libc(), threshold()
        env_set = "MALLOC_MMAP_THRESHOLD_" in os.environ or "mmap_threshold" in os.environ.get("GLIBC_TUNABLES", "")
        _state["configured"] = bool(lib is not None and n > 0 and not env_set and lib.mallopt(_M_MMAP_THRESHOLD, n))
    return _state["configured"]


def release() -> None:
    """Return the heap's free pages to the system after a task, when :func:`configure` set the threshold."""
    if _state.get("configured"):
        _libc().malloc_trim(0)
