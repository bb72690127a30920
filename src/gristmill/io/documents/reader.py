"""The document readers of the registry (PDF, DOCX, EPUB, Markdown, reStructuredText): one shard is one
file, read whole up to ``input.max_document_bytes`` and parsed in a child process that is killed after
``input.document_timeout`` seconds, as the ``extract`` step does for pages. A file that is too large,
damaged, encrypted, without text or too slow gets one quarantine entry and one input problem; a document
over ``input.max_record_bytes`` goes to quarantine; so every file is accounted for in the manifest.

>>> import docx, tempfile, os
>>> d = docx.Document(); _ = d.add_paragraph("命名管道是一个像管道一样的文件。")
>>> path = os.path.join(tempfile.mkdtemp(), "pipes.docx"); d.save(path)
>>> from gristmill.io.paths import plan_shards
>>> from gristmill.io.batch import ReadOptions
>>> b = next(read_docx_file(plan_shards([path])[0], ReadOptions(document_timeout=0)))
>>> b.table.column("text").to_pylist(), b.table.column("id").to_pylist()
(['命名管道是一个像管道一样的文件。'], ['pipes.docx'])
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from collections.abc import Iterator

import orjson

from gristmill.io.batch import ReadBatch, ReadOptions, make_table
from gristmill.io.documents.pdf import DocumentError
from gristmill.io.paths import Shard
from gristmill.io.quarantine import quarantine_entry
from gristmill.io.stream import open_stream, sniff


def parse(kind: str, data: bytes | str, unit: str, strip: bool = False, limit: int = 0) -> tuple[list[dict], int]:
    """``(records, blank units)`` of one document file of format ``kind``; ``limit``: the most bytes a DOCX
    or EPUB may decompress to."""
    from gristmill.io.documents import units

    if kind == "pdf":
        return units.pdf_records(data, unit)
    if kind == "docx":
        return units.docx_records(data, unit, limit)
    if kind == "epub":
        return units.epub_records(data, unit, limit)
    return units.markup_records(data, kind, unit, strip)


def _outcome(kind, data, unit, strip, limit) -> tuple:
    try:
        return ("ok", *parse(kind, data, unit, strip, limit))
    except DocumentError as e:
        return ("error", str(e), 0)
    except Exception as e:  # noqa: BLE001 - a parser bug on one file must not end the run
        return ("error", f"cannot read {kind}: {type(e).__name__}: {e}", 0)


def _serve(conn) -> None:  # pragma: no cover - runs in the child process
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(_outcome(*job))


class Parser:
    """Parsing in a child process; a file that takes longer than ``timeout`` seconds kills and replaces
    it (``timeout`` 0: parse in this process, without a limit)."""

    def __init__(self) -> None:
        self.proc = None
        self.conn = None
        self.lock = threading.Lock()   # one file at a time through the pipe

    def __call__(self, kind: str, data, unit: str, strip: bool, limit: int, timeout: float) -> tuple:
        if timeout <= 0:
            return _outcome(kind, data, unit, strip, limit)
        with self.lock:
            return self._call(kind, data, unit, strip, limit, timeout)

    def _call(self, kind: str, data, unit: str, strip: bool, limit: int, timeout: float) -> tuple:
        if self.proc is None or not self.proc.is_alive():
            ctx = mp.get_context("fork")
            self.conn, child = ctx.Pipe()
            self.proc = ctx.Process(target=_serve, args=(child,), daemon=True)
            self.proc.start()
        try:
            self.conn.send((kind, data, unit, strip, limit))
            if self.conn.poll(timeout):
                return self.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as e:  # the child died (out of memory, a crash)
            self._kill()
            return ("error", f"{kind} parser died: {type(e).__name__}", 0)
        self._kill()
        return ("timeout", f"took over {timeout:g} s (input.document_timeout)", 0)

    def _kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
        self.proc = None


_PARSER = Parser()


def _read_bytes(shard: Shard, opts: ReadOptions) -> tuple[bytes, bool]:
    """The file's (decompressed) bytes, at most ``max_document_bytes`` + 1 of them; (data, too_large)."""
    raw, f = open_stream(shard, opts.max_expansion)
    try:
        data = f.read(opts.max_document_bytes + 1)
    finally:
        raw.close()
    return data, len(data) > opts.max_document_bytes


def read_document(shard: Shard, opts: ReadOptions, kind: str) -> Iterator[ReadBatch]:
    """The records of one document file of format ``kind`` (see the module docstring for the limits)."""
    keep = opts.quarantine_bytes
    try:
        data, too_large = _read_bytes(shard, opts)
    except Exception as e:  # noqa: BLE001 - a damaged .gz: one line, like every reader
        why = f"cannot read {shard.source}: {type(e).__name__}: {e}"
        yield ReadBatch(None, [quarantine_entry(shard, 0, why, b"", keep)], problem=why)
        return
    batch = ReadBatch(None, bytes=len(data))
    if too_large:
        why = f"{kind} file is over input.max_document_bytes ({opts.max_document_bytes:,})"
        size = shard.size if shard.compression is None and shard.size > len(data) else len(data)
        batch.quarantine.append(quarantine_entry(shard, 0, why, data[:keep], keep, length=size))
        batch.problem = why
        yield batch
        return
    payload: bytes | str = data
    if kind in ("markdown", "rst"):
        dec = sniff(shard, opts.encoding)
        try:
            payload = data[dec.bom:].decode(dec.name)
        except UnicodeDecodeError as e:
            why = f"invalid {dec.name.upper()} at byte {e.start + dec.bom}"
            batch.quarantine.append(quarantine_entry(shard, 0, why, data[:keep], keep, length=len(data)))
            batch.problem = why
            yield batch
            return
    status, recs, blank = _PARSER(kind, payload, opts.document_unit, opts.strip_markup, opts.max_document_bytes,
                                  opts.document_timeout)
    if status != "ok":
        batch.quarantine.append(quarantine_entry(shard, 0, recs, data[:keep], keep, length=len(data)))
        batch.problem = recs
        yield batch
        return
    batch.blank = blank
    ids, texts, metas = [], [], []
    name = os.path.basename(shard.path)
    for r in recs:
        rid = shard.source + r["id_suffix"]
        size = len(r["text"].encode("utf-8", "surrogatepass"))
        if size > opts.max_record_bytes:
            why = f"document is {size:,} bytes, over input.max_record_bytes ({opts.max_record_bytes:,})"
            batch.quarantine.append(quarantine_entry(shard, 0, f"{rid}: {why}", r["text"][:keep], keep, size))
            continue
        ids.append(rid)
        texts.append(r["text"])
        metas.append(orjson.dumps({**r["meta"], "file": name}).decode())
    if not recs and not blank:
        batch.blank = 1
        batch.problem = "no text"
    if ids:
        batch.table = make_table(ids, texts, metas, is_json=True)
    yield batch


def read_pdf_file(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    return read_document(shard, opts, "pdf")


def read_docx_file(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    return read_document(shard, opts, "docx")


def read_epub_file(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    return read_document(shard, opts, "epub")


def read_markdown_file(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    return read_document(shard, opts, "markdown")


def read_rst_file(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    return read_document(shard, opts, "rst")
