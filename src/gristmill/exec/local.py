"""The local executor: shards over a process pool (all cores by default), resumable, deterministic.

>>> import gristmill, tempfile, json, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "in.jsonl").write_text(json.dumps({"text": "Hello world, this is a document."}) + "\\n")
>>> m = gristmill.run(inputs=[str(d / "in.jsonl")], output=str(d / "out"), workers=1, quiet=True)
>>> m["counts"], m["reconciled"]   # far too short for the default quality selection
({'input': 1, 'kept': 0, 'rejected': 1, 'quarantined': 0}, True)
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import gc
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from functools import partial

import orjson

from gristmill.errors import GristmillError
from gristmill.exec import durable
from gristmill.exec import manifest as mf
from gristmill.exec.lock import LOCK_NAME, FolderLock, die_with_parent
from gristmill.exec.owned import arrow_without_pandas
from gristmill.exec.plan import stages as cut_stages
from gristmill.exec.pool import default_workers, prestart, start_forkserver
from gristmill.exec.progress import Reporter, Slots, SlotWriter, worker_init
from gristmill.exec.task import Layout, run_task
from gristmill.io.paths import plan_shards, unrecognised_files
from gristmill.io.storage import configure_inputs, output_fs
from gristmill.io.unify import unify
from gristmill.recipe import Recipe
from gristmill.report.card import write_card

REPORT_FILES = ("report.html", "profile.json", "analysis.json")
OUTPUT_ENTRIES = ("kept", "rejected", "quarantine", "_work", "manifest.json", "_SUCCESS", *REPORT_FILES,
                  "README.md")


def run(recipe: Recipe | str | os.PathLike | None = None, *, inputs: list[str] | None = None,
        output: str | None = None, workers: int | None = None, resume: bool = True, quiet: bool = False,
        reporter: Reporter | None = None, executor: str = "local", address: str | None = None) -> dict:
    """Run a recipe (a :class:`Recipe`, a YAML path, or None for the default) and return the manifest.

    ``executor="ray"`` runs the same tasks on a Ray cluster (``address``; None starts a local Ray with
    ``workers`` CPUs): same outputs, byte for byte.
    """
    if executor not in ("local", "ray"):
        raise GristmillError(f"unknown executor {executor!r}", hint="local or ray")
    workers = workers or default_workers()
    if isinstance(recipe, Recipe):
        recipe = copy.deepcopy(recipe)
    else:  # what `gristmill run` checks: the schema and every column, against a sample of the input
        prestart(workers, executor, inputs)  # the pool's forkserver imports beside the recipe check
        from gristmill.recipe_check import check_recipe

        recipe, _ = check_recipe(recipe, inputs=inputs)
    if inputs:
        recipe.input.paths = [str(p) for p in inputs]
    if output:
        recipe.output.path = str(output)
    if not recipe.input.paths:
        raise GristmillError("the recipe names no input", hint="pass --input PATH (or set input.paths)")
    durable.configure(recipe.output.fsync)
    reporter = reporter or Reporter(quiet=quiet)
    configure_inputs(recipe.input.paths, recipe.input.storage_options)
    shards = plan_shards(recipe.input.paths, recipe.input.format, recipe.input.shard_size)
    prestart(workers, executor, shards=len(shards))  # a pool only for more than one task per stage
    stages = cut_stages(recipe.steps)
    fs, out_path = output_fs(recipe.output.path, recipe.output.storage_options)
    local = "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
    root = out_path if local else staging_folder(recipe.output.path)
    lock = FolderLock(root).acquire()  # one run per folder: a second one stops here with a clear message
    if lock.warning:
        print(f"[gristmill] warning: {lock.warning}", file=sys.stderr, flush=True)
    try:
        with lean_gc():
            manifest = _run_locked(recipe, root, local, fs, out_path, shards, stages, workers, resume,
                                   reporter, executor, address)
    finally:
        lock.release()
        if not local:
            with contextlib.suppress(OSError):
                os.rmdir(root)  # the staging folder, empty once published
    if not manifest["reconciled"]:
        raise GristmillError("counts do not reconcile: input != kept + rejected + quarantined "
                             f"({manifest['counts']})", hint="this is a bug in gristmill; please report it")
    return manifest


def _run_locked(recipe: Recipe, root: str, local: bool, fs, out_path: str, shards, stages, workers: int,
                resume: bool, reporter: Reporter, executor: str, address: str | None) -> dict:
    layout = Layout(root)
    _prepare(layout, recipe, shards, resume)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    markers = _load_markers(layout, stages, shards)
    todo = len(stages) * len(shards) - len(markers)
    reporter.start(len(stages) * len(shards), sum(s.size for s in shards), already=len(markers))
    ex = make_executor(executor, workers, address)
    ex.on_batch = reporter.batch  # per-batch progress from the tasks (where the executor supports it)
    from gristmill.report.run_report import ProfileParts

    profiles = ProfileParts()  # the tasks' report profiles, read while the run waits for the next task
    try:
        for st in stages:
            if st.apply is not None:
                _reduce(layout, st.apply, len(shards), ex.pmap)
            pending = task_order([sh for sh in shards if (st.index, sh.index) not in markers], st.index, markers)
            label = ", ".join(s.label for s in ([st.apply] if st.apply else []) + st.maps) or "read"
            reporter.stage(st.index, len(stages), label, pending=pending, markers=markers)
            for counts in ex.tasks(recipe, st, pending, root, len(shards)):
                markers[(st.index, counts["shard"])] = counts
                reporter.task_done(counts)
                if recipe.output.report and workers > 1:  # one worker: no other task to overlap, read at the end
                    profiles.read(layout.profile(st.index, counts["shard"]))
    except KeyboardInterrupt:
        reporter.stop()
        raise GristmillError("interrupted", hint="run the same command again to resume where it stopped") from None
    finally:
        reporter.stop()
        ex.close()
    file_types: dict = {}
    for m in markers.values():
        file_types.update(m.get("types", {}))
    unions = unify(root, file_types)  # one schema per output (kept, rejected, quarantine)
    finished = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    manifest = mf.build(recipe, shards, stages, markers, started=started, finished=finished,
                        wall=time.perf_counter() - t0, workers=workers, output=recipe.output.path)
    manifest["tasks_run"] = todo
    manifest["executor"] = ex.describe()
    manifest["input_problems"] += [{"path": f, "problem": "not read: unknown file type"}
                                   for f in unrecognised_files(recipe.input.paths, recipe.input.format)]
    manifest["schema"] = {g: {"columns": list(u["struct"]),
                              "as_json_text": [k for k, t in u["struct"].items() if t == "json"]}
                          for g, u in unions.items() if isinstance(u, dict) and "struct" in u}
    manifest["global_steps"] = {}
    for st in stages:
        if st.apply is not None and os.path.exists(layout.reduce_marker(st.apply.label)):
            with open(layout.reduce_marker(st.apply.label), "rb") as f:
                manifest["global_steps"][st.apply.label] = orjson.loads(f.read())
    # the end of the run: every data file is already durable and in place (the tasks, unify); then the
    # manifest, the report and the card, each durable; then the marker, last
    _write_json(os.path.join(root, "manifest.json"), manifest)
    durable.fault("manifest")
    if recipe.output.report:
        from gristmill.report import write_run_report

        write_run_report(root, manifest, [layout.profile(st.index, sh.index) for st in stages for sh in shards],
                         loaded=profiles.parts)
        for name in REPORT_FILES:
            if os.path.exists(os.path.join(root, name)):
                durable.sync_file(os.path.join(root, name))
    durable.fault("report")
    write_card(root, manifest, unions)
    durable.sync_file(os.path.join(root, "README.md"))
    durable.sync_dir(root)
    durable.fault("card")
    _write_json(os.path.join(root, "_SUCCESS"), {"recipe_hash": recipe.plan_hash()})
    durable.fault("success")
    for d in ("state", "decision") + tuple(f"s{st.index}" for st in stages):
        shutil.rmtree(os.path.join(layout.work, d), ignore_errors=True)
    durable.fault("cleanup")
    if not local:
        _publish(root, fs, out_path)
    return manifest


class LocalExecutor:
    """Tasks on this machine: with ``workers`` > 1, the run's own process and a forkserver pool of
    ``workers - 1`` processes take a stage's tasks from one queue, each as it gets free (the run process starts
    on the first task at once, while the pool's processes start). One pool serves every stage of a run, so its
    processes keep their imports and built steps. One worker, or a stage of one task: all in this process."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = self._slots = None

    def tasks(self, recipe, stage, shards, root, n_shards):
        on_batch = getattr(self, "on_batch", None)
        if self.workers <= 1 or len(shards) <= 1:
            return (run_task(recipe, stage, sh, root, n_shards, on_batch) for sh in shards)
        if self._pool is None:
            ctx = start_forkserver()
            self._slots = Slots(ctx, n_shards)  # workers write (docs, bytes) per batch; read here between waits
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers - 1, mp_context=ctx, initializer=worker_init,
                initargs=(self._slots.array, partial(_worker_start, os.getpid(), dict(os.environ))))
        return _execute(self._pool, self.workers - 1, self._slots, recipe, stage, shards, root, n_shards, on_batch)

    def pmap(self, fn, items) -> list:
        """``[fn(x) for x in items]``, in order; on the pool's processes when the run has three or more workers
        (a global step's reduce: exact dedup's bucket groups, MinHash's partitions), else in this process."""
        items = list(items)
        if self._pool is None or self.workers < 3 or len(items) <= 1:
            return [fn(x) for x in items]
        return list(self._pool.map(fn, items))

    def describe(self) -> dict:
        return {"kind": "local", "workers": self.workers}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def make_executor(kind: str, workers: int, address: str | None):
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "ray":
        from gristmill.exec.ray import RayExecutor

        return RayExecutor(workers, address)
    raise GristmillError(f"unknown executor {kind!r}", hint="local or ray")


