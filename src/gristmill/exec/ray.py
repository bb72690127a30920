"""The Ray executor: the same tasks as the local executor, scheduled on a Ray cluster.

Each (stage, shard) task is a Ray task running :func:`gristmill.exec.task.run_task` unchanged, so the
outputs are the same bytes as a local run. Tasks write under a temporary name and rename, then write their
completion marker: a task whose worker dies is retried by Ray (``max_retries``) and rewrites the same files,
and a driver restarted with ``--resume`` skips every task that has a marker. The reduce of a global step runs
its independent parts as Ray tasks (exact dedup: bucket groups; MinHash: bucket groups of band keys, edge
partitions of candidate pairs to verify, rounds of connected components over the edge partitions and node
ranges, cluster bookkeeping per node range); MinHash's parts exchange files in the work folder, so neither the
driver nor any task holds all the edges.

The output folder must be visible to every node (a shared file system; for object stores, run with a
local staging folder on shared storage). Each task asks Ray for one CPU and for memory in proportion to its
shard, so a node runs no more tasks at once than its memory allows.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import tempfile

from gristmill.errors import GristmillError
from gristmill.exec.task import run_task

SCHEME = "gristmill-object://"


def _ray():
    try:
        import ray
    except ImportError:
        raise GristmillError("the Ray executor needs Ray", hint="pip install 'gristmill[ray]'") from None
    return ray


def _call(fn, item):
    return fn(item)


def _bundle(path: str) -> tuple[str, dict[str, bytes]]:
    """(content hash, {relative path: bytes}) of a file or a folder."""
    files = {}
    if os.path.isdir(path):
        for d, _, names in os.walk(path):
            for n in sorted(names):
                full = os.path.join(d, n)
                with open(full, "rb") as f:
                    files[os.path.relpath(full, path)] = f.read()
    else:
        with open(path, "rb") as f:
            files[os.path.basename(path)] = f.read()
    h = hashlib.sha256()
    for k in sorted(files):
        h.update(k.encode() + b"\0" + hashlib.sha256(files[k]).digest())
    return h.hexdigest()[:24], files


def _map_paths(value, fn):
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_map_paths(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _map_paths(v, fn) for k, v in value.items()}
    return value


def broadcast(ray, recipe):
    """The recipe with every local file a step reads (``path_params``: decontamination indexes, models,
    tokenizers …) replaced by an object-store reference, and those references: workers need not share the
    driver's file system for them."""
    from gristmill.steps import REGISTRY

    recipe = copy.deepcopy(recipe)
    refs: dict[str, object] = {}

    def ship(path: str) -> str:
        if not isinstance(path, str) or "://" in path or not os.path.exists(path):
            return path
        key, files = _bundle(path)
        if key not in refs:
            refs[key] = ray.put(files)
        name = "" if os.path.isdir(path) else os.path.basename(path)
        return f"{SCHEME}{key}/{name}"

    for spec in recipe.steps:
        for name in REGISTRY[spec.step].path_params:
            if hasattr(spec.params, name):
                setattr(spec.params, name, _map_paths(getattr(spec.params, name), ship))
    return recipe, refs


def _materialise(ray, recipe, refs):
    """On a worker: write the shipped files once per node (content-addressed) and point the recipe at them."""
    from gristmill.steps import REGISTRY

    root = os.path.join(tempfile.gettempdir(), "gristmill-objects")

    def local(value: str) -> str:
        if not (isinstance(value, str) and value.startswith(SCHEME)):
            return value
        key, _, name = value[len(SCHEME):].partition("/")
        d = os.path.join(root, key)
        if not os.path.exists(os.path.join(d, ".complete")):
            files = ray.get(refs[key])
            tmp = tempfile.mkdtemp(dir=os.makedirs(root, exist_ok=True) or root)
            for rel, data in files.items():
                os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
                with open(os.path.join(tmp, rel), "wb") as f:
                    f.write(data)
            open(os.path.join(tmp, ".complete"), "w").close()
            with contextlib.suppress(OSError):  # another worker of this node got there first
                os.rename(tmp, d)
        return os.path.join(d, name) if name else d

    recipe = copy.deepcopy(recipe)
    for spec in recipe.steps:
        for name in REGISTRY[spec.step].path_params:
            if hasattr(spec.params, name):
                setattr(spec.params, name, _map_paths(getattr(spec.params, name), local))
    return recipe


def _run_task_shipped(recipe, refs, stage, shard, root, n_shards):
    import ray

    if refs:
        recipe = _materialise(ray, recipe, refs)
        stage = copy.deepcopy(stage)
        by_label = {s.label: s for s in recipe.steps}
        for attr in ("apply", "collect"):
            spec = getattr(stage, attr)
            if spec is not None:
                setattr(stage, attr, by_label.get(spec.label, spec))
        stage.maps = [by_label.get(s.label, s) for s in stage.maps]
    return run_task(recipe, stage, shard, root, n_shards)


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
        self.task = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(_run_task_shipped)
        self._shipped: dict[int, tuple] = {}
        self.part = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(_call)

    def tasks(self, recipe, stage, shards, root, n_shards):
        ray = self.ray
        if id(recipe) not in self._shipped:
            self._shipped = {id(recipe): broadcast(ray, recipe)}
        shipped, refs = self._shipped[id(recipe)]
        pending = []
        for sh in shards:
            mem = int(min(max(sh.size * 6, 256 * 2**20), 8 * 2**30))  # decompressed text, Arrow copies, steps
            pending.append(self.task.options(memory=mem).remote(shipped, refs, stage, sh, root, n_shards))
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
