"""Source trees and archives (``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``, ``.tar.xz``), one document
per file.

A folder given as an input is one source tree and one shard (give many repositories as ``repos/*``); an
archive is one shard. Columns besides ``id`` and ``text``: ``path`` (inside the repository), ``repo`` (the
folder's name for a tree; the archive's name without its extension or branch suffix for an archive, whose
single top folder, as in GitHub's ``repo-main/``, is dropped from paths), ``language`` (:mod:`gristmill.code.languages`), ``size`` (bytes),
``vendored`` and ``generated`` (by path), ``license`` and ``license_source`` (:mod:`gristmill.code.licenses`:
the file's own SPDX line or notice, else the nearest ``LICENSE``/``COPYING`` file in its folder or a parent).

Every file is accounted for: a document; a quarantine entry with the reason (over ``max_file_bytes``, not
decodable, binary when ``binary: quarantine``, an archive limit reached); or, for binary files with the default
``binary: skip``, the manifest's ``skipped`` count. Directories, links and version-control folders (``.git/``)
are not files of the tree. An archive inside a
tree is read as an archive (ids ``FOLDER/x.tar.gz!/PATH``, repo from its name); one inside an archive is binary.
Limits (:class:`CodeOptions`): ``max_file_bytes`` 1 MiB (The Stack's cut), ``max_archive_members`` 200,000,
``max_archive_bytes`` 8 GiB read from one archive or tree. Both are read twice (names and licence files
first), so a ``.tar.gz`` is decompressed twice; for a zip or a tree the first pass reads only the listing and
the licence files. Ids: ``ARCHIVE!/PATH`` for archive members, ``FOLDER/PATH`` for files of a tree.

>>> import io, tarfile, tempfile, pathlib
>>> from gristmill.io.paths import Shard
>>> from gristmill.io.batch import ReadOptions
>>> p = pathlib.Path(tempfile.mkdtemp()) / "demo-main.tar.gz"
>>> with tarfile.open(p, "w:gz") as tar:
...     for name, data in [("demo-main/LICENSE", b"SPDX-License-Identifier: MIT\\n"),
...                        ("demo-main/src/app.py", b"print('hi')\\n"), ("demo-main/logo.png", b"\\x89PNG\\0")]:
...         info = tarfile.TarInfo(name); info.size = len(data); tar.addfile(info, io.BytesIO(data))
>>> b = next(read_code(Shard(0, str(p), p.name, "code", "gzip"), ReadOptions()))
>>> b.table.select(["id", "path", "repo", "language", "license"]).to_pylist()[1]
{'id': 'demo-main.tar.gz!/src/app.py', 'path': 'src/app.py', 'repo': 'demo', 'language': 'Python', 'license': 'MIT'}
>>> b.skipped
1
"""

from __future__ import annotations

import posixpath
import re
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import fsspec
import pyarrow as pa

from gristmill.code import languages as L
from gristmill.code import licenses
from gristmill.io.batch import ReadBatch, ReadOptions
from gristmill.io.encoding import SNIFF_BYTES, decide
from gristmill.io.paths import Shard
from gristmill.io.quarantine import quarantine_entry

ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("path", pa.string()), ("repo", pa.string()),
                    ("language", pa.string()), ("size", pa.int64()), ("vendored", pa.bool_()),
                    ("generated", pa.bool_()), ("license", pa.string()), ("license_source", pa.string())])
_BRANCH = re.compile(r"-(main|master|trunk|develop|dev|HEAD|v?\d[\w.]*)$")


@dataclass(frozen=True)
class CodeOptions:
    max_file_bytes: int = 2**20          # a larger file goes to quarantine (The Stack dropped files over 1 MB)
    max_archive_members: int = 200_000   # members read from one archive; the rest go to quarantine as one entry
    max_archive_bytes: int = 8 * 2**30   # uncompressed bytes read from one archive (zip/tar bombs)
    binary: Literal["skip", "quarantine"] = "skip"  # binary files: counted as skipped, or quarantined with why

    @classmethod
    def of(cls, opts: ReadOptions) -> CodeOptions:
        """The code settings carried by ``opts`` (attributes ``code_<name>``), defaults otherwise."""
        d = cls()
        return cls(*(getattr(opts, f"code_{k}", getattr(d, k)) for k in d.__dataclass_fields__))


