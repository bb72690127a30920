"""One schema per output: after the last task, every file of ``kept/``, ``rejected/`` and ``quarantine/``
gets the columns of the typed union of all files of that output (:mod:`gristmill.io.schema`).

- JSONL: a file that lacks some of the output's top-level fields gets them as ``null``, and integers
  become floats where another file holds fractions, so readers that infer a schema per file (Hugging Face
  ``datasets``, pyarrow, pandas) see the same columns. Values are never dropped or re-typed otherwise.
- Parquet: ``meta`` (the input's other fields, held as JSON text while the tasks run) becomes real typed
  columns, and every file is written with the union's Arrow schema (missing columns as nulls; a field whose
  types cannot share a column holds its JSON text).

Rewrites go through a temporary file, an fsync and a rename (:mod:`gristmill.exec.durable`), and repeating
one gives the same bytes, so a run killed here and resumed ends as one that never stopped.
"""

from __future__ import annotations

import gzip
import io
import os

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.io import durable
from gristmill.io import schema as ty
from gristmill.io.writers import SLICE_ROWS, AtomicFile, _open_text_sink

OUTPUTS = ("kept", "rejected", "quarantine")


def unify(root: str, file_types: dict[str, ty.Type]) -> dict[str, ty.Type]:
    """Give the files of each output (paths relative to ``root``, with the type each writer recorded) one
    schema; returns each output's union type."""
    unions: dict[str, ty.Type] = {}
    for rel in sorted(file_types):
        group = rel.split("/", 1)[0]
        unions[group] = ty.merge(unions.get(group, "null"), file_types[rel])
    for rel in sorted(file_types):
        union = unions[rel.split("/", 1)[0]]
        path = os.path.join(root, rel)
        if not isinstance(union, dict) or "struct" not in union or not os.path.exists(path):
            continue
        if rel.endswith(".parquet"):
            _rewrite_parquet(path, union)
        elif _jsonl_needs_rewrite(file_types[rel], union):
            _rewrite_jsonl(path, union)
    os.makedirs(os.path.join(root, "quarantine"), exist_ok=True)
    return unions


def _jsonl_needs_rewrite(t: ty.Type, union: dict) -> bool:
    fields = t.get("struct", {}) if isinstance(t, dict) else {}
    return fields.keys() != union["struct"].keys() or any(
        _promotes(fields[k], u) for k, u in union["struct"].items())


def _promotes(t: ty.Type, u: ty.Type) -> bool:
    """Whether a value of type ``t`` holds an integer that the union ``u`` wants as a float."""
    if u == "float":
        return t == "int"
    if isinstance(t, dict) and isinstance(u, dict):
        if "struct" in t and "struct" in u:
            return any(_promotes(ft, u["struct"].get(k, ft)) for k, ft in t["struct"].items())
        if "list" in t and "list" in u:
            return _promotes(t["list"], u["list"])
    return False


def _floats(v, u: ty.Type):
    if v is None:
        return None
    if u == "float" and isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if isinstance(u, dict):
        if "struct" in u and isinstance(v, dict):
            return {k: _floats(x, u["struct"].get(k, "null")) for k, x in v.items()}
        if "list" in u and isinstance(v, list):
            return [_floats(x, u["list"]) for x in v]
    return v


def _open_read(path: str):
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".zst"):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)  # noqa: SIM115
    return open(path, "rb")  # noqa: SIM115


def _rewrite_jsonl(path: str, union: dict) -> None:
    fields = union["struct"]
    comp = "gzip" if path.endswith(".gz") else "zstd" if path.endswith(".zst") else "none"
    f = AtomicFile(path)
    opt = orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY
    with _open_read(path) as src, _open_text_sink(f.tmp, comp) as sink:
        for line in io.BufferedReader(src) if comp == "zstd" else src:
            rec = orjson.loads(line)
            for k in fields:
                if k not in rec:
                    rec[k] = None
            rec = {k: _floats(v, fields.get(k, "null")) for k, v in rec.items()}
            sink.write(orjson.dumps(rec, option=opt, default=str))
    f.commit()
    durable.fault("unify-rename")


def _rewrite_parquet(path: str, union: dict) -> None:
    schema = pa.schema([pa.field(k, ty.arrow_type(t)) for k, t in union["struct"].items()])
    pf = pq.ParquetFile(path)
    if pf.schema_arrow == schema:
        return
    f = AtomicFile(path)
    codec = pf.metadata.row_group(0).column(0).compression.lower() if pf.metadata.num_row_groups else "zstd"
    codec = "none" if codec == "uncompressed" else codec  # what the file says vs what pyarrow's writer takes
    writer = pq.ParquetWriter(f.tmp, schema, compression=codec)
    try:
        for batch in pf.iter_batches(batch_size=SLICE_ROWS * 8):
            writer.write_table(_conform_table(pa.Table.from_batches([batch]), union["struct"], schema))
    finally:
        writer.close()
    f.commit()
    durable.fault("unify-rename")


def _conform_table(table: pa.Table, fields: dict, schema: pa.Schema) -> pa.Table:
    metas = None
    if "meta" in table.column_names:
        metas = [orjson.loads(m) if m else {} for m in table.column("meta").to_pylist()]
    cols = []
    for name, t in fields.items():
        at = schema.field(name).type
        if name in table.column_names and name != "meta":
            col = table.column(name)
            if col.type == at:
                cols.append(col)
            elif ty.of_arrow(col.type) == t or not ty.needs_conform(t) or t == "float":
                cols.append(col.cast(at))
            else:
                cols.append(pa.array([ty.conform(v, t) for v in col.to_pylist()], at))
        elif metas is not None:
            cols.append(pa.array([ty.conform(m.get(name), t) for m in metas], at))
        else:
            cols.append(pa.nulls(table.num_rows, at))
    return pa.Table.from_arrays(cols, schema=schema)
