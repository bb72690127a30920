"""Streaming gzip/zstd decompression with bounded memory and an expansion limit (``input.max_expansion``).

Each read returns at most the bytes asked for (zlib's ``max_length``; zstandard's stream reader), so a
bomb never sits in memory whole. Data up to a truncation point is returned first; only then does a read
raise :class:`EOFError` (the stdlib gzip module and zstandard's stream reader drop the last block or end
silently). A stream that expands more than ``max_expansion`` times its compressed size (counted once past
:data:`FLOOR` bytes, so small repetitive files pass) raises :class:`ExpansionError`.

>>> import gzip, io
>>> blob = gzip.compress(b"\\0" * 50_000_000)                       # 50 MB of zeros in ~50 KB
>>> r = io.BufferedReader(Decompressed(io.BytesIO(blob), "gzip", max_expansion=10, floor=1 << 20))
>>> try:
...     while r.read1(1 << 20):
...         pass
... except ExpansionError as e:
...     print(e)
expands over 10x its compressed size (input.max_expansion): stopped after 2,097,152 bytes
"""

from __future__ import annotations

import io
import zlib

CHUNK = 1 << 18     # compressed bytes read at a time
FLOOR = 64 << 20    # output below this is never an expansion error
_ZSTD_MAGIC = 0xFD2FB528


class ExpansionError(ValueError):
    """The stream decompresses to more than ``input.max_expansion`` times its compressed size."""


class Decompressed(io.RawIOBase):
    """Decompress every member/frame of a gzip or zstd stream ``raw``, ``len(b)`` bytes at most per read."""

    def __init__(self, raw, kind: str, max_expansion: float = 0, floor: int = FLOOR) -> None:
        self.raw, self.kind = raw, kind
        self.limit, self.floor = max_expansion, floor
        self.out = 0
        if kind == "gzip":
            self.dobj = zlib.decompressobj(wbits=31)
            self.pending = b""
            self.started = False
            self.read_in = 0
        else:
            import zstandard

            self.frames = _Frames(raw)
            self.reader = zstandard.ZstdDecompressor().stream_reader(self.frames, read_size=CHUNK,
                                                                     read_across_frames=True)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self._gzip_into(b) if self.kind == "gzip" else self._zstd_into(b)
        if n and self.limit:
            self.out += n
            consumed = self.read_in - len(self.pending) if self.kind == "gzip" else self.frames.count
            if self.out > self.floor and self.out > self.limit * consumed:
                raise ExpansionError(f"expands over {self.limit:g}x its compressed size (input.max_expansion): "
                                     f"stopped after {self.out:,} bytes")
        return n

    def _gzip_into(self, b) -> int:
        want = len(b)
        if not want:        # max_length=0 would mean "no limit"
            return 0
        while True:
            if not self.pending:
                chunk = self.raw.read(CHUNK)
                if not chunk:
                    if self.started and not self.dobj.eof:
                        raise EOFError("the file ends inside a gzip stream")
                    return 0
                self.read_in += len(chunk)
                self.pending = chunk
            data = self.dobj.decompress(self.pending, want)
            self.started = True
            if self.dobj.eof:      # next member, if any
                self.pending = self.dobj.unused_data
                self.dobj = zlib.decompressobj(wbits=31)
                self.started = bool(self.pending)
            else:
                self.pending = self.dobj.unconsumed_tail
            if data:
                k = len(data)
                b[:k] = data
                return k

    def _zstd_into(self, b) -> int:
        k = self.reader.readinto(b)
        if not k and not self.frames.complete():
            raise EOFError("the file ends inside a zstd frame")
        return k


class _Frames:
    """Passes the compressed bytes through to zstandard, walking the frame and block headers on the way
    (a few bytes per block of up to 128 KiB) to tell a complete stream from a truncated one."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.count = 0
        self.head = b""       # bytes of a header being read
        self.need = 4         # header bytes wanted next
        self.skip = 0         # bytes of content to pass over
        self.state = "magic"
        self.checksum = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(CHUNK if n is None or n < 0 else n)
        self.count += len(data)
        self._walk(data)
        return data

    def complete(self) -> bool:
        return self.state == "magic" and not self.head and not self.skip

    def _walk(self, data: bytes) -> None:
        i, n = 0, len(data)
        while i < n:
            if self.skip:
                step = min(self.skip, n - i)
                self.skip -= step
                i += step
                if self.skip == 0 and self.state == "end":
                    self.state, self.need = "magic", 4
                continue
            take = min(self.need - len(self.head), n - i)
            self.head += data[i:i + take]
            i += take
            if len(self.head) == self.need:
                head, self.head = self.head, b""
                self._header(head)

    def _header(self, head: bytes) -> None:
        if self.state == "magic":
            magic = int.from_bytes(head, "little")
            if magic == _ZSTD_MAGIC:
                self.state, self.need = "fhd", 1
            elif magic & 0xFFFFFFF0 == 0x184D2A50:
                self.state, self.need = "skipsize", 4
            else:   # not zstd: zstandard reports the error itself
                self.state, self.need = "magic", 4
        elif self.state == "skipsize":
            self.state, self.skip = "end", int.from_bytes(head, "little")
            if not self.skip:
                self.state, self.need = "magic", 4
        elif self.state == "fhd":
            fhd = head[0]
            single, fcs_flag, did_flag = (fhd >> 5) & 1, fhd >> 6, fhd & 3
            self.checksum = 4 if (fhd >> 2) & 1 else 0
            rest = (0 if single else 1) + (0, 1, 2, 4)[did_flag] + ((1 if single else 0), 2, 4, 8)[fcs_flag]
            self.state, self.need = "fhrest", rest
            if not rest:
                self.state, self.need = "block", 3
        elif self.state == "fhrest":
            self.state, self.need = "block", 3
        elif self.state == "block":
            h = int.from_bytes(head, "little")
            last, btype, size = h & 1, (h >> 1) & 3, h >> 3
            self.skip = 1 if btype == 1 else size
            if last:
                self.state = "end"
                self.skip += self.checksum
                if not self.skip:
                    self.state, self.need = "magic", 4
            else:
                self.need = 3
