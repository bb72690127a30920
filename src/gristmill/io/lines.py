"""Lines of a byte stream, in any encoding, with their byte offsets and bounded memory.

A line belongs to the shard in which it *starts*, so byte-range shards of one file read every line exactly
once. In UTF-16/UTF-32 the newline is 2 or 4 bytes and only counts at a position aligned to the code unit.

>>> import io
>>> from gristmill.io.paths import Shard
>>> sh = Shard(0, "x", "x", "text", None)
>>> [(o, b.decode("utf-16-le")) for o, b, _ in lines(sh, io.BytesIO("上\\n下\\n".encode("utf-16-le")), 100,
...                                                    "\\n".encode("utf-16-le"))]
[(0, '上'), (4, '下')]
"""

from __future__ import annotations

from collections.abc import Iterator

from gristmill.io.paths import Shard

BLOCK = 4 << 20


def lines(shard: Shard, f, keep_limit: int, newline: bytes = b"\n", *,
          to_eof: bool = False) -> Iterator[tuple[int, bytes, int]]:
    """(offset, line, length) for lines that start in [start, end) (``to_eof``: and every line after);
    ``line`` lacks its newline. A line longer than ``keep_limit`` is not held whole: only its first
    ``keep_limit`` bytes are returned; ``length`` is its real length."""
    end = None if to_eof else shard.end
    if newline == b"\n":
        return _byte_lines(shard, f, keep_limit, end)
    return _unit_lines(shard, f, keep_limit, newline, end)


def _byte_lines(shard: Shard, f, keep_limit: int, end: int | None) -> Iterator[tuple[int, bytes, int]]:
    """Reads in blocks (read1: what the stream has, so a truncated compressed file gives up every line
    before the damage)."""
    pos = 0
    if shard.start:
        f.seek(shard.start - 1)
        pos = shard.start - 1 + len(f.readline())
    pending: list[bytes] = []
    pending_len = 0   # bytes kept of the line in progress
    length = 0        # its real length so far
    read = getattr(f, "read1", f.read)
    while end is None or pos < end:
        chunk = read(BLOCK)
        if not chunk:
            if length:
                yield pos, b"".join(pending), length
            return
        nl = chunk.find(b"\n")
        if nl < 0:
            length += len(chunk)
            room = max(keep_limit - pending_len, 0)
            if room:
                pending.append(chunk[:room])
                pending_len += min(room, len(chunk))
            continue
        if length:
            room = max(keep_limit - pending_len, 0)
            pending.append(chunk[:min(nl, room)])
            length += nl
            yield pos, b"".join(pending), length
            pos += length + 1
            pending, pending_len, length = [], 0, 0
            chunk = chunk[nl + 1:]
        parts = chunk.split(b"\n")
        last = parts.pop()
        for line in parts:
            if end is not None and pos >= end:
                return
            yield pos, line if len(line) <= keep_limit else line[:keep_limit], len(line)
            pos += len(line) + 1
        if last:
            pending, pending_len, length = [last[:keep_limit]], min(len(last), keep_limit), len(last)


def find_aligned(data: bytes, newline: bytes, start: int = 0) -> int:
    """The first index >= ``start`` where ``newline`` occurs at a multiple of its width, or -1."""
    w = len(newline)
    i = start
    while True:
        j = data.find(newline, i)
        if j < 0 or j % w == 0:
            return j
        i = j + 1


def _sync(shard: Shard, f, newline: bytes) -> tuple[int, bytes] | None:
    """Seek to the first line that starts at or after ``shard.start``: (its offset, bytes read past it)."""
    w = len(newline)
    base = max(0, -(-(shard.start - w) // w) * w)   # first aligned position >= start - w
    f.seek(base)
    buf = b""
    while True:
        chunk = f.read(BLOCK)
        if not chunk:
            return None
        buf += chunk
        j = find_aligned(buf, newline)
        if j >= 0:
            return base + j + w, buf[j + w:]
        keep = len(buf) % w
        base += len(buf) - keep
        buf = buf[len(buf) - keep:] if keep else b""


def _unit_lines(shard: Shard, f, keep_limit: int, newline: bytes,
                end: int | None) -> Iterator[tuple[int, bytes, int]]:
    """The same for a newline of 1-4 bytes that counts only at aligned positions (UTF-16, UTF-32)."""
    w = len(newline)
    pos, carry = 0, b""
    if shard.start:
        synced = _sync(shard, f, newline)
        if synced is None:
            return
        pos, carry = synced
    pending: list[bytes] = []
    pending_len = length = 0

    def take(seg: bytes) -> None:
        nonlocal pending_len, length
        room = max(keep_limit - pending_len, 0)
        if room and seg:
            pending.append(seg[:room])
            pending_len += min(room, len(seg))
        length += len(seg)

    while end is None or pos < end:
        chunk = f.read(BLOCK)
        data = carry + chunk
        cut = len(data) - (len(data) % w if chunk else 0)   # whole code units; the rest waits
        data, carry = data[:cut], data[cut:]
        i = 0
        while True:
            j = find_aligned(data, newline, i)
            if j < 0:
                take(data[i:])
                break
            take(data[i:j])
            if end is not None and pos >= end:
                return
            yield pos, b"".join(pending), length
            pos += length + w
            pending, pending_len, length = [], 0, 0
            i = j + w
        if not chunk:
            if length:
                yield pos, b"".join(pending), length
            return


def previous_line_blank(f, pos: int, newline: bytes, spaces: frozenset[bytes], bom: int = 0) -> bool:
    """Whether the line that ends just before ``pos`` (a line start) holds only spaces, tabs or ``\\r``;
    reads backwards from ``pos`` only as far as that line's spaces go."""
    w = len(newline)
    q = pos - w                     # the newline that ends the previous line
    while q > bom:
        lo = max(bom, (q - BLOCK) // w * w)
        f.seek(lo)
        block = f.read(q - lo)
        for k in range(len(block) - w, -1, -w):
            unit = block[k:k + w]
            if unit == newline:
                return True
            if unit not in spaces:
                return False
        q = lo
    return True