GC_GEN0 = 50_000  # allocations between the collector's young passes while tasks run (Python's default: 700)


@contextlib.contextmanager
def lean_gc():
    """Fewer cyclic-garbage passes while a run runs: what a task allocates (strings, numbers, Arrow buffers,
    the rows of a batch) is freed by reference counting, and each pass also walks every long-lived object
    (the models' tables, the modules), about a tenth of the CPU time of the default recipe. The objects that
    exist before the tasks are frozen (:func:`gc.freeze`), the young generation is ``GC_GEN0`` objects; both
    are restored after."""
    old, frozen = gc.get_threshold(), gc.get_freeze_count()
    gc.freeze()
    gc.set_threshold(max(old[0], GC_GEN0), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        if not frozen:  # a caller's own frozen objects stay frozen
            gc.unfreeze()


def task_order(shards: list, stage: int, markers: dict) -> list:
    """The order a stage's tasks start in: the largest input first (the shard's bytes for the first stage, the
    text bytes the previous stage kept for it after), so that short shards (a file's last one, the pieces
    ``input.shard_size: auto`` cuts the plan's tail into) run last, where they fill the stage's tail instead
    of leaving workers idle while a large one finishes. Outputs do not depend on the order."""
    def size(sh) -> int:
        prev = markers.get((stage - 1, sh.index)) if stage else None
        return prev.get("text_bytes_out", 0) if prev else sh.size
    return sorted(shards, key=lambda sh: (-size(sh), sh.index))


POLL = 0.25  # seconds between reads of the pool's progress counters and finished tasks


def _execute(pool, pool_workers: int, slots, recipe, stage, shards, root, n_shards, on_batch=None):
    """Yield the counts of each of the stage's tasks as it finishes. One queue in task order: a pool process
    that finishes a task gets the next one at once (a callback in the pool's thread submits it), and this
    process runs the next one itself whenever it is free; no task waits while a process is idle. The first
    submissions go from a thread: the first one waits for the forkserver, this process need not."""
    slots.reset()
    queue = deque(shards)
    lock = threading.Lock()
    running: set = set()
    finished: deque = deque()
    state = {"stop": False, "submitting": 0, "error": None}

    def top_up(done=None) -> None:
        while True:
            with lock:
                if done is not None:
                    running.discard(done)
                    if not done.cancelled():
                        finished.append(done)
                    done = None
                if state["stop"] or not queue or len(running) + state["submitting"] >= pool_workers:
                    return
                shard = queue.popleft()
                state["submitting"] += 1
            try:
                f = pool.submit(run_task, recipe, stage, shard, root, n_shards, SlotWriter())
            except Exception as e:  # a broken pool: the shard goes back, this process reports the error
                with lock:
                    queue.appendleft(shard)
                    state["submitting"] -= 1
                    state["error"] = e
                return
            with lock:
                state["submitting"] -= 1
                running.add(f)
            f.add_done_callback(top_up)

    last = [0.0]

    def batch(shard: int, docs: int, nbytes: int) -> None:  # this process's own task: progress, and the pool's
        if on_batch is not None:
            on_batch(shard, docs, nbytes)
            if time.perf_counter() - last[0] >= POLL:
                last[0] = time.perf_counter()
                slots.poll(on_batch)

    threading.Thread(target=top_up, name="gristmill-submit", daemon=True).start()
    try:
        while True:
            with lock:
                if state["error"] is not None:
                    raise state["error"]
                done = list(finished)
                finished.clear()
                mine = queue.popleft() if queue else None
                waiting, submitting = set(running), state["submitting"]
            if done:
                slots.poll(on_batch)  # a task's last counters are written before its result arrives
            for f in done:
                yield f.result()
            if mine is not None:
                yield run_task(recipe, stage, mine, root, n_shards, batch)
            elif waiting:
                wait(waiting, timeout=POLL, return_when=FIRST_COMPLETED)
                slots.poll(on_batch)
            elif submitting:
                time.sleep(0.005)
            elif not done:
                return
    except BaseException:
        with lock:
            state["stop"] = True
            for f in running:
                f.cancel()
        raise


def _worker_start(run_pid: int, env: dict) -> None:
    """In a new pool worker: the run's environment as it is now (the forkserver keeps the one it started
    with, e.g. a ``${VAR}`` storage option set since), and exit when the run's process ends. A pool
    process runs nothing but tasks: pyarrow in it never imports pandas (:mod:`gristmill.exec.owned`)."""
    arrow_without_pandas()
    os.environ.clear()
    os.environ.update(env)
    die_with_parent(run_pid)
    gc.freeze()  # as lean_gc(), for the life of this worker process
    gc.set_threshold(max(gc.get_threshold()[0], GC_GEN0), *gc.get_threshold()[1:])


def _reduce(layout: Layout, spec, n_shards: int, pmap=None) -> None:
    """A global step's reduce; ``pmap(fn, items)`` runs its independent parts (bucket groups, pair chunks)
    where the executor runs tasks, for the steps whose reduce accepts it."""
    import inspect

    label = spec.label
    marker = layout.reduce_marker(label)
    if os.path.exists(marker):
        return
    t0 = time.perf_counter()
    step = spec.build()
    kw = {"pmap": pmap} if pmap is not None and "pmap" in inspect.signature(step.reduce).parameters else {}
    info = step.reduce([layout.state(label, i) for i in range(n_shards)], layout.decision_dir(label), **kw)
    info = info if isinstance(info, dict) else {"duplicates": info}
    durable.sync_tree(layout.decision_dir(label))  # written by the step; durable before its marker
    _write_json(marker, {"label": label, **info, "seconds": round(time.perf_counter() - t0, 3)})
    durable.fault("reduce")


def _prepare(layout: Layout, recipe: Recipe, shards, resume: bool) -> None:
    root = layout.root
    plan_file = os.path.join(layout.work, "plan.json")
    plan = {"recipe_hash": recipe.plan_hash(), "shards": [s.to_dict() for s in shards]}
    if os.path.isdir(root) and set(os.listdir(root)) - {LOCK_NAME}:
        entries = set(os.listdir(root)) - {LOCK_NAME}
        if "README.md" in entries and not _our_card(os.path.join(root, "README.md")):
            entries.add("README.md (not a gristmill dataset card)")
        if not entries <= set(OUTPUT_ENTRIES):
            raise GristmillError(f"output folder {root} is not empty and holds files gristmill did not write "
                                 f"({', '.join(sorted(entries - set(OUTPUT_ENTRIES))[:3])})",
                                 hint="choose another --output")
        same, before = False, None
        if os.path.exists(plan_file):
            with open(plan_file, "rb") as f:
                before = orjson.loads(f.read())
            same = before == orjson.loads(orjson.dumps(plan))
        if resume and not same:
            why = "recipe or inputs changed"
            if isinstance(before, dict) and before.get("recipe_hash") == plan["recipe_hash"] and \
                    {s["path"] for s in before.get("shards", [])} == {s.path for s in shards}:
                why = "the same recipe and files, cut into other shards: an input's size changed, or another " \
                      "gristmill version plans shards differently"
            raise GristmillError(f"output folder {root} holds a different run ({why})",
                                 hint="use --no-resume to overwrite it, or choose another --output")
        if not resume:
            for e in OUTPUT_ENTRIES:
                p = os.path.join(root, e)
                shutil.rmtree(p) if os.path.isdir(p) else (os.path.exists(p) and os.remove(p))
        else:
            _remove_partial(root)
            if os.path.exists(os.path.join(root, "_SUCCESS")):
                os.remove(os.path.join(root, "_SUCCESS"))
        durable.sync_dir(root)  # the marker's removal is durable before any file is rewritten
    os.makedirs(layout.work, exist_ok=True)
    if not os.path.exists(plan_file):
        _write_json(plan_file, plan)


def _our_card(path: str) -> bool:
    with open(path, "rb") as f:
        return b"Written by gristmill" in f.read(4096)


def _remove_partial(root: str) -> None:
    """Delete files a killed run left half-written (``*.tmp``); their tasks have no marker and run again."""
    for dirpath, _, files in os.walk(root):
        for f in files:
            if ".tmp" in f:
                os.remove(os.path.join(dirpath, f))


def _load_markers(layout: Layout, stages, shards) -> dict:
    out = {}
    for st in stages:
        for sh in shards:
            p = layout.marker(st.index, sh.index)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    out[(st.index, sh.index)] = orjson.loads(f.read())
    return out


def _write_json(path: str, obj) -> None:
    durable.write_bytes(path, orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


def staging_folder(url: str) -> str:
    """The local folder where a run to a remote output is staged: the same for the same output URL, so a
    killed run resumes from it (``GRISTMILL_STAGING`` sets its parent; default: the system's temp folder)."""
    import hashlib

    parent = os.environ.get("GRISTMILL_STAGING") or tempfile.gettempdir()
    return os.path.join(parent, "gristmill-staging-" + hashlib.sha256(url.encode()).hexdigest()[:16])


LAST = ("manifest.json", "_SUCCESS")  # published after every data file, in this order


def _publish(root: str, fs, out_path: str) -> None:
    """Copy a staged run to a remote fsspec output: an earlier run's ``_SUCCESS`` is removed first, then
    the data files go up, then ``manifest.json``, then ``_SUCCESS``, so a reader that sees the marker sees
    everything (an object store makes each object visible only once it is whole). An interrupted publish
    is repeated whole by the resumed run. The staging folder is emptied (its lock stays until released)."""
    rels = []
    for dirpath, _, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir.split(os.sep)[0] == "_work":
            continue
        rels += [os.path.normpath(os.path.join(rel_dir, f)) for f in files if f not in LAST and f != LOCK_NAME]
    base = out_path.rstrip("/")
    if fs.exists(f"{base}/_SUCCESS"):
        fs.rm_file(f"{base}/_SUCCESS")
    for rel in sorted(rels):
        fs.put_file(os.path.join(root, rel), f"{base}/{rel}")
    durable.fault("publish-data")
    fs.put_file(os.path.join(root, "manifest.json"), f"{base}/manifest.json")
    durable.fault("publish-manifest")
    fs.put_file(os.path.join(root, "_SUCCESS"), f"{base}/_SUCCESS")
    durable.fault("publish-success")
    for e in os.listdir(root):
        if e != LOCK_NAME:
            p = os.path.join(root, e)
            shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.remove(p)
