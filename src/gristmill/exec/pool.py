"""The forkserver that the local executor's pool processes are forked from, startable before anything heavy
is imported, so that its imports run beside the run process's own (recipe check, planning).

>>> default_workers() >= 1
True
"""

from __future__ import annotations

import multiprocessing as mp
import os

from gristmill.io import SHARD_TAIL_MIN as ONE_TASK_BYTES  # one local file below it: one shard (auto)

FORKSERVER_PRELOAD = ("gristmill.exec.task",)  # pool processes never import pandas: exec/owned.py


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


def prestart(workers: int | None, executor: str = "local", inputs: list[str] | None = None,
             shards: int | None = None) -> None:
    """Start the forkserver when a run of ``workers`` (None: all cores) on ``executor`` will use a pool: the
    local executor, more than one worker, and more than one task per stage (``shards``, when known). Before
    the shards are planned, ``inputs`` that are one local file below :data:`ONE_TASK_BYTES` are taken for
    one shard (from 8 MB on, ``auto`` cuts tail pieces even from a file smaller than a shard): no server is
    started, whose imports would cost a CPU second for nothing (a recipe with a smaller
    ``input.shard_size`` gets its pool when the shards are known, or at its first stage)."""
    if executor != "local" or (workers or default_workers()) <= 1:
        return
    if shards is not None:
        if shards > 1:
            start_forkserver()
        return
    if inputs and len(inputs) == 1 and os.path.isfile(inputs[0]) and os.path.getsize(inputs[0]) < ONE_TASK_BYTES:
        return
    start_forkserver()
