"""Which language a source file is in, from its name and shebang, and whether a tool or another project wrote it.

The table is data (``languages.yaml`` beside this module), after GitHub Linguist for the common languages:
extension, exact file name, then the shebang's interpreter (``#!/usr/bin/env python3`` -> Python). A file none
of these names is ``unknown``. ``vendored`` and ``generated`` test the path against Linguist-like patterns.

>>> language("pkg/mod.py", ""), language("bin/tool", "#!/usr/bin/env python3.11\\n"), language("Makefile", "")
('Python', 'Python', 'Makefile')
>>> kind("YAML"), kind("Go"), kind("unknown")
('data', 'programming', 'unknown')
>>> vendored("web/node_modules/x/index.js"), generated("static/app.min.js"), generated("api/user_pb2.py")
(True, True, True)
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

UNKNOWN = "unknown"
_SHEBANG = re.compile(r"#!\s*(\S+)(?:[ \t]+(\S+))?")


@dataclass(frozen=True)
class Language:
    name: str
    kind: str
    line: tuple[str, ...] = ()          # line-comment prefixes
    block: tuple[tuple[str, str], ...] = ()  # block-comment delimiters
    strings: str = ""                   # quote characters
    docstrings: bool = False            # Python: a string that is a statement of its own counts as a comment


@dataclass(frozen=True)
class _Table:
    languages: dict[str, Language]
    by_ext: dict[str, str]
    by_name: dict[str, str]
    by_interpreter: dict[str, str]
    vendored: re.Pattern
    generated: re.Pattern
    binary_ext: frozenset[str]


@cache
def table() -> _Table:
    raw = yaml.safe_load((resources.files("gristmill") / "code" / "languages.yaml").read_text(encoding="utf-8"))
    langs, by_ext, by_name, by_interp = {}, {}, {}, {}
    for name, d in raw["languages"].items():
        langs[name] = Language(name, d["kind"], tuple(d.get("line", ())), tuple(tuple(b) for b in d.get("block", ())),
                               d.get("strings", ""), bool(d.get("docstrings", False)))
        for e in d.get("extensions", ()):
            by_ext.setdefault(e, name)
        for f in d.get("filenames", ()):
            by_name.setdefault(f, name)
        for i in d.get("interpreters", ()):
            by_interp.setdefault(i, name)
    return _Table(langs, by_ext, by_name, by_interp, re.compile("|".join(raw["vendored"])),
                  re.compile("|".join(raw["generated"]), re.I), frozenset(raw["binary_extensions"]))


def _ext(path: str) -> str:
    base = posixpath.basename(path).lower()
    i = base.rfind(".")
    return base[i:] if i > 0 else ""


def language(path: str, head: str = "") -> str:
    """The file's language from its name, else from the shebang on ``head`` (its first line), else ``unknown``."""
    t = table()
    base = posixpath.basename(path)
    if base in t.by_name:
        return t.by_name[base]
    lang = t.by_ext.get(_ext(path))
    if lang:
        return lang
    return shebang_language(head) or UNKNOWN


def shebang_language(head: str) -> str | None:
    """The language named by a ``#!`` line: ``#!/bin/sh`` -> Shell, ``#!/usr/bin/env -S node --flag`` -> JavaScript."""
    m = _SHEBANG.match(head)
    if not m:
        return None
    prog = posixpath.basename(m.group(1))
    if prog == "env" and m.group(2):
        prog = m.group(2)
        if prog.startswith("-"):  # env -S prog ...
            rest = head[m.end():].split()
            prog = rest[0] if rest else ""
    prog = re.sub(r"[\d.]+$", "", posixpath.basename(prog))
    return table().by_interpreter.get(prog)


def kind(lang: str) -> str:
    """programming, data, markup or prose; ``unknown`` for a language not in the table."""
    entry = table().languages.get(lang)
    return entry.kind if entry else UNKNOWN


def syntax(lang: str) -> Language | None:
    return table().languages.get(lang)


def vendored(path: str) -> bool:
    """A copy of another project (``node_modules/``, ``vendor/``, ``third_party/``, ``dist/`` …)."""
    return table().vendored.search(path) is not None


def generated(path: str) -> bool:
    """A file a tool wrote, known by its name: minified JS/CSS, protobuf output, lock files."""
    return table().generated.search(path) is not None


def binary_extension(path: str) -> bool:
    """A binary format by its extension (images, archives, objects, fonts, media, models)."""
    return _ext(path) in table().binary_ext
