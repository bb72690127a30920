"""WARC input (FastWARC): response and resource records become documents whose text is the decoded page;
url, date, record id, MIME type and the charset decision travel as fields. A corrupt record never stops the
file: the reader notes the damage in quarantine, searches for the next record (the next gzip member or
``WARC/1.`` line) and goes on. Records of other MIME types are counted as skipped, not read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import fsspec
import orjson
import pyarrow as pa

from gristmill.io.batch import SCHEMA, ReadBatch, ReadOptions
from gristmill.io.charset import decode_html
from gristmill.io.paths import Shard

TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")


def _dechunk(body: bytes) -> bytes:
    out, pos = [], 0
    while pos < len(body):
        nl = body.find(b"\r\n", pos)
        if nl < 0:
            break
        try:
            size = int(body[pos:nl].split(b";")[0].strip() or b"0", 16)
        except ValueError:
            return body  # not really chunked
        if size == 0:
            break
        out.append(body[nl + 2:nl + 2 + size])
        pos = nl + 2 + size + 2
    return b"".join(out)


def _http_decode(body: bytes, transfer: str | None, encoding: str | None) -> bytes:
    """Undo chunked transfer encoding and gzip/deflate/brotli content encoding when the crawler kept them."""
    if transfer and "chunked" in transfer.lower():
        body = _dechunk(body)
    enc = (encoding or "").lower().strip()
    try:
        if enc in ("gzip", "x-gzip") or body[:2] == b"\x1f\x8b":
            import gzip

            body = gzip.decompress(body)
        elif enc == "deflate":
            import zlib

            try:
                body = zlib.decompress(body)
            except zlib.error:
                body = zlib.decompress(body, -zlib.MAX_WBITS)
        elif enc == "br":
            import brotli  # optional; resiliparse/warcio users usually have it

            body = brotli.decompress(body)
    except Exception:  # noqa: BLE001 - keep the raw bytes; decoding will show what they are
        pass
    return body


def _resync(f, start: int, gz: bool) -> int | None:
    """Offset of the next plausible record start at or after ``start``, or None."""
    marker = b"\x1f\x8b\x08" if gz else b"WARC/1."
    f.seek(start)
    pos = start
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            return None
        i = chunk.find(marker)
        if i >= 0:
            return pos + i
        pos += len(chunk) - len(marker)
        f.seek(pos)


def read_warc(shard: Shard, opts: ReadOptions, mime_types=TEXT_TYPES) -> Iterator[ReadBatch]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    fs, path = fsspec.core.url_to_fs(shard.path)
    size = fs.size(path)
    gz = path.endswith(".gz")
    ids, texts, metas = [], [], []
    batch = ReadBatch(None)
    with fs.open(path, "rb") as f:
        start = 0
        while start is not None and start < size:
            f.seek(start)
            last_end = start
            try:
                it = ArchiveIterator(f, record_types=WarcRecordType.response | WarcRecordType.resource,
                                     parse_http=True)
                for rec in it:
                    pos = rec.stream_pos
                    ctype = ""
                    status = None
                    if rec.http_headers is not None:
                        ctype = rec.http_headers.get("Content-Type") or ""
                        status = rec.http_headers.status_code
                    else:
                        ctype = rec.headers.get("Content-Type") or ""
                    mime = ctype.split(";")[0].strip().lower()
                    body = rec.reader.read()
                    if rec.http_headers is not None:
                        body = _http_decode(body, rec.http_headers.get("Transfer-Encoding"),
                                            rec.http_headers.get("Content-Encoding"))
                    last_end = pos + 1
                    batch.bytes += len(body)
                    if mime not in mime_types:
                        batch.skipped += 1
                        continue
                    if len(body) > opts.max_record_bytes:
                        batch.quarantine.append(_q(shard, pos, f"record is {len(body):,} bytes, over "
                                                   f"input.max_record_bytes ({opts.max_record_bytes:,})", body))
                        continue
                    text, enc, how = decode_html(body, ctype)
                    rid = (rec.record_id or "").strip("<>").removeprefix("urn:uuid:")
                    ids.append(rid or f"{shard.source}:{pos}")
                    texts.append(text)
                    metas.append(orjson.dumps({
                        "url": (rec.headers.get("WARC-Target-URI") or "").strip("<>") or None, "date": rec.headers.get("WARC-Date"),
                        "warc_type": rec.headers.get("WARC-Type"), "content_type": mime, "http_status": status,
                        "charset": enc, "charset_source": how}).decode())
                    if len(ids) >= opts.batch_rows:
                        batch.table = pa.Table.from_arrays([pa.array(ids, pa.string()), pa.array(texts, pa.string()),
                                                            pa.array(metas, pa.string())], schema=SCHEMA)
                        yield batch
                        ids, texts, metas, batch = [], [], [], ReadBatch(None)
                start = None
            except Exception as e:  # a damaged record: note it, find the next record, continue
                msg = f"corrupt WARC data after byte {last_end}: {type(e).__name__}: {e}"
                batch.quarantine.append(_q(shard, last_end, msg, b""))
                batch.problem = msg
                nxt = _resync(f, max(last_end, 1) + 1, gz)
                start = nxt
    if ids:
        batch.table = pa.Table.from_arrays([pa.array(ids, pa.string()), pa.array(texts, pa.string()),
                                            pa.array(metas, pa.string())], schema=SCHEMA)
    if batch.table is not None or batch.quarantine or batch.skipped or batch.bytes:
        yield batch


def read_html_file(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    """A plain .html file is one document, decoded by BOM, meta tag, or detection."""
    fs, path = fsspec.core.url_to_fs(shard.path)
    with fs.open(path, "rb") as f:
        data = f.read(opts.max_record_bytes + 1)
    batch = ReadBatch(None, bytes=len(data))
    if len(data) > opts.max_record_bytes:
        batch.quarantine.append(_q(shard, 0, "file is over input.max_record_bytes", data[:4096]))
    elif not data.strip():
        batch.blank = 1
        batch.problem = "empty file"
    else:
        text, enc, how = decode_html(data)
        meta = orjson.dumps({"url": None, "content_type": "text/html", "charset": enc,
                             "charset_source": how, "file": os.path.basename(path)}).decode()
        batch.table = pa.Table.from_arrays([pa.array([shard.source]), pa.array([text]), pa.array([meta])],
                                           schema=SCHEMA)
    yield batch


def _q(shard: Shard, offset: int, error: str, raw: bytes) -> dict:
    return {"source": shard.source, "path": shard.path, "offset": offset, "error": error,
            "raw": raw[:65536].decode("utf-8", "backslashreplace")}
