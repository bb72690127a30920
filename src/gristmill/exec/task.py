"""One unit of work: one stage of the recipe over one shard. Deterministic, written atomically, then marked.

A task reads its shard (stage 0) or the previous stage's output for the shard, runs the stage's steps
batch by batch, writes survivors (final ``kept/`` or the next stage's input), rejected rows with the step
and reason, and quarantined records, then writes a completion marker holding its counts.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from gristmill.contract import Result, Step
from gristmill.errors import GristmillError
from gristmill.exec import durable, heap
from gristmill.exec.plan import Stage
from gristmill.expr import ExprError
from gristmill.io.paths import Shard
from gristmill.io.readers import ReadOptions, read_shard
from gristmill.io.storage import configure_inputs
from gristmill.io.writers import RecordWriter, output_name, write_quarantine
from gristmill.recipe import Recipe
from gristmill.record import meta_column
from gristmill.report.profile import Profile


@dataclass
class Layout:
    """Where a run keeps its files (``root`` is the local output or staging folder)."""

    root: str

    @property
    def work(self) -> str:
        return os.path.join(self.root, "_work")

    def marker(self, stage: int, shard: int) -> str:
        return os.path.join(self.work, "done", f"s{stage}-{shard:05d}.json")

    def profile(self, stage: int, shard: int) -> str:
        return os.path.join(self.work, "profile", f"s{stage}-{shard:05d}.json")

    def reduce_marker(self, label: str) -> str:
        return os.path.join(self.work, "done", f"reduce-{safe(label)}.json")

    def intermediate(self, stage: int, shard: int) -> str:
        return os.path.join(self.work, f"s{stage}", f"part-{shard:05d}.arrow")

    def state(self, label: str, shard: int) -> str:
        return os.path.join(self.work, "state", safe(label), f"{shard:05d}.npy")

    def decision_dir(self, label: str) -> str:
        return os.path.join(self.work, "decision", safe(label))


def safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label)


_STEPS: dict[tuple, Step] = {}


def _built(spec) -> Step:
    key = (spec.label, repr(spec.params))
    if key not in _STEPS:
        step = spec.build()
        step.setup()
        _STEPS[key] = step
    return _STEPS[key]


ID_CACHE_BYTES = 64 << 20  # ids of other shards a task keeps to name kept copies (at least one shard's)


class _IdLookup:
    """Ids of rows in a previous stage's outputs, to name the kept copy of a duplicate. A shard's ids are read
    once (its ``id`` column alone) into one Arrow array, about a quarter of the memory of a list of Python
    strings; the shards read first are dropped while the ids held exceed :data:`ID_CACHE_BYTES`."""

    def __init__(self, layout: Layout, stage: int) -> None:
        self.layout, self.stage, self.cache, self.held = layout, stage, {}, 0

    def __call__(self, shard: int, row: int) -> str:
        ids = self.cache.get(shard)
        if ids is None:
            with pa.memory_map(self.layout.intermediate(self.stage, shard)) as src:
                reader = pa.ipc.open_file(src)
                cols = [reader.get_batch(b).column("id") for b in range(reader.num_record_batches)]
                ids = pa.concat_arrays(cols) if cols else pa.array([], pa.string())  # a copy: the map closes
            self.cache[shard] = ids
            self.held += ids.nbytes
            while self.held > ID_CACHE_BYTES and len(self.cache) > 1:
                self.held -= self.cache.pop(next(iter(self.cache))).nbytes
        return ids[row].as_py()


def _resolver(table: pa.Table, source: str | None = None):
    """Columns for names that are not in the table: input fields inside ``meta``, and ``_file`` (the name of
    the input file the row came from)."""
    def resolve(name: str):
        if name == "_file" and source is not None:
            return pa.array([os.path.basename(source)] * table.num_rows, pa.string())
        try:
            return meta_column(table, name)
        except KeyError:
            raise ExprError(f"unknown column {name!r}; available: {', '.join(table.column_names)}") from None
    return resolve


def run_task(recipe: Recipe, stage: Stage, shard: Shard, root: str, n_shards: int = 1, progress=None) -> dict:
    """Run ``stage`` over ``shard``; returns (and writes as a marker) the task's counts.

    With ``output.report`` on, the task also writes a :class:`~gristmill.report.profile.Profile` of the
    documents it kept (final stage) and rejected, sized for a run of ``n_shards`` shards. The counts' ``timing``
    says where and when it ran: process id, start and end (epoch seconds, before the profile and the marker
    are written), CPU seconds of the task and of its process so far.
    """
    configure_inputs(recipe.input.paths, recipe.input.storage_options)  # in this worker process
    durable.configure(recipe.output.fsync)
    heap.configure()  # with GRISTMILL_MMAP_THRESHOLD: large blocks go back to the system when freed (exec/heap.py)
    try:
        return _run_task(recipe, stage, shard, Layout(root), n_shards, progress)
    except ExprError as e:
        raise GristmillError(str(e), hint="check the filter expressions in the recipe") from None
    finally:
        heap.release()  # with the setting: the heap's free pages go back before the next task


def _run_task(recipe: Recipe, stage: Stage, shard: Shard, layout: Layout, n_shards: int = 1,
              progress=None) -> dict:
    t0, c0, started = time.perf_counter(), time.process_time(), time.time()
    out = recipe.output
    i = shard.index
    maps = [_built(s) for s in stage.maps]
    profile = Profile(n_shards) if out.report else None
    stats = {s.label: {"in": 0, "kept": 0, "rejected": Counter(), "seconds": 0.0, "bytes_in": 0, "bytes_kept": 0}
             for s in ([stage.apply] if stage.apply else []) + stage.maps}
    counts = {"stage": stage.index, "shard": i, "in": 0, "out": 0, "text_bytes_in": 0, "text_bytes_out": 0,
              "read": None, "files": [], "types": {}}
    if stage.final:
        kept = RecordWriter(os.path.join(layout.root, "kept", output_name(f"part-{i:05d}", out.format, out.compression)),
                            out.format, out.compression, text_field=recipe.output_text_field(),
                            id_field=recipe.input.id_field)
    else:
        kept = _IpcWriter(layout.intermediate(stage.index, i))
    rejected: dict[str, RecordWriter] = {}
    quarantine: list[dict] = []
    hashes: list[np.ndarray] = []
    read = {"records": 0, "blank_lines": 0, "skipped": 0, "bytes": 0, "quarantined": 0, "problems": []}

    def route(label: str, res: Result, table: pa.Table) -> pa.Table:
        st = stats[label]
        st["in"] += table.num_rows
        if res.notes:
            st.setdefault("notes", Counter()).update(res.notes)
        st["bytes_in"] += _text_bytes(table)
        if res.reject is None or not res.reject.any():
            st["kept"] += res.table.num_rows
            st["bytes_kept"] += _text_bytes(res.table)
            return res.table
        mask = pa.array(res.reject)
        st["rejected"].update(res.reason)
        survivors = res.table.filter(pc.invert(mask))
        st["kept"] += survivors.num_rows
        st["bytes_kept"] += _text_bytes(survivors)
        if profile is not None or out.write_rejected:
            rej = res.table.filter(mask)
        if profile is not None:
            profile.add(rej, "rejected", step=label, reasons=res.reason, details=res.detail, source=shard.path)
        if out.write_rejected:
            rej = rej.append_column("rejected_by", pa.array([label] * rej.num_rows, pa.string()))
            rej = rej.append_column("reason", pa.array(res.reason, pa.string()))
            rej = rej.append_column("detail", pa.array(res.detail, pa.string()))
            if label not in rejected:
                name = output_name(f"part-{i:05d}.{safe(label)}", out.format, out.compression)
                rejected[label] = RecordWriter(os.path.join(layout.root, "rejected", name), out.format,
                                               out.compression, text_field=recipe.output_text_field(),
                                               id_field=recipe.input.id_field)
            rejected[label].write(rej)
        return survivors

    decision = lookup = applier = None
    if stage.apply is not None:
        applier = _built(stage.apply)
        decision = applier.load_decision(layout.decision_dir(stage.apply.label), i)
        lookup = _IdLookup(layout, stage.index - 1)
    offset = 0
    try:
        for table in _source(stage, shard, layout, recipe, read, quarantine):
            if table is None or table.num_rows == 0:
                continue
            counts["in"] += table.num_rows
            counts["text_bytes_in"] += _text_bytes(table)
            if progress is not None:  # (shard, docs, bytes read so far): see exec/progress.py
                progress(i, counts["in"], read["bytes"] if stage.index == 0 else counts["text_bytes_in"])
            if stage.apply is not None:
                s0 = time.perf_counter()
                res = applier.apply(table, decision, offset, lookup)
                offset += table.num_rows
                table = route(stage.apply.label, res, table)
                stats[stage.apply.label]["seconds"] += time.perf_counter() - s0
            for spec, step in zip(stage.maps, maps, strict=True):
                if table.num_rows == 0:
                    break
                s0 = time.perf_counter()
                res = (step.process(table, _resolver(table, shard.path)) if step.reads_input_fields
                       else step.process(table))
                table = route(spec.label, res, table)
                stats[spec.label]["seconds"] += time.perf_counter() - s0
            if table.num_rows == 0:
                continue
            if stage.collect is not None:
                hashes.append(_built(stage.collect).map_state(table, _resolver(table, shard.path)))
            counts["out"] += table.num_rows
            counts["text_bytes_out"] += _text_bytes(table)
            if profile is not None and stage.final:
                profile.add(table, "kept", source=shard.path)
            kept.write(select_columns(table, out.columns) if stage.final and out.columns else table)
    except BaseException:
        kept.abort()
        for w in rejected.values():
            w.abort()
        raise
    # the commit sequence: each file durable and in place (AtomicFile), then the marker that claims them
    if kept.close() and stage.final:
        counts["files"].append(os.path.relpath(kept.file.path, layout.root))
        counts["types"][counts["files"][-1]] = kept.type
    durable.fault("kept-rename")
    for w in rejected.values():
        if w.close():
            counts["files"].append(os.path.relpath(w.file.path, layout.root))
            counts["types"][counts["files"][-1]] = w.type
    durable.fault("rejected-rename")
    if quarantine:
        qext = ".parquet" if out.format == "parquet" else ".jsonl"
        qpath = os.path.join(layout.root, "quarantine", f"part-{i:05d}{qext}")
        counts["files"].append(os.path.relpath(qpath, layout.root))
        counts["types"][counts["files"][-1]] = write_quarantine(qpath, quarantine)
    durable.fault("quarantine-rename")
    if stage.collect is not None:
        state = layout.state(stage.collect.label, i)
        os.makedirs(os.path.dirname(state), exist_ok=True)
        _built(stage.collect).save_state(state, hashes)
        durable.sync_path(state)  # written by the step; made durable before the marker
    durable.fault("state")
    if stage.index == 0:
        counts["read"] = read
    counts["steps"] = {k: {**v, "rejected": dict(sorted(v["rejected"].items())),
                           **({"notes": dict(sorted(v["notes"].items()))} if "notes" in v else {})}
                       for k, v in stats.items()}
    counts["seconds"] = time.perf_counter() - t0
    counts["timing"] = {"pid": os.getpid(), "start": started, "end": time.time(),
                        "cpu": time.process_time() - c0, "process_cpu": time.process_time()}
    if profile is not None:
        _write_marker(layout.profile(stage.index, i), profile.to_dict())
    durable.fault("profile")
    _write_marker(layout.marker(stage.index, i), counts)
    durable.fault("marker")
    return counts


def select_columns(table: pa.Table, columns: list[str]) -> pa.Table:
    """The requested columns; ``text_preview`` and ``text_bytes`` are derived from the text."""
    cols, names = [], []
    for c in columns:
        if c == "text_preview":
            cols.append(pc.utf8_slice_codeunits(table.column("text"), 0, 300))
        elif c == "text_bytes":
            cols.append(pc.binary_length(table.column("text")))
        elif c in table.column_names:
            cols.append(table.column(c))
        else:
            continue
        names.append(c)
    return pa.Table.from_arrays(cols, names=names)


def _text_bytes(table: pa.Table) -> int:
    return int(pc.sum(pc.binary_length(table.column("text"))).as_py() or 0)


def _source(stage: Stage, shard: Shard, layout: Layout, recipe: Recipe, read: dict, quarantine: list):
    if stage.index == 0:
        opts = ReadOptions(text_field=recipe.input.text_field, id_field=recipe.input.id_field,
                           text_unit=recipe.input.text_unit, max_record_bytes=recipe.input.max_record_bytes,
                           batch_rows=recipe.input.batch_rows, sft=recipe.input.sft,
                           encoding=recipe.input.encoding, max_expansion=recipe.input.max_expansion,
                           quarantine_bytes=recipe.input.quarantine_bytes,
                           document_unit=recipe.input.document_unit, strip_markup=recipe.input.strip_markup,
                           document_timeout=recipe.input.document_timeout,
                           max_document_bytes=recipe.input.max_document_bytes,
                           **{k: getattr(recipe.input, k) for k in ("code_max_file_bytes", "code_max_archive_members",
                                                                     "code_max_archive_bytes", "code_binary")})
        for rb in read_shard(shard, opts):
            if rb.encoding:
                read["encoding"] = rb.encoding
            read["blank_lines"] += rb.blank
            read["skipped"] += rb.skipped
            read["bytes"] += rb.bytes
            read["quarantined"] += len(rb.quarantine)
            if rb.problem:
                read["problems"].append(rb.problem)
            quarantine.extend(rb.quarantine)
            if rb.table is not None:
                read["records"] += rb.table.num_rows
            yield rb.table
        return
    path = layout.intermediate(stage.index - 1, shard.index)
    if not os.path.exists(path):
        return
    # read, not memory-mapped: each batch's buffers are the task's own and freed with the batch, where the pages
    # of a map stay in the process's RSS until it closes (the whole intermediate, up to a shard, by the end)
    with pa.OSFile(path) as src:
        reader = pa.ipc.open_file(src)
        for b in range(reader.num_record_batches):
            yield pa.Table.from_batches([reader.get_batch(b)])


class _IpcWriter:
    """Arrow IPC file between stages (random access for id look-ups), renamed into place when complete."""

    def __init__(self, path: str) -> None:
        from gristmill.io.writers import AtomicFile

        self.file = AtomicFile(path)
        self._w = None
        self._schema = None

    def write(self, table: pa.Table) -> None:
        if self._w is None:
            self._schema = table.schema
            self._w = pa.ipc.new_file(self.file.tmp, table.schema)
        elif table.schema != self._schema:
            from gristmill.io.writers import _conform

            table = _conform(table, self._schema)
        self._w.write_table(table)

    def close(self) -> bool:
        if self._w is None:
            return False
        self._w.close()
        self.file.commit()
        return True

    def abort(self) -> None:
        if self._w is not None:
            self._w.close()
        if os.path.exists(self.file.tmp):
            os.remove(self.file.tmp)


def _write_marker(path: str, counts: dict) -> None:
    durable.write_bytes(path, orjson.dumps(counts, option=orjson.OPT_INDENT_2))
