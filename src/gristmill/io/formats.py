"""Readers by format: one table from a format name to its reader and the file names it claims.

A reader is a function ``read(shard, opts) -> Iterator[ReadBatch]`` (see :mod:`gristmill.io.batch`). It is
registered by name, either as the function itself or as a ``"module:function"`` string that is imported on
first use, so a reader whose packages live in an optional extra costs nothing until a file of its format
is read, and the registry imports no reader. The generic reader (:func:`gristmill.io.readers.read_shard`)
and the input listing (:func:`gristmill.io.paths.detect`) both look formats up here.

>>> register_reader("org", suffixes=(".org",), read="gristmill.io.textfile:read_text")
ReaderFormat(name='org', suffixes=('.org',), read='gristmill.io.textfile:read_text', extra=None, splittable=False, compressed=())
>>> format_of("notes/intro.org.gz")
('org', 'gzip')
>>> unregister_reader("org")
>>> format_of("notes/intro.org")
('', None)
"""

from __future__ import annotations

import importlib
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gristmill.errors import GristmillError

if TYPE_CHECKING:
    from gristmill.io.batch import ReadBatch, ReadOptions
    from gristmill.io.paths import Shard

Reader = Callable[["Shard", "ReadOptions"], Iterator["ReadBatch"]]
COMPRESSION = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}  # suffixes the generic stream decompresses


@dataclass(frozen=True)
class ReaderFormat:
    name: str
    suffixes: tuple[str, ...]          # lower-case file name endings, e.g. (".jsonl", ".json")
    read: Reader | str                 # the reader, or "module:function" imported on first use
    extra: str | None = None           # the pip extra its packages come from (named when they are missing)
    splittable: bool = False           # one record per line: a large uncompressed file may be cut by bytes
    compressed: tuple[str, ...] = ()   # endings the reader decompresses itself (".warc.gz"): no stream layer

    def reader(self) -> Reader:
        """The reader function, importing its module now when it was registered by name."""
        if not isinstance(self.read, str):
            return self.read
        module, _, attr = self.read.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except ImportError as e:
            if self.extra is None:
                raise
            raise GristmillError(f"reading {self.name} files needs the '{self.extra}' extra ({e.name or e} "
                                 "is not installed)", hint=f"pip install 'gristmill[{self.extra}]'") from e


_FORMATS: dict[str, ReaderFormat] = {}


def register_reader(name: str, *, suffixes: tuple[str, ...] = (), read: Reader | str, extra: str | None = None,
                    splittable: bool = False, compressed: tuple[str, ...] = (), replace: bool = False) -> ReaderFormat:
    """Register (or, with ``replace``, re-register) the reader of format ``name``; returns its entry.

    A suffix already claimed by another format is an error, so two readers never race for one file name.
    """
    if name in _FORMATS and not replace:
        raise ValueError(f"reader format {name!r} is already registered")
    sfx = tuple(s.lower() for s in suffixes)
    for other in _FORMATS.values():
        clash = set(sfx + compressed) & set(other.suffixes + other.compressed)
        if other.name != name and clash:
            raise ValueError(f"{name!r}: suffix {sorted(clash)[0]!r} already belongs to format {other.name!r}")
    entry = ReaderFormat(name, sfx, read, extra, splittable, tuple(c.lower() for c in compressed))
    _FORMATS[name] = entry
    return entry


def unregister_reader(name: str) -> None:
    """Forget format ``name`` (tests and plugins that registered one for a while)."""
    _FORMATS.pop(name, None)


def reader_format(name: str) -> ReaderFormat:
    """The entry of format ``name``; an unknown name is a :class:`GristmillError` listing the known ones."""
    try:
        return _FORMATS[name]
    except KeyError:
        raise GristmillError(f"no reader for format {name!r}", hint=f"formats: {', '.join(formats())}") from None


def formats() -> tuple[str, ...]:
    """The registered format names, in registration order."""
    return tuple(_FORMATS)


def format_of(path: str, fmt: str = "auto") -> tuple[str, str | None]:
    """(format, compression) from the file name, e.g. ``x.jsonl.zst`` -> ('jsonl', 'zstd'); ``fmt`` other
    than ``auto`` forces the format (the compression still comes from the name); ('', c) when no reader
    claims the name."""
    name = posixpath.basename(path).lower()
    for f in _FORMATS.values():  # formats that read their compressed files themselves (.warc.gz)
        if fmt in ("auto", f.name) and f.compressed and name.endswith(f.compressed):
            return f.name, None
    comp = None
    for ext, c in COMPRESSION.items():
        if name.endswith(ext):
            comp, name = c, name[: -len(ext)]
            break
    if fmt != "auto":
        return fmt, comp
    best: tuple[int, str] = (0, "")
    for f in _FORMATS.values():
        for s in f.suffixes:
            if name.endswith(s) and len(s) > best[0]:
                best = (len(s), f.name)
    return best[1], comp


def read_with(name: str) -> Callable[..., Any]:
    """The reader function of format ``name``."""
    return reader_format(name).reader()


# The built-in formats. A new format adds one line here (or calls register_reader from its own code before
# a run); name its reader as "module:function" so its module and packages load only when needed.
register_reader("jsonl", suffixes=(".jsonl", ".json", ".ndjson"), read="gristmill.io.jsonl:read_jsonl",
                splittable=True)
register_reader("parquet", suffixes=(".parquet", ".pq"), read="gristmill.io.parquet:read_parquet")
register_reader("text", suffixes=(".txt", ".text", ".md"), read="gristmill.io.textfile:read_text",
                splittable=True)
register_reader("warc", suffixes=(".warc", ".arc"), read="gristmill.io.warc:read_warc", compressed=(".warc.gz",))
register_reader("html", suffixes=(".html", ".htm"), read="gristmill.io.warc:read_html_file")
register_reader("csv", suffixes=(".csv",), read="gristmill.io.csvfile:read_csv_file")
register_reader("tsv", suffixes=(".tsv",), read="gristmill.io.csvfile:read_csv_file")
register_reader("pdf", suffixes=(".pdf",), read="gristmill.io.documents.reader:read_pdf_file", extra="docs")
register_reader("docx", suffixes=(".docx",), read="gristmill.io.documents.reader:read_docx_file", extra="docs")
register_reader("epub", suffixes=(".epub",), read="gristmill.io.documents.reader:read_epub_file", extra="docs")
register_reader("markdown", suffixes=(".markdown", ".mkd", ".mdown"), read="gristmill.io.documents.reader:read_markdown_file")
register_reader("rst", suffixes=(".rst", ".rest"), read="gristmill.io.documents.reader:read_rst_file")
register_reader("code", read="gristmill.code.reader:read_code", extra="code")  # only with input.format: code
