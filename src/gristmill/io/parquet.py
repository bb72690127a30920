"""Parquet input: row groups are the shards; ids come from the id column, else ``SOURCE:ROW``.

A missing or non-string text column quarantines the batch's rows; a null text quarantines that row; every
other column is kept beside ``id`` and ``text``.

>>> import tempfile, pathlib
>>> import pyarrow as pa, pyarrow.parquet as pq
>>> from gristmill.io.paths import plan_shards
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.parquet"
>>> pq.write_table(pa.table({"text": ["a", None], "lang": ["en", "zh"]}), p)
>>> b = next(read_parquet(plan_shards([str(p)])[0], ReadOptions()))
>>> b.table.column_names, b.table.column("id").to_pylist(), b.quarantine[0]["error"]
(['id', 'text', 'lang'], ['a.parquet:0'], "text column 'text' is null")
"""

from __future__ import annotations

from collections.abc import Iterator

import fsspec
import orjson
import pyarrow as pa

from gristmill.io.batch import ReadBatch, ReadOptions
from gristmill.io.paths import Shard
from gristmill.io.quarantine import quarantine_entry as _q
from gristmill.record import derived_id


def read_parquet(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    fs, path = fsspec.core.url_to_fs(shard.path)
    try:
        fh = fs.open(path, "rb")
        pf = pq.ParquetFile(fh)
    except Exception as e:
        msg = f"unreadable Parquet file: {type(e).__name__}: {e}"
        yield ReadBatch(None, [_q(shard, 0, msg, b"")], problem=msg)
        return
    md = pf.metadata
    end = md.num_row_groups if shard.end is None else shard.end
    groups = list(range(shard.start, end))
    row = sum(md.row_group(i).num_rows for i in range(shard.start))
    try:
        for rb in pf.iter_batches(batch_size=opts.batch_rows, row_groups=groups):
            t = pa.Table.from_batches([rb])
            batch = ReadBatch(None, bytes=rb.nbytes)
            n = t.num_rows
            rows = list(range(row, row + n))
            row += n
            text_col = _column(t, opts.text_field)
            if text_col is None or not (pa.types.is_string(text_col.type) or pa.types.is_large_string(text_col.type)):
                why = (f"missing text column '{opts.text_field}'" if text_col is None else
                       f"text column '{opts.text_field}' is {text_col.type}, expected a string")
                batch.quarantine.extend(_q(shard, r, why, _row_json(rec)) for r, rec in zip(rows, t.to_pylist(), strict=True))
                yield batch
                continue
            valid = pc.is_valid(text_col)
            if not pc.all(valid).as_py():
                bad = pc.invert(valid)
                for r, rec in zip(pc.filter(pa.array(rows), bad).to_pylist(), t.filter(bad).to_pylist(), strict=True):
                    batch.quarantine.append(_q(shard, r, f"text column '{opts.text_field}' is null", _row_json(rec)))
                t = t.filter(valid)
                rows = pc.filter(pa.array(rows), valid).to_pylist()
            id_col = _column(t, opts.id_field)
            ids = id_col.cast(pa.string()).to_pylist() if id_col is not None else [None] * t.num_rows
            ids = [i if i is not None else derived_id(shard.source, r) for i, r in zip(ids, rows, strict=True)]
            rest = [c for c in t.column_names if c not in (opts.text_field, opts.id_field, "id", "text")]
            cols = [pa.array(ids, pa.string()), _column(t, opts.text_field).cast(pa.string())]
            batch.table = pa.Table.from_arrays([*cols, *(t.column(c) for c in rest)], names=["id", "text", *rest])
            yield batch
    except Exception as e:
        msg = f"corrupt Parquet data: {type(e).__name__}: {e}"
        yield ReadBatch(None, [_q(shard, row, msg, b"")], problem=msg)
    finally:
        fh.close()


def _column(t: pa.Table, path: str):
    import pyarrow.compute as pc

    parts = path.split(".")
    if parts[0] not in t.column_names:
        return None
    col = t.column(parts[0])
    for p in parts[1:]:
        if not pa.types.is_struct(col.type) or col.type.get_field_index(p) < 0:
            return None
        col = pc.struct_field(col, p)
    return col


def _row_json(rec: dict) -> str:
    return orjson.dumps(rec, default=str).decode()
