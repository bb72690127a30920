"""What every reader yields: the read settings, a batch of records with its quarantine, and the Arrow table
helpers the readers share. Pure data: nothing here opens a file.

>>> t = make_table(["a:0"], ["hello"], [None], is_json=True)
>>> t.column_names, ReadBatch(t).blank
(['id', 'text', 'meta'], 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from gristmill.io.encoding import Decoding
from gristmill.io.quarantine import QUARANTINE_BYTES

SPACES = " \t\r\x0b\x0c"   # what a blank line may hold
SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("meta", pa.string())])


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
    document_unit: str = "file"      # pdf/docx/epub/markdown/rst: "file", "page" (PDF) or "chapter"
    document_timeout: float = 60.0   # seconds one document file may take to parse (0: in-process, no limit)
    max_document_bytes: int = 256 * 2**20  # document files larger than this go to quarantine unread
    strip_markup: bool = False       # markdown/rst: remove the markup, keep the words
    code_max_file_bytes: int = 2**20  # code: larger source files go to quarantine (gristmill.code.reader)
    code_max_archive_members: int = 200_000  # code: files read from one archive or tree
    code_max_archive_bytes: int = 8 * 2**30  # code: uncompressed bytes read from one archive or tree
    code_binary: str = "skip"         # code: binary files counted as skipped, or "quarantine"d with why


@dataclass
class ReadBatch:
    table: pa.Table | None
    quarantine: list[dict] = field(default_factory=list)
    blank: int = 0          # blank lines skipped (not records)
    skipped: int = 0        # WARC records of other MIME types (not text documents)
    bytes: int = 0          # input bytes consumed (decompressed)
    problem: str | None = None  # a file-level problem, reported in the manifest
    encoding: dict | None = None  # how the file was decoded (text, JSONL, CSV), reported in the manifest


def make_table(ids, texts, metas, is_json, enc: Decoding | None = None) -> pa.Table:
    """``id``, ``text`` (and ``meta`` for JSON records) columns, plus the encoding columns of ``enc``."""
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


def decode_line(line: bytes, dec: Decoding) -> tuple[str | None, str | None]:
    """(text, None) or (None, why): a line's bytes in the file's encoding, without a trailing ``\\r``."""
    try:
        text = line.decode(dec.name)
    except UnicodeDecodeError as e:
        return None, f"invalid {dec.name.upper()} at byte {e.start} of the line"
    return (text[:-1] if text.endswith("\r") else text), None
