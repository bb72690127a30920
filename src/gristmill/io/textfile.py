"""Plain text as one document per file or per paragraph (``input.text_unit``; ``line`` is the line reader's).

A paragraph is a run of lines without a blank line (one that holds only spaces, tabs or ``\\r``) between
them; its lines are joined with ``\\n``. Like a line, a paragraph belongs to the byte-range shard in which it
starts: a shard skips the end of a paragraph begun before it and reads past its own end to finish its last
one. Ids are ``SOURCE`` for a file and ``SOURCE:OFFSET`` (the paragraph's first byte) for a paragraph.

>>> import tempfile, pathlib
>>> from gristmill.io.paths import plan_shards
>>> from gristmill.io.readers import ReadOptions, read_shard
>>> p = pathlib.Path(tempfile.mkdtemp()) / "README.md"
>>> _ = p.write_text("# 标题\\n第一段。\\n\\nSecond paragraph,\\ntwo lines.\\n", encoding="gbk")
>>> opts = ReadOptions(text_unit="paragraph", encoding="gbk")
>>> [b.table.column("text").to_pylist() for b in read_shard(plan_shards([str(p)])[0], opts)]
[['# 标题\\n第一段。', 'Second paragraph,\\ntwo lines.']]
"""

from __future__ import annotations

from collections.abc import Iterator

from gristmill.io.batch import SPACES, ReadBatch, ReadOptions, decode_line, make_table
from gristmill.io.encoding import Decoding
from gristmill.io.jsonl import read_lines
from gristmill.io.lines import lines, previous_line_blank
from gristmill.io.paths import Shard
from gristmill.io.quarantine import quarantine_entry as _q
from gristmill.io.stream import guarded, open_stream, sniff, stream_error
from gristmill.record import derived_id


def read_text(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    """The registered reader of the ``text`` format: by ``opts.text_unit``, the file, its paragraphs or its
    lines (the line reader of :mod:`gristmill.io.jsonl`) as documents."""
    dec = sniff(shard, opts.encoding)
    reader = {"file": read_text_file, "paragraph": read_paragraphs}.get(opts.text_unit, read_lines)
    return reader(shard, opts, dec)


def _enc(opts: ReadOptions, dec: Decoding) -> Decoding | None:
    return None if opts.encoding == "utf-8" else dec


def read_text_file(shard: Shard, opts: ReadOptions, dec: Decoding) -> Iterator[ReadBatch]:
    """The whole file as one document (at most ``max_record_bytes``); only the shard at byte 0 reads it."""
    if shard.start:
        return
    raw, f = open_stream(shard, opts.max_expansion)
    batch = ReadBatch(None, encoding=dec.to_dict())
    try:
        data = f.read(opts.max_record_bytes + 1)
    except Exception as e:
        batch.quarantine.append(_q(shard, 0, stream_error(e, shard), b""))
        batch.problem = batch.quarantine[-1]["error"]
        yield batch
        return
    finally:
        raw.close()
    batch.bytes = len(data)
    if len(data) > opts.max_record_bytes:
        batch.quarantine.append(_q(shard, 0, f"file is over input.max_record_bytes "
                                             f"({opts.max_record_bytes:,})",
                                   data, opts.quarantine_bytes))
        yield batch
        return
    try:
        text = data[dec.bom:].decode(dec.name)
    except UnicodeDecodeError as e:
        batch.quarantine.append(_q(shard, e.start + dec.bom, f"invalid {dec.name.upper()} at byte "
                                                              f"{e.start + dec.bom}", data, opts.quarantine_bytes))
        yield batch
        return
    if not text.strip():
        batch.blank = 1
        batch.problem = "empty file"
    else:
        batch.table = make_table([shard.source], [text], [None], False, _enc(opts, dec))
    yield batch


class _Paragraph:
    def __init__(self, offset: int, limit: int) -> None:
        self.offset, self.limit = offset, limit
        self.texts: list[str] = []
        self.raw: list[bytes] = []
        self.size = 0
        self.error: str | None = None

    def add(self, line: bytes, length: int, text: str | None, error: str | None, newline: bytes) -> None:
        self.size += length + (len(newline) if self.raw or self.size else 0)
        if self.size <= self.limit:
            self.raw.append(line)
            self.texts.append(text or "")
        if error and not self.error:
            self.error = f"{error} (the paragraph's line {len(self.texts)})"


def read_paragraphs(shard: Shard, opts: ReadOptions, dec: Decoding) -> Iterator[ReadBatch]:
    newline = dec.newline
    w = len(newline)
    spaces = frozenset(c.encode(dec.name) for c in SPACES)
    limit = opts.max_record_bytes
    ids: list[str] = []
    texts: list[str] = []
    batch = ReadBatch(None, encoding=dec.to_dict())
    size = 0
    para: _Paragraph | None = None
    skipping = None
    raw, f = open_stream(shard, opts.max_expansion)

    def emit(p: _Paragraph) -> None:
        nonlocal size
        if p.size > limit:
            why = f"paragraph is {p.size:,} bytes, over input.max_record_bytes ({limit:,})"
            batch.quarantine.append(_q(shard, p.offset, why, newline.join(p.raw), opts.quarantine_bytes, p.size))
        elif p.error:
            batch.quarantine.append(_q(shard, p.offset, p.error, newline.join(p.raw), opts.quarantine_bytes))
        else:
            ids.append(derived_id(shard.source, p.offset))
            texts.append("\n".join(p.texts))
            size += p.size

    try:
        for offset, line, length in guarded(lines(shard, f, limit + 4, newline, to_eof=True), shard):  # +4: a BOM
            if offset is None:
                batch.quarantine.append(_q(shard, shard.start, line, b""))
                batch.problem = line
                break
            if skipping is None:   # does the shard start inside a paragraph begun before it?
                skipping = bool(shard.start) and offset > 0 and not _blank_before(shard, offset, newline,
                                                                                  spaces, dec.bom)
            mine = shard.end is None or offset < shard.end
            if mine:
                batch.bytes += length + w
            if offset == 0 and dec.bom:
                line, length = line[dec.bom:], length - dec.bom
            text, err = decode_line(line, dec) if len(line) == length else (None, None)
            blank = text is not None and not text.strip(SPACES)
            if blank:
                batch.blank += mine
                skipping = False
                if para is not None:
                    emit(para)
                    para = None
                if not mine:
                    break
                if len(ids) >= opts.batch_rows or size >= opts.batch_bytes:
                    batch.table = make_table(ids, texts, [None] * len(ids), False, _enc(opts, dec))
                    yield batch
                    ids, texts, size, batch = [], [], 0, ReadBatch(None)
                continue
            if skipping:
                if not mine:
                    break
                continue
            if para is None:
                if not mine:
                    break
                para = _Paragraph(offset, limit)
            para.add(line, length, text, err, newline)
    finally:
        raw.close()
    if para is not None:
        emit(para)
    if ids:
        batch.table = make_table(ids, texts, [None] * len(ids), False, _enc(opts, dec))
    if batch.table is not None or batch.quarantine or batch.blank or batch.bytes or batch.problem:
        yield batch


def _blank_before(shard: Shard, offset: int, newline: bytes, spaces: frozenset[bytes], bom: int) -> bool:
    raw, f = open_stream(shard)
    try:
        return previous_line_blank(f, offset, newline, spaces, bom)
    finally:
        raw.close()
