"""Listing inputs on any fsspec path and cutting them into shards.

A shard is the unit of work: a whole file, a byte range of a large uncompressed JSONL/text file, or a
range of row groups of a Parquet file. Shards depend only on the inputs and ``shard_size``, never on the
number of workers, so the output is the same for 1 or N workers.
"""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass

import fsspec

from gristmill.errors import GristmillError
from gristmill.io import SHARD_TAIL, SHARD_TAIL_MIN, auto_shard_size
from gristmill.io.formats import format_of, formats, reader_format

FORMATS = formats()  # the built-in formats; gristmill.io.formats.formats() also lists those registered later


@dataclass(frozen=True)
class Shard:
    index: int
    path: str            # full fsspec URL or local path
    source: str          # name relative to the input root; ids derive from it
    format: str          # jsonl | parquet | text
    compression: str | None
    start: int = 0       # first byte (jsonl/text) or first row group (parquet)
    end: int | None = None  # one past the last byte / row group; None = to the end
    size: int = 0        # bytes this shard covers, for progress

    def to_dict(self) -> dict:
        return asdict(self)


def detect(path: str, fmt: str = "auto") -> tuple[str, str | None]:
    """(format, compression) from the file name, e.g. ``x.jsonl.zst`` -> ('jsonl', 'zstd'): the suffixes the
    readers registered in :mod:`gristmill.io.formats` claim."""
    return format_of(path, fmt)


def list_inputs(paths: list[str], fmt: str = "auto") -> list[tuple[str, str, int, fsspec.AbstractFileSystem]]:
    """Expand files, folders and globs into a sorted list of (url, source name, size, fs)."""
    out: dict[str, tuple[str, str, int, fsspec.AbstractFileSystem]] = {}
    for p in paths:
        fs, _, roots = fsspec.get_fs_token_paths(p)
        if fmt == "code" and any(c in p for c in "*?["):  # fsspec's glob drops folders; a folder is a source tree
            roots = sorted(fs.glob(fsspec.core.url_to_fs(p)[1]))
        protocol = fs.protocol[0] if isinstance(fs.protocol, tuple) else fs.protocol
        prefix = "" if protocol in ("file", "local") else f"{protocol}://"
        if not roots:
            raise GristmillError(f"input not found: {p}", hint="check the path or glob")
        for root in roots:
            if not fs.exists(root):
                raise GristmillError(f"input not found: {p}", hint="check the path or glob")
            if fs.isdir(root) and fmt == "code":  # a source tree is one input (gristmill.code.reader)
                out[prefix + root] = (prefix + root, posixpath.basename(root.rstrip("/")), _tree_size(fs, root), fs)
            elif fs.isdir(root):
                files = sorted(f for f in fs.find(root) if not posixpath.basename(f).startswith((".", "_")))
                for f in files:
                    if detect(f, fmt)[0]:
                        rel = posixpath.relpath(f, root)
                        out[prefix + f] = (prefix + f, f"{posixpath.basename(root.rstrip('/'))}/{rel}",
                                           _size(fs, f), fs)
            else:
                out[prefix + root] = (prefix + root, posixpath.basename(root), _size(fs, root), fs)
    if not out:
        raise GristmillError(f"no input files found in {', '.join(paths)}",
                             hint="inputs are .jsonl/.json/.parquet/.txt/.md/.csv/.tsv files, optionally "
                                  ".gz or .zst")
    return _unique_sources([out[k] for k in sorted(out)])


def _unique_sources(rows: list[tuple]) -> list[tuple]:
    """Give inputs that share a source name (two folders both called ``data``) names that differ, by
    prefixing their parent folders until each is unique; ids derived from sources then never collide.
    Inputs whose names are already unique keep them.

    >>> [r[1] for r in _unique_sources([("/a/x/data", "data", 0, None), ("/b/y/data", "data", 0, None)])]
    ['x/data', 'y/data']
    """
    names = [r[1] for r in rows]
    depth = [0] * len(rows)
    while True:
        seen: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            seen.setdefault(n, []).append(i)
        clash = [i for group in seen.values() if len(group) > 1 for i in group]
        if not clash:
            return [(r[0], n, *r[2:]) for r, n in zip(rows, names, strict=True)]
        grew = False
        for i in clash:
            parts = rows[i][0].split("://", 1)[-1].rstrip("/").split("/")
            own = rows[i][1].count("/") + 1            # path components the name already has
            depth[i] += 1
            if depth[i] + own <= len(parts):
                names[i] = "/".join(parts[-(own + depth[i]):])
                grew = True
        if not grew:                                   # identical paths cannot clash (dict keys); be safe
            return [(r[0], n, *r[2:]) for r, n in zip(rows, names, strict=True)]


