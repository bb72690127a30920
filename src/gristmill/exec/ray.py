"""The Ray executor: the same tasks as the local executor, scheduled on a Ray cluster.

Each (stage, shard) task is a Ray task running :func:`gristmill.exec.task.run_task` unchanged, so the
outputs are the same bytes as a local run. Tasks write under a temporary name and rename, then write their
completion marker: a task whose worker dies is retried by Ray (``max_retries``) and rewrites the same files,
and a driver restarted with ``--resume`` skips every task that has a marker. The reduce of a global step runs
its independent parts as Ray tasks (exact dedup: bucket groups; MinHash: bucket groups of band keys, then
chunks of candidate pairs to verify); only the verified pairs come back to the driver for the connected
components.

The output folder must be visible to every node (a shared file system; for object stores, run with a
local staging folder on shared storage). Each task asks Ray for one CPU and for memory in proportion to its
shard, so a node runs no more tasks at once than its memory allows.
"""

from __future__ import annotations

from gristmill.errors import GristmillError
from gristmill.exec.task import run_task


def _ray():
    try:
        import ray
    except ImportError:
        raise GristmillError("the Ray executor needs Ray", hint="pip install 'gristmill[ray]'") from None
    return ray


def _call(fn, item):
    return fn(item)


class RayExecutor:
    def __init__(self, workers: int | None = None, address: str | None = None, *, max_retries: int = 4) -> None:
        ray = _ray()
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            # a local Ray runs its workers at normal priority (Ray's default, nice 15, starves them behind any
            # other process on a shared machine); a cluster keeps its own configuration
            kw = {"address": address} if address else {"num_cpus": workers, "_system_config": {"worker_niceness": 0}}
            ray.init(include_dashboard=False, logging_level="ERROR", log_to_driver=False, **kw)
            self.started = True
        self.address = address
        res = ray.cluster_resources()
        self.description = {"kind": "ray", "address": address or "local", "cpus": int(res.get("CPU", 0)),
                            "nodes": len([n for n in ray.nodes() if n.get("Alive")]), "ray": ray.__version__}
        self.task = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(run_task)
        self.part = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(_call)

    def tasks(self, recipe, stage, shards, root, n_shards):
        ray = self.ray
        pending = []
        for sh in shards:
            mem = int(min(max(sh.size * 6, 256 * 2**20), 8 * 2**30))  # decompressed text, Arrow copies, steps
            pending.append(self.task.options(memory=mem).remote(recipe, stage, sh, root, n_shards))
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            try:
                yield ray.get(done[0])
            except ray.exceptions.RayTaskError as e:
                for ref in pending:
                    ray.cancel(ref, force=True)
                cause = e.as_instanceof_cause()
                if isinstance(cause, GristmillError):
                    raise GristmillError(str(cause), hint=getattr(cause, "hint", None)) from None
                raise

    def pmap(self, fn, items: list) -> list:
        """``[fn(x) for x in items]`` as Ray tasks, results in order."""
        return self.ray.get([self.part.remote(fn, x) for x in items])

    def describe(self) -> dict:
        return self.description

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()
