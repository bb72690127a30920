"""JSON Lines (and text read line by line): one record per line, in the file's encoding.

Ids come from the input's id field, else from the source name and the line's byte offset, so they are
stable whatever the sharding. A line that is not a JSON object, lacks the text field or is over
``max_record_bytes`` goes to quarantine with where and why. With ``input.sft`` set, a line is a
fine-tuning record, checked by :mod:`gristmill.sft.formats`.

>>> import tempfile, pathlib
>>> from gristmill.io.paths import plan_shards
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
>>> _ = p.write_text('{"text": "你好"}\\n[1]\\n', encoding="utf-8")
>>> b = next(read_jsonl(plan_shards([str(p)])[0], ReadOptions()))
>>> b.table.column("text").to_pylist(), b.quarantine[0]["error"]
(['你好'], 'expected a JSON object, got list')
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from gristmill.io.batch import SPACES, ReadBatch, ReadOptions, decode_line, make_table
from gristmill.io.encoding import Decoding
from gristmill.io.lines import lines
from gristmill.io.paths import Shard
from gristmill.io.quarantine import quarantine_entry as _q
from gristmill.io.stream import guarded, open_stream, sniff
from gristmill.record import derived_id, pop_path

_MISSING = object()


def read_jsonl(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    """The registered reader of the ``jsonl`` format: the file's encoding sniffed, then its lines read."""
    return read_lines(shard, opts, sniff(shard, opts.encoding))


def read_lines(shard: Shard, opts: ReadOptions, dec: Decoding) -> Iterator[ReadBatch]:
    """One record per line: a JSON object (``jsonl``) or the line's text (``text`` with ``text_unit: line``)."""
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
    keep, max_bytes, batch_rows, batch_bytes = opts.quarantine_bytes, opts.max_record_bytes, opts.batch_rows, opts.batch_bytes
    parse = _json_parser(opts)
    try:
        for offset, line, length in guarded(lines(shard, f, max_bytes + 4, dec.newline), shard):  # +4: a BOM
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
            if length > max_bytes:
                batch.quarantine.append(_q(shard, offset, f"record is {length:,} bytes, over "
                                           f"input.max_record_bytes ({max_bytes:,})",
                                           line[:max_bytes], keep, length))
                continue
            if not utf8 and err:
                batch.quarantine.append(_q(shard, offset, err, line, keep))
                continue
            if is_json:
                rec, err = parse(body)
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
            if len(ids) >= batch_rows or size >= batch_bytes:
                batch.table = make_table(ids, texts, metas, is_json, enc)
                yield batch
                ids, texts, metas, size, batch = [], [], [], 0, ReadBatch(None)
    finally:
        raw.close()
    if ids:
        batch.table = make_table(ids, texts, metas, is_json, enc)
    if batch.table is not None or batch.quarantine or batch.blank or batch.bytes or batch.problem:
        yield batch


def _json_parser(opts: ReadOptions):
    """The function that parses one line for these options: ``(text, id or None, meta JSON or None), None``
    or ``None, why`` (the settings looked up once, not per line)."""
    tf, idf, sft = opts.text_field, opts.id_field, opts.sft
    pop_text = ((lambda rec: rec.pop(tf, _MISSING)) if "." not in tf
                else (lambda rec: pop_path(rec, tf, _MISSING)))
    pop_id = (lambda rec: rec.pop(idf, None)) if "." not in idf else (lambda rec: pop_path(rec, idf, None))
    loads, dumps, decode_error = orjson.loads, orjson.dumps, orjson.JSONDecodeError

    def parse(body: bytes | str) -> tuple[tuple | None, str | None]:
        try:
            rec = loads(body)
        except decode_error as e:
            try:
                if isinstance(body, bytes):
                    body.decode("utf-8")
            except UnicodeDecodeError as u:
                return None, f"invalid UTF-8 at byte {u.start} of the line (binary or mis-encoded data)"
            return None, f"invalid JSON: {e}"
        if type(rec) is not dict:
            return None, f"expected a JSON object, got {type(rec).__name__}"
        if sft:
            return _parse_sft(rec, opts)
        text = pop_text(rec)
        if type(text) is not str:
            if text is _MISSING:
                return None, f"missing text field '{tf}'"
            if not isinstance(text, str):
                return None, f"text field '{tf}' is {type(text).__name__}, expected a string"
        rid = pop_id(rec)
        if rid is not None and type(rid) is not str:
            if isinstance(rid, int) and not isinstance(rid, bool):
                rid = str(rid)
            else:
                return None, f"id field '{idf}' is {type(rid).__name__}, expected a string or integer"
        return (text, rid, dumps(rec) if rec else None), None  # meta: bytes; Arrow takes them as UTF-8 text

    return parse


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
