"""Streaming decompression (gristmill.io.decompress) against plain zlib/zstandard on the same bytes.

The corpus is real text (Debian docs and man pages on this machine, repeated to the size asked) and a
gzip/zstd bomb (zeros). Each way decompresses the whole stream; the ratio is streaming / plain, best of 3.

    .venv/bin/python bench/decompress.py [--mb 64]
"""

from __future__ import annotations

import argparse
import gzip
import io
import time
import zlib
from pathlib import Path

import zstandard

from gristmill.io.decompress import Decompressed
from gristmill.io.lines import BLOCK


def corpus(mb: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    for root in ("/usr/share/doc", "/usr/share/common-licenses"):
        for p in sorted(Path(root).rglob("*")):
            if p.is_file() and not p.is_symlink() and p.suffix in ("", ".txt", ".md", ".gz"):
                try:
                    b = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
                except (OSError, EOFError):
                    continue
                parts.append(b)
                size += len(b)
    base = b"".join(parts) or b"no docs here\n"
    return (base * (mb * 2**20 // len(base) + 1))[: mb * 2**20]


def streaming(blob: bytes, kind: str) -> int:
    """What the readers do: read1 of BLOCK bytes from a BufferedReader over :class:`Decompressed`."""
    f = io.BufferedReader(Decompressed(io.BytesIO(blob), kind, max_expansion=0), 1 << 16)
    n = 0
    while chunk := f.read1(BLOCK):
        n += len(chunk)
    return n


def best(fn, reps: int = 3) -> float:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=64)
    a = ap.parse_args()
    text = corpus(a.mb)
    cases = {
        "text gzip -6": (gzip.compress(text, 6, mtime=0), "gzip"),
        "text zstd -3": (zstandard.ZstdCompressor(level=3).compress(text), "zstd"),
        "zeros gzip -9": (gzip.compress(b"\0" * (a.mb * 4 * 2**20), 9, mtime=0), "gzip"),
        "zeros zstd -3": (zstandard.ZstdCompressor(level=3).compress(b"\0" * (a.mb * 4 * 2**20)), "zstd"),
    }
    print(f"{'case':<15} {'MB in':>8} {'MB out':>8} {'plain s':>8} {'stream s':>9} {'ratio':>6}")
    for name, (blob, kind) in cases.items():
        if kind == "gzip":
            plain = best(lambda b=blob: zlib.decompress(b, wbits=31))
        else:
            plain = best(lambda b=blob: zstandard.ZstdDecompressor().decompress(b))
        n = streaming(blob, kind)
        s = best(lambda b=blob, k=kind: streaming(b, k))
        print(f"{name:<15} {len(blob) / 2**20:8.2f} {n / 2**20:8.0f} {plain:8.3f} {s:9.3f} {s / plain:6.2f}")


if __name__ == "__main__":
    main()