@dataclass
class _Member:
    path: str                       # inside the repository
    size: int
    read: Callable[[int], bytes]    # read(at_most) -> bytes
    where: str = ""                 # a tree file's own path (an archive inside a tree is read as an archive)


def is_archive(path: str) -> bool:
    return path.lower().endswith(ARCHIVES)


def repo_name(archive: str) -> str:
    """``django-main.tar.gz`` -> ``django``: the archive's name without extension or branch/version suffix."""
    base = posixpath.basename(archive)
    for ext in sorted(ARCHIVES, key=len, reverse=True):
        if base.lower().endswith(ext):
            base = base[: -len(ext)]
            break
    return _BRANCH.sub("", base) or base


def read_code(shard: Shard, opts: ReadOptions, code: CodeOptions | None = None) -> Iterator[ReadBatch]:
    """Batches of documents for one input: a folder (a source tree), an archive, or a single source file."""
    code = code or CodeOptions.of(opts)
    if shard.start:
        return
    fs, path = fsspec.core.url_to_fs(shard.path)
    if is_archive(shard.path):
        yield from _read_archive(shard, opts, code)
    elif fs.isdir(path):
        yield from _read_tree(shard, opts, code)
    else:
        yield from _read_single_file(shard, opts, code)


class _Batcher:
    def __init__(self, shard: Shard, opts: ReadOptions, code: CodeOptions, outer: str = "") -> None:
        self.shard, self.opts, self.code = shard, opts, code
        self.outer = outer + "/" if outer else ""  # an archive's path in the tree that holds it
        self.rows: list[dict] = []
        self.size = 0
        self.batch = ReadBatch(None)

    def quarantine(self, index: int, path: str, why: str, raw: bytes = b"", length: int | None = None) -> None:
        self.batch.quarantine.append(quarantine_entry(self.shard, index, f"{path}: {why}", raw,
                                                      self.opts.quarantine_bytes, length))

    def add(self, index: int, doc_id: str, repo: str, m: _Member, data: bytes, repo_license) -> None:
        """Decide what ``data`` (the member's first ``max_file_bytes + 1`` bytes) becomes."""
        self.batch.bytes += len(data)
        if m.size > self.code.max_file_bytes or len(data) > self.code.max_file_bytes:
            self.quarantine(index, m.path, f"file is {max(m.size, len(data)):,} bytes, over "
                                           f"input.code_max_file_bytes ({self.code.max_file_bytes:,})", data, m.size)
            return
        text, why = decode(m.path, data)
        if text is None:
            if why.startswith("binary") and self.code.binary == "skip":
                self.batch.skipped += 1
            else:
                self.quarantine(index, m.path, why, data)
            return
        if not text.strip():
            self.batch.blank += 1
            return
        lic, how = licenses.file_license(text)
        if lic is None:
            lic, how = repo_license(m.path)
        self.rows.append({"id": doc_id, "text": text, "path": m.path, "repo": repo,
                          "language": L.language(m.path, text[:200].split("\n", 1)[0]), "size": len(data),
                          "vendored": L.vendored(self.outer + m.path), "generated": L.generated(m.path),
                          "license": lic, "license_source": how})
        self.size += len(data)

    def full(self) -> bool:
        return len(self.rows) >= self.opts.batch_rows or self.size >= self.opts.batch_bytes

    def take(self) -> ReadBatch:
        b = self.batch
        if self.rows:
            b.table = pa.Table.from_arrays([pa.array([r[f.name] for r in self.rows], f.type) for f in SCHEMA],
                                           schema=SCHEMA)
        self.rows, self.size, self.batch = [], 0, ReadBatch(None)
        return b

    def pending(self) -> bool:
        b = self.batch
        return bool(self.rows or b.quarantine or b.skipped or b.blank or b.bytes or b.problem)


