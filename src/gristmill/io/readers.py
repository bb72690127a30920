"""Read a shard into Arrow batches; records that cannot be read go to quarantine with where and why.

Every record the reader meets ends up either in a batch or in the quarantine list, so counts reconcile.
Ids come from the input's id field, else from the source name and the record's byte offset (JSONL/text
lines) or row number (Parquet), so they are stable whatever the sharding or worker count.
"""

from __future__ import annotations

import io
import os
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import fsspec
import fsspec.implementations.local
import orjson
import pyarrow as pa

from gristmill.io.decompress import Decompressed, ExpansionError
from gristmill.io.encoding import SNIFF_BYTES, Decoding, decide
from gristmill.io.lines import lines
from gristmill.io.paths import Shard
from gristmill.io.quarantine import QUARANTINE_BYTES, quarantine_entry
from gristmill.record import derived_id, pop_path

SPACES = " \t\r\x0b\x0c"   # what a blank line may hold


@dataclass
class ReadOptions:
    text_field: str = "text"
    id_field: str = "id"
    text_unit: str = "file"          # text format: "file", "paragraph" or "line"
    encoding: str = "auto"           # text/JSONL/CSV: "auto" or a Python codec (gristmill.io.encoding)
    max_record_bytes: int = 32 * 2**20
    batch_rows: int = 2000
    batch_bytes: int = 16 * 2**20
    sft: str | None = None           # fine-tuning records: "auto" or a format name (gristmill.sft.formats)
    max_expansion: float = 200       # .gz/.zst: decompressed/compressed size limit per file (0: none)
    quarantine_bytes: int = QUARANTINE_BYTES  # raw bytes kept per quarantined record


@dataclass
class ReadBatch:
    table: pa.Table | None
    quarantine: list[dict] = field(default_factory=list)
    blank: int = 0          # blank lines skipped (not records)
    skipped: int = 0        # WARC records of other MIME types (not text documents)
    bytes: int = 0          # input bytes consumed (decompressed)
    problem: str | None = None  # a file-level problem, reported in the manifest
    encoding: dict | None = None  # how the file was decoded (text, JSONL, CSV), reported in the manifest


_MISSING = object()
SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("meta", pa.string())])


def open_stream(shard: Shard, max_expansion: float = 0):
    """(raw file, decompressed stream); ``max_expansion``: see :mod:`gristmill.io.decompress`."""
    fs, path = fsspec.core.url_to_fs(shard.path)
    if isinstance(fs, fsspec.implementations.local.LocalFileSystem):
        raw = open(path, "rb", buffering=1 << 20)  # noqa: SIM115 - closed by the caller
    else:
        raw = fs.open(path, "rb")
    if shard.compression in ("gzip", "zstd"):
        return raw, io.BufferedReader(Decompressed(raw, shard.compression, max_expansion), 1 << 16)
    return raw, raw


def stream_error(e: Exception, shard: Shard) -> str:
    kind = {"gzip": "gzip", "zstd": "zstd"}.get(shard.compression or "", "file")
    if isinstance(e, EOFError):
        return f"truncated {kind} stream: {e}"
    if isinstance(e, ExpansionError):
        return f"{kind} stream {e}"
    return f"corrupt {kind} stream: {type(e).__name__}: {e}"


