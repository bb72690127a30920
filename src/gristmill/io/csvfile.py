"""CSV (``.csv``, comma) and TSV (``.tsv``, tab) files with a header row, in any encoding.

The header names the columns; ``input.text_field`` and ``input.id_field`` name the text and id columns and
every other column goes to ``meta`` (so JSONL output keeps it). Ids default to ``SOURCE:ROW`` (the data row,
from 0). A row that is not decodable, has more or fewer fields than the header, lacks the text column or is
over ``max_record_bytes`` goes to quarantine with its (escaped) bytes; a CSV file is one shard.

>>> import tempfile, pathlib
>>> from gristmill.io.paths import plan_shards
>>> from gristmill.io.readers import ReadOptions, read_shard
>>> p = pathlib.Path(tempfile.mkdtemp()) / "reviews.csv"
>>> _ = p.write_bytes("label,review\\n1,\\"房间干净，早餐不错\\"\\n0,太吵\\n".encode("gbk"))
>>> t = next(read_shard(plan_shards([str(p)])[0], ReadOptions(text_field="review", encoding="gbk"))).table
>>> t.column("text").to_pylist(), t.column("meta").to_pylist()[0], t.column("encoding")[0].as_py()
(['房间干净，早餐不错', '太吵'], '{"label":"1"}', 'gb18030')
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator

import orjson

from gristmill.io.batch import ReadBatch, ReadOptions, make_table
from gristmill.io.encoding import Decoding
from gristmill.io.paths import Shard
from gristmill.io.quarantine import quarantine_entry as _q
from gristmill.io.stream import open_stream, sniff, stream_error
from gristmill.record import derived_id

_ESCAPE = "gristmill.escape"
_ESCAPED = re.compile("[\udc00-\udcff]")


def _escape(e: UnicodeDecodeError) -> tuple[str, int]:
    """Undecodable bytes become U+DC00+byte (like surrogateescape, for every byte value), so one bad row
    does not stop the file; a decoded text never holds a lone surrogate otherwise."""
    return "".join(chr(0xDC00 + b) for b in e.object[e.start:e.end]), e.end


codecs.register_error(_ESCAPE, _escape)


def _raw(values: list[str]) -> str:
    line = ",".join(values)
    return _ESCAPED.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", line)


class _Counted(io.RawIOBase):
    """A byte stream that counts what is read from it (the manifest's input bytes)."""

    def __init__(self, f) -> None:
        self.f, self.n = f, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.f.read(len(b))
        b[:len(data)] = data
        self.n += len(data)
        return len(data)


def read_csv_file(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    """The registered reader of the ``csv`` and ``tsv`` formats: the file's encoding sniffed, then read."""
    return read_csv(shard, opts, sniff(shard, opts.encoding))


def read_csv(shard: Shard, opts: ReadOptions, dec: Decoding) -> Iterator[ReadBatch]:
    if shard.start:
        return
    enc = None if opts.encoding == "utf-8" else dec
    batch = ReadBatch(None, encoding=dec.to_dict())
    raw, f = open_stream(shard, opts.max_expansion)
    ids: list[str] = []
    texts: list[str] = []
    metas: list[str | None] = []
    size = 0
    limit = int(opts.max_record_bytes)
    csv.field_size_limit(max(csv.field_size_limit(), limit))
    try:
        counted = _Counted(f)
        counted.read(dec.bom)
        stream = io.TextIOWrapper(io.BufferedReader(counted), encoding=dec.name, errors=_ESCAPE, newline="")
        told = 0
        reader = csv.reader(stream, delimiter="\t" if shard.format == "tsv" else ",")
        header = None
        row_no = -1
        while True:
            try:
                row = next(reader, None)
            except csv.Error as e:
                row_no += header is not None
                why = f"unreadable CSV at line {reader.line_num}: {e}"
                batch.quarantine.append(_q(shard, row_no, why, ""))
                continue
            except Exception as e:
                batch.quarantine.append(_q(shard, row_no + 1, stream_error(e, shard), b""))
                batch.problem = batch.quarantine[-1]["error"]
                break
            if row is None:
                break
            if not row or (len(row) == 1 and not row[0].strip()):
                batch.blank += 1
                continue
            if header is None:
                header = row
                if _ESCAPED.search("".join(header)):
                    batch.problem = f"undecodable header row in {dec.name}"
                continue
            row_no += 1
            err = _problem(row, header, opts, dec)
            if err:
                batch.quarantine.append(_q(shard, row_no, f"line {reader.line_num}: {err}", _raw(row),
                                           opts.quarantine_bytes))
                continue
            rec = dict(zip(header, row, strict=True))
            text = rec.pop(opts.text_field)
            rid = rec.pop(opts.id_field, None)
            ids.append(rid if rid else derived_id(shard.source, row_no))
            texts.append(text)
            metas.append(orjson.dumps(rec).decode() if rec else None)
            size += len(text)
            if len(ids) >= opts.batch_rows or size >= opts.batch_bytes:
                batch.table = make_table(ids, texts, metas, True, enc)
                batch.bytes, told = counted.n - told, counted.n
                yield batch
                ids, texts, metas, size, batch = [], [], [], 0, ReadBatch(None)
        batch.bytes = counted.n - told
    finally:
        raw.close()
    if ids:
        batch.table = make_table(ids, texts, metas, True, enc)
    if batch.table is not None or batch.quarantine or batch.blank or batch.bytes or batch.problem:
        yield batch


def _problem(row: list[str], header: list[str], opts: ReadOptions, dec: Decoding) -> str | None:
    if len(row) != len(header):
        return f"{len(row)} fields, the header has {len(header)}"
    if opts.text_field not in header:
        return f"no text column '{opts.text_field}' (columns: {', '.join(header[:10])})"
    bad = next((i for i, v in enumerate(row) if _ESCAPED.search(v)), None)
    if bad is not None:
        return f"invalid {dec.name.upper()} in column '{header[bad]}'"
    n = sum(len(v) for v in row)
    if n > opts.max_record_bytes:
        return f"row is {n:,} characters, over input.max_record_bytes ({opts.max_record_bytes:,})"
    return None