def decode(path: str, data: bytes) -> tuple[str | None, str]:
    """(text, "") or (None, why): binary by extension or by a NUL byte in the first 8,000 bytes (git's test);
    UTF-8 first, then the encoding :func:`gristmill.io.encoding.decide` finds."""
    if L.binary_extension(path):
        return None, f"binary file type ({posixpath.splitext(path)[1].lower()})"
    dec = None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        dec = decide(data[:SNIFF_BYTES], "auto", whole=len(data) <= SNIFF_BYTES)
    elif (nul := data.find(b"\0", 0, 8000)) >= 0:
        return None, f"binary file (NUL byte at {nul:,})"
    if dec is None:
        try:
            return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8"), ""
        except UnicodeDecodeError:
            dec = decide(data[:SNIFF_BYTES], "auto", whole=len(data) <= SNIFF_BYTES)
    try:
        return data[dec.bom:].decode(dec.name), ""
    except UnicodeDecodeError as e:
        return None, f"not decodable as {dec.name} (byte {e.start + dec.bom:,})"


# -- one source file given by itself -----------------------------------------------------------------------

def _read_single_file(shard: Shard, opts: ReadOptions, code: CodeOptions) -> Iterator[ReadBatch]:
    """A file named as an input: repo is its folder's name; a LICENSE file beside it counts."""
    fs, path = fsspec.core.url_to_fs(shard.path)
    folder, name = posixpath.split(path)
    out = _Batcher(shard, opts, code)
    try:
        size = fs.size(path) or 0
        with fs.open(path, "rb") as f:
            data = f.read(code.max_file_bytes + 1)
        beside = {posixpath.basename(x): x for x in fs.ls(folder, detail=False)}
    except OSError as e:
        out.quarantine(0, name, f"cannot read: {e.strerror or type(e).__name__}")
        out.batch.problem = out.batch.quarantine[-1]["error"]
        yield out.take()
        return
    found = _licence_files({n: beside[n] for n in beside if n != name}, lambda p: _read_file(fs, p, code.max_file_bytes))
    out.add(0, shard.source, posixpath.basename(folder), _Member(name, size, lambda n: b""), data,
            _nearest(found))
    yield out.take()


def _read_file(fs, path: str, n: int) -> bytes:
    """The file's first ``n`` bytes."""
    with fs.open(path, "rb") as f:
        return f.read(n)


def _licence_files(candidates: dict[str, str], read: Callable[[str], bytes]) -> dict[str, tuple[str, str]]:
    """{folder: (licence, LICENSE path)} from ``{path in repo: where to read it}``, first file per folder."""
    found: dict[str, tuple[str, str]] = {}
    for rel in sorted(candidates):
        if licenses.LICENSE_FILE.match(posixpath.basename(rel)) and posixpath.dirname(rel) not in found:
            try:
                lic = licenses.license_file_text(read(candidates[rel]).decode("utf-8", "replace"))
            except OSError:
                lic = None
            if lic:
                found[posixpath.dirname(rel)] = (lic, rel)
    return found


def _nearest(found: dict[str, tuple[str, str]]) -> Callable[[str], tuple[str | None, str | None]]:
    """The licence of the nearest LICENSE-like file in a path's folder or a parent."""
    def lookup(path: str) -> tuple[str | None, str | None]:
        d = posixpath.dirname(path)
        while True:
            if d in found:
                return found[d]
            if not d:
                return None, None
            d = posixpath.dirname(d)
    return lookup


# -- a source tree (one shard per input folder) and archives --------------------------------------------------

_VCS = re.compile(r"(^|/)\.(git|hg|svn|bzr)(/|$)")


def _tree_members(fs, root: str) -> Iterator[_Member]:
    """The tree's files in name order; version-control folders (``.git/`` …) are not part of the tree."""
    files = fs.find(root, detail=True)
    for path in sorted(files):
        info = files[path]
        if info.get("type", "file") != "file" or info.get("islink") or _VCS.search(posixpath.relpath(path, root)):
            continue
        yield _Member(posixpath.relpath(path, root), int(info.get("size") or 0),
                      lambda n, path=path: _read_file(fs, path, n), path)


def _read_tree(shard: Shard, opts: ReadOptions, code: CodeOptions) -> Iterator[ReadBatch]:
    fs, root = fsspec.core.url_to_fs(shard.path)
    yield from _read_members(shard, opts, code, "tree", posixpath.basename(root.rstrip("/")),
                             lambda: _tree_members(fs, root), "/")


