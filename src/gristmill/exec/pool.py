"""The forkserver that the local executor's pool processes are forked from, startable before anything heavy
is imported, so that its imports run beside the run process's own (recipe check, planning).

>>> default_workers() >= 1
True
"""

from __future__ import annotations

import multiprocessing as mp
import os

FORKSERVER_PRELOAD = ("gristmill.exec.task", "pandas")  # pandas: what pyarrow imports at its first array


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def start_forkserver():
    """The forkserver context of the pool, its server started now. It returns at once: the server imports
    :data:`FORKSERVER_PRELOAD` while the caller goes on, and each pool process forked from it starts with
    them. Starting it again is a no-op."""
    from multiprocessing import forkserver

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(FORKSERVER_PRELOAD))
    forkserver.ensure_running()
    return ctx


def prestart(workers: int | None, executor: str = "local") -> None:
    """Start the forkserver when a run of ``workers`` (None: all cores) on ``executor`` will use a pool."""
    if executor == "local" and (workers or default_workers()) > 1:
        start_forkserver()
