"""Read a shard into Arrow batches; records that cannot be read go to quarantine with where and why.

Every record the reader meets ends up either in a batch or in the quarantine list, so counts reconcile.
Ids come from the input's id field, else from the source name and the record's byte offset (JSONL/text
lines) or row number (Parquet), so they are stable whatever the sharding or worker count.

The reader of each format is looked up by the shard's format in :mod:`gristmill.io.formats`; the batch
types live in :mod:`gristmill.io.batch` and the stream helpers in :mod:`gristmill.io.stream` (all
re-exported here, their old home).

>>> import tempfile, pathlib
>>> from gristmill.io.paths import plan_shards
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
>>> _ = p.write_text('{"text": "hello"}\\n', encoding="utf-8")
>>> [b.table.column("text").to_pylist() for b in read_shard(plan_shards([str(p)])[0], ReadOptions())]
[['hello']]
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import fsspec
import fsspec.implementations.local

from gristmill.io.batch import SCHEMA, SPACES, ReadBatch, ReadOptions, decode_line, make_table, with_encoding
from gristmill.io.formats import read_with
from gristmill.io.paths import Shard
from gristmill.io.quarantine import quarantine_entry
from gristmill.io.stream import guarded, open_stream, sniff, stream_error

__all__ = ["SCHEMA", "SPACES", "ReadBatch", "ReadOptions", "decode_line", "guarded", "make_table", "open_stream",
           "quarantine_entry", "read_shard", "sniff", "stream_error", "with_encoding"]


def read_shard(shard: Shard, opts: ReadOptions) -> Iterator[ReadBatch]:
    """The shard's records in batches. A file that vanished, cannot be opened (permission, symlink loop)
    or is not a regular file ends the shard with one quarantine entry and a file problem, not an error."""
    try:
        why = _not_a_file(shard)
        if why is None:
            yield from read_with(shard.format)(shard, opts)
            return
    except OSError as e:
        why = f"cannot read {shard.source}: {e.strerror or type(e).__name__}"
    yield ReadBatch(None, [quarantine_entry(shard, 0, why, b"")], problem=why)


def _not_a_file(shard: Shard) -> str | None:
    """Why a local file cannot be read (a FIFO would block; a directory), or None."""
    fs, p = fsspec.core.url_to_fs(shard.path)
    if not isinstance(fs, fsspec.implementations.local.LocalFileSystem):
        return None
    mode = os.stat(p).st_mode
    if stat.S_ISDIR(mode) and shard.format == "code":  # a source tree (gristmill.code.reader)
        return None
    return None if stat.S_ISREG(mode) else f"cannot read {shard.source}: not a regular file"
