"""Opening a shard's bytes: the (decompressed) stream, the file's decoding sniffed from its first bytes, and
one clear line when a stream is damaged. Every reader that reads bytes itself uses these.

>>> from gristmill.io.paths import Shard
>>> stream_error(EOFError("ends early"), Shard(0, "a.jsonl.gz", "a.jsonl.gz", "jsonl", "gzip"))
'truncated gzip stream: ends early'
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import replace

import fsspec
import fsspec.implementations.local

from gristmill.io.decompress import Decompressed, ExpansionError
from gristmill.io.encoding import SNIFF_BYTES, Decoding, decide
from gristmill.io.paths import Shard


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
    """One line saying how a shard's stream is damaged."""
    kind = {"gzip": "gzip", "zstd": "zstd"}.get(shard.compression or "", "file")
    if isinstance(e, EOFError):
        return f"truncated {kind} stream: {e}"
    if isinstance(e, ExpansionError):
        return f"{kind} stream {e}"
    return f"corrupt {kind} stream: {type(e).__name__}: {e}"


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