def _read_archive(shard: Shard, opts: ReadOptions, code: CodeOptions, outer: str = "") -> Iterator[ReadBatch]:
    fs, path = fsspec.core.url_to_fs(shard.path)
    lister = _zip_members if path.lower().endswith(".zip") else _tar_members
    yield from _read_members(shard, opts, code, "archive", repo_name(path), lambda: lister(fs, path, code), "!/",
                             outer)


def _read_members(shard: Shard, opts: ReadOptions, code: CodeOptions, kind: str, repo: str,
                  members: Callable[[], Iterator[_Member]], sep: str, outer: str = "") -> Iterator[ReadBatch]:
    """Two passes over the members: names and licence files, then documents."""
    out = _Batcher(shard, opts, code, outer)
    try:
        names, texts = [], {}
        for i, m in enumerate(members()):
            if i >= code.max_archive_members:
                break
            names.append(m.path)
            if licenses.LICENSE_FILE.match(posixpath.basename(m.path)) and m.size <= code.max_file_bytes:
                texts[m.path] = m.read(code.max_file_bytes)
        top = _single_top(names) if kind == "archive" else ""
        repo_license = _nearest(_licence_files({_strip(n, top): n for n in texts}, texts.__getitem__))
        total = 0
        for i, m in enumerate(members()):
            rel = _strip(m.path, top)
            if m.where and is_archive(rel) and i < code.max_archive_members:  # an archive in a tree: its files
                if out.pending():
                    yield out.take()
                inner = Shard(shard.index, m.where, f"{shard.source}/{rel}", "code", None, 0, None, m.size)
                yield from _read_archive(inner, opts, code, rel)
                continue
            if i >= code.max_archive_members or total > code.max_archive_bytes:
                what = (f"more than input.code_max_archive_members ({code.max_archive_members:,}) files"
                        if i >= code.max_archive_members else
                        f"over input.code_max_archive_bytes ({code.max_archive_bytes:,}) read")
                out.quarantine(i, rel, f"{kind} has {what}; this and later files not read")
                out.batch.problem = f"{shard.source}: {kind} has {what}"
                break
            try:
                data = m.read(code.max_file_bytes + 1) if m.size <= code.max_file_bytes else b""
            except (RuntimeError, ValueError, zipfile.BadZipFile, NotImplementedError) as e:  # encrypted, bad CRC
                out.quarantine(i, rel, f"cannot read {kind} member: {type(e).__name__}: {e}")
                continue
            except OSError as e:  # a tree file that vanished or is unreadable
                out.quarantine(i, rel, f"cannot read: {e.strerror or type(e).__name__}")
                continue
            total += len(data)
            out.add(i, f"{shard.source}{sep}{rel}", repo, _Member(rel, m.size, m.read), data, repo_license)
            if out.full():
                yield out.take()
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, ValueError) as e:
        why = f"unreadable {kind}: {type(e).__name__}: {e}"
        out.batch.quarantine.append(quarantine_entry(shard, 0, why, b""))
        out.batch.problem = why
    if out.pending():
        yield out.take()


def _strip(path: str, top: str) -> str:
    return path[len(top) + 1:] if top and path.startswith(top + "/") else path


def _single_top(names: list[str]) -> str:
    """The one folder every member is under (GitHub's ``repo-main/``), or ''."""
    tops = {n.split("/", 1)[0] for n in names}
    return tops.pop() if len(tops) == 1 and all("/" in n for n in names) else ""


def _zip_members(fs, path: str, code: CodeOptions) -> Iterator[_Member]:
    with fs.open(path, "rb") as fh, zipfile.ZipFile(fh) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            def read(n, info=info):
                with zf.open(info) as f:
                    return f.read(n)
            yield _Member(info.filename, info.file_size, read)


def _tar_members(fs, path: str, code: CodeOptions) -> Iterator[_Member]:
    with fs.open(path, "rb") as fh, tarfile.open(fileobj=fh, mode="r|*") as tar:
        for info in tar:
            if not info.isfile():
                continue
            f = tar.extractfile(info)
            yield _Member(info.name, info.size, lambda n, f=f: f.read(n) if f else b"")