def read_shard(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    """The shard's records in batches. A file that vanished, cannot be opened (permission, symlink loop)
    or is not a regular file ends the shard with one quarantine entry and a file problem, not an error."""
    try:
        why = _not_a_file(shard)
        if why is None:
            yield from _read_shard(shard, opts)
            return
    except OSError as e:
        why = f"cannot read {shard.source}: {e.strerror or type(e).__name__}"
    yield ReadBatch(None, [_q(shard, 0, why, b"")], problem=why)


def _not_a_file(shard: Shard) -> str | None:
    """Why a local file cannot be read (a FIFO would block; a directory), or None."""
    fs, p = fsspec.core.url_to_fs(shard.path)
    if not isinstance(fs, fsspec.implementations.local.LocalFileSystem):
        return None
    mode = os.stat(p).st_mode
    return None if stat.S_ISREG(mode) else f"cannot read {shard.source}: not a regular file"


def _read_shard(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    if shard.format == "warc":
        from gristmill.io.warc import read_warc

        yield from read_warc(shard, opts)
    elif shard.format == "html":
        from gristmill.io.warc import read_html_file

        yield from read_html_file(shard, opts)
    elif shard.format == "parquet":
        yield from _read_parquet(shard, opts)
    elif shard.format in ("csv", "tsv"):
        from gristmill.io.csvfile import read_csv

        yield from read_csv(shard, opts, sniff(shard, opts.encoding))
    elif shard.format == "text" and opts.text_unit in ("file", "paragraph"):
        from gristmill.io.textfile import read_paragraphs, read_text_file

        reader = read_text_file if opts.text_unit == "file" else read_paragraphs
        yield from reader(shard, opts, sniff(shard, opts.encoding))
    else:
        yield from _read_lines(shard, opts, sniff(shard, opts.encoding))


def sniff(shard: Shard, setting: str) -> Decoding:
    """The decoding of ``shard``'s file, decided on the file's first bytes (the same for all its shards)."""
    n = SNIFF_BYTES if setting == "auto" or setting.lower().replace("_", "-") in ("utf-16", "utf-32") else 4
    chunks: list[bytes] = []
    got = 0
    try:
        raw, f = open_stream(replace(shard, start=0, end=None))
        try:
            while got < n:
                chunk = f.read(n - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        finally:
            raw.close()
    except Exception:  # a damaged stream: decide on what could be read; the reader reports the damage
        pass
    prefix = b"".join(chunks)
    return decide(prefix, setting, whole=got < n)


def guarded(it: Iterator, shard: Shard) -> Iterator:
    """The items of ``it``; a damaged stream ends it with one ``(None, message, 0)`` item."""
    try:
        yield from it
    except (EOFError, OSError, zlib.error, ValueError) as e:
        if type(e).__name__ == "UnsupportedOperation":
            raise
        yield None, stream_error(e, shard), 0
    except Exception as e:  # zstandard.ZstdError and friends
        yield None, stream_error(e, shard), 0


def decode_line(line: bytes, dec: Decoding) -> tuple[str | None, str | None]:
    """(text, None) or (None, why): a line's bytes in the file's encoding, without a trailing ``\r``."""
    try:
        text = line.decode(dec.name)
    except UnicodeDecodeError as e:
        return None, f"invalid {dec.name.upper()} at byte {e.start} of the line"
    return (text[:-1] if text.endswith("\r") else text), None


def _read_lines(shard: Shard, opts: ReadOptions, dec: Decoding) -> Iterator[ReadBatch]:
    is_json = shard.format == "jsonl"
    enc = None if opts.encoding == "utf-8" else dec
    w, utf8 = len(dec.newline), dec.is_utf8
    ids: list[str] = []
    texts: list[str] = []
    metas: list[str | None] = []
    batch = ReadBatch(None, encoding=dec.to_dict())
    size = 0
    raw, f = open_stream(shard, opts.max_expansion)
    last = shard.start
    keep = opts.quarantine_bytes
    try:
        for offset, line, length in guarded(lines(shard, f, opts.max_record_bytes + 4, dec.newline), shard):  # +4: a BOM
            if offset is None:
                batch.quarantine.append(_q(shard, last, line, b""))
                batch.problem = line
                break
            last = offset + length + w
            batch.bytes += length + w
            if offset == 0 and dec.bom:
                line, length = line[dec.bom:], length - dec.bom
            if utf8:
                body = line[:-1] if line.endswith(b"\r") else line
                blank = (not body or body[:1] in b" \t\r\x0b\x0c") and not body.strip()
            else:
                body, err = decode_line(line, dec) if len(line) == length else ("x", None)
                blank = err is None and not body.strip(SPACES)
            if blank and len(line) == length:
                batch.blank += 1
                continue
            if length > opts.max_record_bytes:
                batch.quarantine.append(_q(shard, offset, f"record is {length:,} bytes, over "
                                           f"input.max_record_bytes ({opts.max_record_bytes:,})",
                                           line[:opts.max_record_bytes], keep, length))
                continue
            if not utf8 and err:
                batch.quarantine.append(_q(shard, offset, err, line, keep))
                continue
            if is_json:
                rec, err = _parse_json(body, opts)
                if err:
                    batch.quarantine.append(_q(shard, offset, err, line, keep))
                    continue
                text, rid, meta = rec
                ids.append(rid if rid is not None else derived_id(shard.source, offset))
                texts.append(text)
                metas.append(meta)
            else:
                if utf8:
                    try:
                        body = body.decode("utf-8")
                    except UnicodeDecodeError as e:
                        batch.quarantine.append(_q(shard, offset, f"invalid UTF-8 at byte {e.start} of the line",
                                                   line, keep))
                        continue
                ids.append(derived_id(shard.source, offset))
                texts.append(body)
                metas.append(None)
            size += len(body)
            if len(ids) >= opts.batch_rows or size >= opts.batch_bytes:
                batch.table = make_table(ids, texts, metas, is_json, enc)
                yield batch
                ids, texts, metas, size, batch = [], [], [], 0, ReadBatch(None)
    finally:
        raw.close()
    if ids:
        batch.table = make_table(ids, texts, metas, is_json, enc)
    if batch.table is not None or batch.quarantine or batch.blank or batch.bytes or batch.problem:
        yield batch


def make_table(ids, texts, metas, is_json, enc: Decoding | None = None) -> pa.Table:
    cols = [pa.array(ids, pa.string()), pa.array(texts, pa.string())]
    t = (pa.Table.from_arrays([*cols, pa.array(metas, pa.string())], schema=SCHEMA) if is_json
         else pa.Table.from_arrays(cols, names=["id", "text"]))
    return with_encoding(t, enc)


def with_encoding(t: pa.Table, enc: Decoding | None) -> pa.Table:
    """The ``encoding`` and ``encoding_confidence`` columns (none when ``input.encoding`` is utf-8)."""
    if enc is None:
        return t
    n = t.num_rows
    t = t.append_column("encoding", pa.array([enc.name] * n, pa.string()))
    return t.append_column("encoding_confidence", pa.array([enc.confidence] * n, pa.float64()))


def _parse_json(body: bytes | str, opts: ReadOptions) -> tuple[tuple | None, str | None]:
    try:
        rec = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        try:
            if isinstance(body, bytes):
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


_q = quarantine_entry


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
