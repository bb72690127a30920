"""Writers for kept, rejected and quarantined records. Files appear only when complete (temp name, rename).

JSONL output restores each record's original fields from ``meta`` (the text and id go back to their
configured fields) and adds the signal columns. Each writer also records the typed union of what it wrote
(:mod:`gristmill.io.schema`), so that the end of a run can give every file of one output the same columns
(:mod:`gristmill.io.unify`); a Parquet file keeps ``meta`` as JSON text until then.
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
from dataclasses import dataclass
from typing import IO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.io import durable
from gristmill.io import schema as ty
from gristmill.record import set_path

EXT = {"jsonl": ".jsonl", "parquet": ".parquet"}
COMP_EXT = {"none": "", "gzip": ".gz", "zstd": ".zst"}
SLICE_ROWS = 256  # rows serialised to JSON at a time
IOV_MAX = 1024  # lines per os.writev call (the least IOV_MAX of Linux, macOS and the BSDs)


def output_name(stem: str, fmt: str, compression: str) -> str:
    if fmt == "parquet":
        return stem + ".parquet"
    return stem + ".jsonl" + COMP_EXT["none" if compression == "auto" else compression]


class AtomicFile:
    """A local file written under ``NAME.tmp`` and renamed to ``NAME`` on :meth:`commit`, durably: the data
    is fsynced before the rename and the folder after it (:mod:`gristmill.exec.durable`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.tmp = path + ".tmp"
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)

    def commit(self) -> None:
        durable.replace(self.tmp, self.path)


def _open_text_sink(path: str, compression: str, *, unbuffered: bool = False) -> IO[bytes]:
    """The file or a compressor on it; ``unbuffered`` where uncompressed (the writer hands whole batches to
    :func:`_write_lines`; a caller writing record by record keeps the buffer)."""
    if compression not in ("gzip", "zstd"):
        return open(path, "wb", buffering=0 if unbuffered else -1)  # noqa: SIM115
    raw = open(path, "wb")  # noqa: SIM115
    if compression == "gzip":
        # mtime=0 and no file name in the header: byte-identical output run after run
        return gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=True)
    return raw


class RecordWriter:
    """Append Arrow tables to one JSONL or Parquet file; nothing is visible until :meth:`close`."""

    def __init__(self, path: str, fmt: str = "jsonl", compression: str = "none", *,
                 text_field: str = "text", id_field: str = "id") -> None:
        self.file = AtomicFile(path)
        self.fmt, self.compression = fmt, compression
        self.text_field, self.id_field = text_field, id_field
        self.rows = 0
        self.type: ty.Type = "null"  # the typed union of the records written (see gristmill.io.schema)
        self._sink = None
        self._pq: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.rows += table.num_rows
        if self.fmt == "parquet":
            self.type = ty.merge(self.type, table_type(table))
            if self._pq is None:
                self._schema = table.schema
                codec = "zstd" if self.compression == "auto" else self.compression
                self._pq = pq.ParquetWriter(self.file.tmp, table.schema, compression=codec)
            elif table.schema != self._schema:
                table = _conform(table, self._schema)
            self._pq.write_table(table)
            return
        if self._sink is None:
            self._sink = _open_text_sink(self.file.tmp, self.compression, unbuffered=True)
        dumps, opt = orjson.dumps, orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY
        shape = _Shape.of(table, self.text_field, self.id_field)
        acc, typed = self.type, False
        for off in range(0, table.num_rows, SLICE_ROWS):  # a slice at a time: memory stays flat
            part = table.slice(off, SLICE_ROWS)
            plain = (_plain_lines(part, shape) if shape is not None
                     and (acc == "null" or (isinstance(acc, dict) and "struct" in acc)) else None)
            if plain is not None:
                lines, metas = plain
                if off == 0:  # the table's first record places every field (its type: merge_rows, field by field)
                    acc = ty.merge_rows(acc, _records(part.slice(0, 1), self.text_field, self.id_field)[0])
                    metas = metas[1:]
                rest = [m for m in metas if m]  # then only input fields are typed record by record
                acc, typed = (ty.merge_rows(acc, rest) if rest else acc), True
            else:
                recs, heads = _records(part, self.text_field, self.id_field)
                acc = _merge_type(acc, recs, heads, part)
                lines = [dumps(r, option=opt, default=str) for r in recs]
            _write_lines(self._sink, lines)
        self.type = _column_types(acc, table, shape) if typed else acc

    def close(self) -> bool:
        """Finish and rename into place; returns False (and writes nothing) if no row was written."""
        if self._pq is not None:
            self._pq.close()
        elif self._sink is not None:
            self._sink.close()
        else:
            return False
        self.file.commit()
        return True

    def abort(self) -> None:
        try:
            if self._pq is not None:
                self._pq.close()
            elif self._sink is not None:
                self._sink.close()
        finally:
            if os.path.exists(self.file.tmp):
                os.remove(self.file.tmp)


