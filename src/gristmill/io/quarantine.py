"""A quarantine entry: where and why a record could not be read, with a bounded prefix of its bytes."""

from __future__ import annotations

import hashlib

from gristmill.io.paths import Shard

QUARANTINE_BYTES = 4096       # default of input.quarantine_bytes


def _preview(raw: bytes) -> str:
    return raw.decode("utf-8", errors="backslashreplace")


def quarantine_entry(shard: Shard, offset: int, error: str, raw: bytes | str, keep: int = QUARANTINE_BYTES,
                     length: int | None = None) -> dict:
    """Where and why, with the record's first ``keep`` bytes (cut at a character boundary), its length
    (``length``: the real one when ``raw`` holds only its start) and the SHA-256 of the bytes held.

    >>> from gristmill.io.paths import Shard
    >>> e = quarantine_entry(Shard(0, "a.jsonl", "a.jsonl", "jsonl", None), 0, "too long", "长" * 3000, keep=8)
    >>> e["raw"], e["raw_bytes"], e["raw_truncated"]
    ('长长', 9000, True)
    """
    entry = {"source": shard.source, "path": shard.path, "offset": offset, "error": error}
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if not data:
        entry["raw"] = ""
        return entry
    k = len(data) if len(data) <= keep else _boundary(data, keep)
    entry["raw"] = _preview(data[:k])
    entry["raw_bytes"] = length if length is not None else len(data)
    entry["raw_truncated"] = entry["raw_bytes"] > k
    entry["raw_sha256"] = hashlib.sha256(data).hexdigest()
    return entry


def _boundary(data: bytes, k: int) -> int:
    """``k`` moved back (at most 3 bytes) to the start of a UTF-8 character."""
    for j in range(k, max(k - 3, 0) - 1, -1):
        if j == len(data) or data[j] & 0xC0 != 0x80:
            return j
    return k
