"""Read a shard into Arrow batches; records that cannot be read go to quarantine with where and why.

Every record the reader meets ends up either in a batch or in the quarantine list, so counts reconcile.
Ids come from the input's id field, else from the source name and the record's byte offset (JSONL/text
lines) or row number (Parquet), so they are stable whatever the sharding or worker count.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import fsspec
import fsspec.implementations.local
import orjson
import pyarrow as pa

from gristmill.io.paths import Shard
from gristmill.record import derived_id, pop_path


@dataclass
class ReadOptions:
    text_field: str = "text"
    id_field: str = "id"
    text_unit: str = "line"          # text format: "line" or "file"
    max_record_bytes: int = 32 * 2**20
    batch_rows: int = 2000
    batch_bytes: int = 16 * 2**20
    sft: str | None = None           # fine-tuning records: "auto" or a format name (gristmill.sft.formats)


@dataclass
class ReadBatch:
    table: pa.Table | None
    quarantine: list[dict] = field(default_factory=list)
    blank: int = 0          # blank lines skipped (not records)
    skipped: int = 0        # WARC records of other MIME types (not text documents)
    bytes: int = 0          # input bytes consumed (decompressed)
    problem: str | None = None  # a file-level problem, reported in the manifest


_MISSING = object()
SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("meta", pa.string())])


def _preview(raw: bytes) -> str:
    return raw.decode("utf-8", errors="backslashreplace")


def _open(shard: Shard):
    fs, path = fsspec.core.url_to_fs(shard.path)
    if isinstance(fs, fsspec.implementations.local.LocalFileSystem):
        raw = open(path, "rb", buffering=1 << 20)  # noqa: SIM115 - closed by the caller
    else:
        raw = fs.open(path, "rb")
    if shard.compression in ("gzip", "zstd"):
        return raw, io.BufferedReader(_Decompressed(raw, shard.compression), 1 << 16)
    return raw, raw


class _Decompressed(io.RawIOBase):
    """Decompress every frame/member of a .gz or .zst stream. Data up to a truncation point is returned
    first; only then does a read raise EOFError (the stdlib gzip module and zstandard's stream reader
    either drop the last decoded block or end silently)."""

    def __init__(self, raw, kind: str) -> None:
        self.raw, self.kind = raw, kind
        self.dobj = self._new()
        self.buf = b""
        self.started = False

    def _new(self):
        if self.kind == "gzip":
            return zlib.decompressobj(wbits=31)
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj()

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self.buf:
            chunk = self.raw.read(1 << 20)
            if not chunk:
                if self.started and not self.dobj.eof:
                    raise EOFError(f"the file ends inside a {self.kind} stream")
                return 0
            while chunk:
                self.started = True
                self.buf += self.dobj.decompress(chunk)
                chunk = b""
                if self.dobj.eof:
                    chunk = self.dobj.unused_data
                    self.dobj = self._new()
                    self.started = bool(chunk)
        n = min(len(b), len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n


def _stream_error(e: Exception, shard: Shard) -> str:
    kind = {"gzip": "gzip", "zstd": "zstd"}.get(shard.compression or "", "file")
    if isinstance(e, EOFError):
        return f"truncated {kind} stream: {e}"
    return f"corrupt {kind} stream: {type(e).__name__}: {e}"


BLOCK = 4 << 20


def _lines(shard: Shard, f, keep_limit: int) -> Iterator[tuple[int, bytes, int]]:
    """(offset, line, length) for lines that *start* in [start, end); ``line`` lacks its \\n.

    Reads in blocks (read1: what the stream has, so a truncated compressed file gives up every line
    before the damage). A line longer than ``keep_limit`` is not held whole: only its first
    ``keep_limit`` bytes are returned; ``length`` is its real length.
    """
    pos = 0
    end = shard.end
    if shard.start:
        f.seek(shard.start - 1)
        pos = shard.start - 1 + len(f.readline())
    pending: list[bytes] = []
    pending_len = 0   # bytes kept of the line in progress
    length = 0        # its real length so far
    read = getattr(f, "read1", f.read)
    while end is None or pos < end:
        chunk = read(BLOCK)
        if not chunk:
            if length:
                yield pos, b"".join(pending), length
            return
        nl = chunk.find(b"\n")
        if nl < 0:
            length += len(chunk)
            room = max(keep_limit - pending_len, 0)
            if room:
                pending.append(chunk[:room])
                pending_len += min(room, len(chunk))
            continue
        if length:
            room = max(keep_limit - pending_len, 0)
            pending.append(chunk[:min(nl, room)])
            length += nl
            yield pos, b"".join(pending), length
            pos += length + 1
            pending, pending_len, length = [], 0, 0
            chunk = chunk[nl + 1:]
        lines = chunk.split(b"\n")
        last = lines.pop()
        for line in lines:
            if end is not None and pos >= end:
                return
            yield pos, line if len(line) <= keep_limit else line[:keep_limit], len(line)
            pos += len(line) + 1
        if last:
            pending, pending_len, length = [last[:keep_limit]], min(len(last), keep_limit), len(last)


def read_shard(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    if shard.format == "warc":
        from gristmill.io.warc import read_warc

        yield from read_warc(shard, opts)
    elif shard.format == "html":
        from gristmill.io.warc import read_html_file

        yield from read_html_file(shard, opts)
    elif shard.format == "parquet":
        yield from _read_parquet(shard, opts)
    elif shard.format == "text" and opts.text_unit == "file":
        yield from _read_text_file(shard, opts)
    else:
        yield from _read_lines(shard, opts)


def _read_lines(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    is_json = shard.format == "jsonl"
    ids: list[str] = []
    texts: list[str] = []
    metas: list[str | None] = []
    batch = ReadBatch(None)
    size = 0
    raw, f = _open(shard)
    last = shard.start
    try:
        lines = _lines(shard, f, 2 * opts.max_record_bytes)
        while True:
            try:
                item = next(lines, None)
            except (EOFError, OSError, zlib.error, ValueError) as e:
                if type(e).__name__ == "UnsupportedOperation":
                    raise
                msg = _stream_error(e, shard)
                batch.quarantine.append(_q(shard, last, msg, b""))
                batch.problem = msg
                break
            except Exception as e:  # zstandard.ZstdError and friends
                msg = _stream_error(e, shard)
                batch.quarantine.append(_q(shard, last, msg, b""))
                batch.problem = msg
                break
            if item is None:
                break
            offset, line, length = item
            last = offset + length + 1
            batch.bytes += length + 1
            body = line[:-1] if line.endswith(b"\r") else line
            if (not body or body[:1] in b" \t\r\x0b\x0c") and len(line) == length and not body.strip():
                batch.blank += 1
                continue
            if length > opts.max_record_bytes:
                cut = "" if len(line) == length else f"; raw keeps its first {len(line):,} bytes"
                batch.quarantine.append(_q(shard, offset, f"record is {length:,} bytes, over "
                                           f"input.max_record_bytes ({opts.max_record_bytes:,}){cut}", line))
                continue
            if is_json:
                rec, err = _parse_json(body, opts)
                if err:
                    batch.quarantine.append(_q(shard, offset, err, line))
                    continue
                text, rid, meta = rec
                ids.append(rid if rid is not None else derived_id(shard.source, offset))
                texts.append(text)
                metas.append(meta)
            else:
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError as e:
                    batch.quarantine.append(_q(shard, offset, f"invalid UTF-8 at byte {e.start} of the line", line))
                    continue
                ids.append(derived_id(shard.source, offset))
                texts.append(text)
                metas.append(None)
            size += len(body)
            if len(ids) >= opts.batch_rows or size >= opts.batch_bytes:
                batch.table = _table(ids, texts, metas, is_json)
                yield batch
                ids, texts, metas, size, batch = [], [], [], 0, ReadBatch(None)
    finally:
        raw.close()
    if ids:
        batch.table = _table(ids, texts, metas, is_json)
    if batch.table is not None or batch.quarantine or batch.blank or batch.bytes or batch.problem:
        yield batch


def _table(ids, texts, metas, is_json) -> pa.Table:
    cols = [pa.array(ids, pa.string()), pa.array(texts, pa.string())]
    if is_json:
        return pa.Table.from_arrays([*cols, pa.array(metas, pa.string())], schema=SCHEMA)
    return pa.Table.from_arrays(cols, names=["id", "text"])


def _parse_json(body: bytes, opts: ReadOptions) -> tuple[tuple | None, str | None]:
    try:
        rec = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as u:
            return None, f"invalid UTF-8 at byte {u.start} of the line (binary or mis-encoded data)"
        return None, f"invalid JSON: {e}"
    if not isinstance(rec, dict):
        return None, f"expected a JSON object, got {type(rec).__name__}"
    if opts.sft:
        return _parse_sft(rec, opts)
    text = rec.pop(opts.text_field, _MISSING) if "." not in opts.text_field else pop_path(rec, opts.text_field, _MISSING)
    if text is _MISSING:
        return None, f"missing text field '{opts.text_field}'"
    if not isinstance(text, str):
        return None, f"text field '{opts.text_field}' is {type(text).__name__}, expected a string"
    rid = rec.pop(opts.id_field, None) if "." not in opts.id_field else pop_path(rec, opts.id_field, None)
    if rid is not None:
        if isinstance(rid, str | int) and not isinstance(rid, bool):
            rid = str(rid)
        else:
            return None, f"id field '{opts.id_field}' is {type(rid).__name__}, expected a string or integer"
    meta = orjson.dumps(rec) if rec else None  # bytes; Arrow takes them as UTF-8 text
    return (text, rid, meta), None


def _parse_sft(rec: dict, opts: ReadOptions) -> tuple[tuple | None, str | None]:
    """A fine-tuning record: validated; the text is the conversation as ``role: content`` lines and the whole
    record stays in ``meta`` (it is written back unchanged, with the signal columns beside it)."""
    from gristmill.sft.formats import FormatError, detect, parse
    from gristmill.sft.validate import problems

    try:
        fmt = detect(rec) if opts.sft == "auto" else opts.sft
        sample = parse(rec, fmt)
    except FormatError as e:
        return None, f"not a valid {opts.sft if opts.sft != 'auto' else 'fine-tuning'} record: {e}"
    bad = problems(sample)
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        return None, f"invalid {fmt} record: {bad[0]}{more}"
    rid = rec.pop(opts.id_field, None)
    if rid is not None and not (isinstance(rid, str | int) and not isinstance(rid, bool)):
        return None, f"id field '{opts.id_field}' is {type(rid).__name__}, expected a string or integer"
    rec["_sft_format"] = fmt
    return (sample.plain_text(), None if rid is None else str(rid), orjson.dumps(rec)), None


def _q(shard: Shard, offset: int, error: str, raw: bytes | str) -> dict:
    return {"source": shard.source, "path": shard.path, "offset": offset, "error": error,
            "raw": raw if isinstance(raw, str) else _preview(raw)}


def _read_text_file(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    raw, f = _open(shard)
    batch = ReadBatch(None)
    try:
        data = f.read(opts.max_record_bytes + 1)
    except Exception as e:
        batch.quarantine.append(_q(shard, 0, _stream_error(e, shard), b""))
        batch.problem = batch.quarantine[-1]["error"]
        yield batch
        return
    finally:
        raw.close()
    batch.bytes = len(data)
    if len(data) > opts.max_record_bytes:
        batch.quarantine.append(_q(shard, 0, f"file is over input.max_record_bytes ({opts.max_record_bytes:,})",
                                   data[:4096]))
    elif not data.strip():
        batch.blank = 1
        batch.problem = "empty file"
    else:
        try:
            text = data.decode("utf-8")
            batch.table = _table([shard.source], [text], [None], False)
        except UnicodeDecodeError as e:
            batch.quarantine.append(_q(shard, e.start, f"invalid UTF-8 at byte {e.start}", data))
    yield batch


def _read_parquet(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
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