def _write_lines(sink: IO[bytes], lines: list[bytes]) -> None:
    """Write ``lines`` in order: to an unbuffered file with ``os.writev`` (the kernel gathers them; no joined
    copy is made), to anything else joined."""
    if not isinstance(sink, io.FileIO) or not hasattr(os, "writev"):
        sink.write(b"".join(lines))
        return
    fd = sink.fileno()
    while lines:
        part = lines[:IOV_MAX]
        n = os.writev(fd, part)
        if n == sum(map(len, part)):
            lines = lines[len(part):]
            continue
        done = 0  # a short write: drop what went out, then go on from the middle of the line it stopped in
        while n >= len(part[done]):
            n -= len(part[done])
            done += 1
        lines = [memoryview(lines[done])[n:], *lines[done + 1:]]


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Give a later batch the schema of the file's first batch (missing columns as nulls)."""
    cols = []
    for f in schema:
        if f.name in table.column_names:
            cols.append(table.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def table_type(table: pa.Table) -> ty.Type:
    """The record type of a batch as Parquet output will hold it once ``meta`` is expanded: ``id``,
    ``text``, the input's other fields (from ``meta``), then the signal columns."""
    fields: dict = {}
    for f in table.schema:
        if f.name in ("id", "text"):
            fields[f.name] = ty.of_arrow(f.type)
    if "meta" in table.column_names:
        acc: ty.Type = {"struct": {}}
        for m in table.column("meta").to_pylist():
            if m:
                acc = ty.merge(acc, ty.of_value(orjson.loads(m)))
        if isinstance(acc, dict) and "struct" in acc:
            fields.update(acc["struct"])
    for f in table.schema:
        if f.name not in ("id", "text", "meta"):
            fields[f.name] = ty.of_arrow(f.type)
    return {"struct": fields}


def jsonl_bytes(table: pa.Table, text_field: str = "text", id_field: str = "id") -> bytes:
    """Serialise rows as JSON lines (see :func:`jsonl_records`)."""
    opt = orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY
    return b"".join([orjson.dumps(r, option=opt, default=str)
                     for r in jsonl_records(table, text_field, id_field)])


def jsonl_records(table: pa.Table, text_field: str = "text", id_field: str = "id") -> list[dict]:
    """Rows as output records: the id, the original fields (from ``meta``) with the text in place, then
    every other column."""
    return _records(table, text_field, id_field)[0]


def _records(table: pa.Table, text_field: str, id_field: str) -> tuple[list[dict], list[int]]:
    """:func:`jsonl_records`, and for each record how many of its first fields are not columns (-1 where a
    column replaced an input field)."""
    names = table.column_names
    cols = {n: table.column(n).to_pylist() for n in names}
    ids, texts = cols.pop("id"), cols.pop("text", None)
    metas = cols.pop("meta", None)
    extra = list(cols.items())
    names = [n for n, _ in extra]
    rows = list(zip(*[v for _, v in extra], strict=True)) if extra else []
    dotted = "." in text_field  # text_field "": do not write the text (fine-tuning records)
    dotted_id = "." in id_field
    out, heads = [], []
    for i in range(table.num_rows):
        rec = {} if dotted_id else {id_field: ids[i]}
        if texts is None:
            pass
        elif text_field == "":  # fine-tuning records: the record is in meta, the text was derived from it
            rec.update(orjson.loads(metas[i]) if metas is not None and metas[i] else {})
            rec.pop("_sft_format", None)
        elif metas is not None and metas[i]:
            m = orjson.loads(metas[i])
            if dotted:
                rec.update(m)
                set_path(rec, text_field, texts[i])
            else:
                rec[text_field] = texts[i]
                rec.update(m)
        else:
            set_path(rec, text_field, texts[i])
        if dotted_id:
            set_path(rec, id_field, ids[i])
        head = len(rec)
        if extra:
            rec.update(zip(names, rows[i], strict=True))
            if len(rec) != head + len(names):
                head = -1
        heads.append(head)
        out.append(rec)
    return out, heads


@dataclass(frozen=True)
class _Shape:
    """A table whose JSON lines :func:`_plain_lines` can write: plain ``text_field`` and ``id_field`` (no dots,
    not empty, different), ``id`` and ``text`` columns, column names unique and none named as either field,
    every column of a type that says what JSON type each of its non-null values has (:data:`_PLAIN`)."""

    keys: tuple[str, ...]     # the record's fields from the columns: id_field, text_field, then the others
    columns: tuple[str, ...]  # the columns that give them: id, text, then the others
    template: bytes           # a line: b'{"ID":%s,"TEXT":%s%s,"COLUMN":%s...}\n', the third %s the input fields

    @staticmethod
    def of(table: pa.Table, text_field: str, id_field: str) -> _Shape | None:
        names = table.column_names
        if (not text_field or not id_field or "." in text_field or "." in id_field or text_field == id_field
                or "id" not in names or "text" not in names or len(set(names)) != len(names)):
            return None
        extra = tuple(n for n in names if n not in ("id", "text", "meta"))
        columns = ("id", "text", *extra)
        if (id_field in extra or text_field in extra or any(table.schema.field(n).type not in _PLAIN for n in columns)
                or ("meta" in names and table.schema.field("meta").type not in (pa.string(), pa.large_string(),
                                                                               pa.null()))):
            return None
        key = [orjson.dumps(k).replace(b"%", b"%%") for k in (id_field, text_field, *extra)]
        template = b"{%s:%%s,%s:%%s%%s" % (key[0], key[1]) + b"".join(b",%s:%%s" % k for k in key[2:]) + b"}\n"
        return _Shape((id_field, text_field, *extra), columns, template)


_NUMPY = (pa.float64(), pa.int64(), pa.int32(), pa.bool_())  # orjson writes their NumPy arrays as their values


def _json_values(col: pa.ChunkedArray) -> list[bytes]:
    """Each value of a column of a :data:`_PLAIN` type as the JSON orjson writes for it inside a record: numbers
    and booleans (no comma in any) written as one array and cut at the commas, strings one by one."""
    if col.type in _NUMPY and col.null_count == 0:
        return orjson.dumps(col.to_numpy(), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")
    if col.type in _NUMPY or col.type == pa.float32():  # float32: as the widened Python floats records hold
        return orjson.dumps(col.to_pylist())[1:-1].split(b",")
    dumps = orjson.dumps
    return [dumps(v) for v in col.to_pylist()]


def _plain_lines(table: pa.Table, shape: _Shape) -> tuple[list[bytes], list] | None:
    """The JSON lines :func:`_records` and orjson give for a table of ``shape`` (the same bytes), made column
    by column, with each record's input fields parsed from ``meta`` (None where it has none); None where an
    input field has the name of a column or of the id or text field (:func:`_records` places those)."""
    n = table.num_rows
    slots, metas = [b""] * n, [None] * n  # a record's input fields, between its text and its columns
    meta = table.column("meta") if "meta" in table.column_names else None
    if meta is not None and meta.null_count < len(meta):
        taken, loads, dumps = set(shape.keys), orjson.loads, orjson.dumps
        for i, m in enumerate(meta.to_pylist()):
            if m:
                d = loads(m)
                if type(d) is not dict or not taken.isdisjoint(d):
                    return None
                metas[i] = d
                if d:
                    slots[i] = b"," + dumps(d)[1:-1]
    ids, texts, *cols = [_json_values(table.column(c)) for c in shape.columns]
    template = shape.template
    return [template % r for r in zip(ids, texts, slots, *cols, strict=True)], metas


def _column_types(acc: ty.Type, table: pa.Table, shape: _Shape) -> ty.Type:
    """``acc`` widened by every column value after the table's first row, typed once per column from its Arrow
    type (a non-null value of type t adds t; a null adds nothing), which gives what ``merge_rows`` gives."""
    fields = dict(acc["struct"])
    for name, key in zip(shape.columns, shape.keys, strict=True):
        col = table.column(name).slice(1)
        if col.null_count < len(col):
            t, cur = _PLAIN[col.type], fields[key]
            fields[key] = t if cur == "null" else ty.merge(cur, t)
    return {"struct": fields}


_PLAIN = {pa.bool_(): "bool", pa.int64(): "int", pa.int32(): "int", pa.float64(): "float", pa.float32(): "float",
          pa.string(): "string", pa.large_string(): "string"}  # Arrow types whose values have one JSON type


def _merge_type(acc: ty.Type, recs: list[dict], heads: list[int], table: pa.Table) -> ty.Type:
    """``ty.merge_rows(acc, recs)`` for the records :func:`_records` made of ``table``, with the columns
    besides ``id``, ``text`` and ``meta`` typed once per column where their Arrow type says what every
    non-null value is (the same type, the fields in the same order: every record holds every column)."""
    plain = {f.name: _PLAIN.get(f.type) for f in table.schema if f.name not in ("id", "text", "meta")}
    if (len(recs) < 2 or not plain or None in plain.values() or -1 in heads
            or not (acc == "null" or (isinstance(acc, dict) and "struct" in acc))):
        return ty.merge_rows(acc, recs)
    acc = ty.merge_rows(acc, recs[:1])  # the first record places every field
    others = [dict(itertools.islice(r.items(), h)) for r, h in zip(recs[1:], heads[1:], strict=True)]
    fields = dict(ty.merge_rows(acc, others)["struct"])
    for name, t in plain.items():
        col = table.column(name).slice(1)
        if col.null_count < len(col):  # a non-null value of type t (a null is "null", which adds nothing)
            cur = fields[name]
            fields[name] = t if cur == "null" else ty.merge(cur, t)
    return {"struct": fields}


def write_quarantine(path: str, rows: list[dict]) -> ty.Type:
    """Write quarantined records (JSON lines, or Parquet where ``path`` ends in ``.parquet``, so that a
    run's outputs share one format); returns their typed union."""
    f = AtomicFile(path)
    t = ty.merge_rows("null", rows)
    if path.endswith(".parquet"):
        fields = t["struct"] if isinstance(t, dict) else {}
        schema = pa.schema([pa.field(k, ty.arrow_type(v)) for k, v in fields.items()])
        cols = [pa.array([ty.conform(r.get(k), v) for r in rows], schema.field(k).type) for k, v in fields.items()]
        pq.write_table(pa.Table.from_arrays(cols, schema=schema), f.tmp, compression="zstd")
    else:
        with open(f.tmp, "wb") as fh:
            for r in rows:
                fh.write(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE))
    f.commit()
    return t