def _tree_size(fs, root: str) -> int:
    """Bytes of the files under ``root`` (progress of a source-tree shard)."""
    return sum(int(i.get("size") or 0) for i in fs.find(root, detail=True).values())


def _size(fs, path: str) -> int:
    """The file's size; 0 when it cannot be read (a symlink loop, a vanished file): the reader then
    reports why as a file problem in the manifest."""
    try:
        return fs.size(path) or 0
    except OSError:
        return 0


def unrecognised_files(paths: list[str], fmt: str = "auto") -> list[str]:
    """Files inside input folders that no reader handles (reported in the manifest, never read)."""
    out = []
    for p in paths:
        fs, _, roots = fsspec.get_fs_token_paths(p)
        for root in roots:
            if fs.exists(root) and fs.isdir(root):
                out += sorted(f for f in fs.find(root) if not posixpath.basename(f).startswith((".", "_"))
                              and not detect(f, fmt)[0])
    return out


def plan_shards(paths: list[str], fmt: str = "auto", shard_size: int | str | None = "auto") -> list[Shard]:
    """Cut the inputs into shards (uncompressed JSONL/text: byte ranges; Parquet: row-group ranges).

    ``shard_size`` "auto" (or None): each splittable file is cut into equal parts of at most
    :func:`gristmill.io.auto_shard_size` of the inputs' total size, and the plan's last part, when it is a byte
    range of 8 MB or more, into pieces of 1/2, 1/4, 1/8 and 1/8 of it (:func:`_tail_pieces`); a number: byte
    ranges of that size from the file's start (the last one shorter)."""
    shards: list[Shard] = []
    files = list_inputs(paths, fmt)
    auto = shard_size is None or shard_size == "auto"
    limit = auto_shard_size(sum(size for _, _, size, _ in files)) if auto else int(shard_size)
    splittable = False  # the last shard is a byte range of an uncompressed JSONL/text file
    for url, source, size, fs in files:
        f, comp = detect(url, fmt)
        if not f:
            raise GristmillError(f"cannot tell the format of {url}", hint="set input.format in the recipe")
        if f == "parquet" and comp is None:
            shards.extend(_parquet_shards(url, source, size, fs, limit, len(shards)))
            splittable = False
            continue
        splittable = comp is None and f in formats() and reader_format(f).splittable
        if splittable and size > limit:
            step = -(-size // -(-size // limit)) if auto else limit  # auto: equal parts, none above the limit
            for s in range(0, size, step):
                e = min(s + step, size)
                shards.append(Shard(len(shards), url, source, f, None, s, e, e - s))
        else:
            shards.append(Shard(len(shards), url, source, f, comp, 0, None, size))
    if auto and splittable and shards[-1].size >= SHARD_TAIL_MIN:
        shards[-1:] = _tail_pieces(shards[-1])
    return shards


def _tail_pieces(last: Shard) -> list[Shard]:
    """The plan's last part cut into pieces of 1/2, 1/4, 1/8 and 1/8 of it (``SHARD_TAIL``). Tasks start
    largest first, so these run last in every stage: while the longest of the others finishes, the other
    workers take the small ones, so a stage's tail stays short even when one region of the input costs
    several times the rest (Chinese beside English: docs/scaling.md has the simulation). Guided
    self-scheduling (Polychronopoulos and Kuck 1987) with sizes that depend on the input only."""
    start, end = last.start, last.start + last.size
    out, s, total = [], start, sum(SHARD_TAIL)
    for k, share in enumerate(SHARD_TAIL):
        e = end if k == len(SHARD_TAIL) - 1 else s + last.size * share // total
        out.append(Shard(last.index + k, last.path, last.source, last.format, None, s, e, e - s))
        s = e
    return out


def _parquet_shards(url, source, size, fs, shard_size, first) -> list[Shard]:
    import pyarrow.parquet as pq

    try:
        with fs.open(url, "rb") as fh:
            md = pq.ParquetFile(fh).metadata
    except Exception as e:  # unreadable footer: one shard, the reader reports the error to quarantine
        return [Shard(first, url, source, "parquet", None, 0, None, size)] if e else []
    out, start, acc = [], 0, 0
    for rg in range(md.num_row_groups):
        acc += md.row_group(rg).total_byte_size
        if acc >= shard_size and rg + 1 < md.num_row_groups:
            out.append(Shard(first + len(out), url, source, "parquet", None, start, rg + 1, acc))
            start, acc = rg + 1, 0
    out.append(Shard(first + len(out), url, source, "parquet", None, start, None, acc or size))
    return out
