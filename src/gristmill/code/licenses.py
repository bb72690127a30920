"""Which licence a source file or repository is under, as an SPDX expression.

Three ways, most explicit first: an ``SPDX-License-Identifier:`` line in the file's head (checked against the
SPDX licence list that ``packaging`` carries, CC0 data); a licence notice or text in the head (text
similarity); a ``LICENSE``/``COPYING`` file's text. Similarity compares word 4-gram shingles of the normalised
text with bundled fingerprints (hashes, never the texts) of the common licences and their standard notices
(``license_fingerprints.json``, made by ``tools/license_fingerprints.py`` from texts on a Debian machine): a
licence matches when at least ``min_coverage`` of its shingles are present; of those that match, the closest
overall (Jaccard) wins, so BSD-3-Clause beats BSD-2-Clause on a BSD-3 text and a full text beats its notice.

>>> spdx_header("# SPDX-License-Identifier: Apache-2.0 OR mit\\nimport os\\n")
'Apache-2.0 OR MIT'
>>> permissive("MIT OR GPL-3.0-only"), permissive("MIT AND GPL-3.0-only"), permissive(None)
(True, False, False)
"""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib import resources

import numpy as np
import orjson
import xxhash
import yaml
from packaging.licenses._spdx import (  # the SPDX licence list (CC0 data); the `code` extra
    EXCEPTIONS,
    LICENSES,
)

HEAD_CHARS = 4000          # how much of a file's start is searched for identifiers and notices
MIN_COVERAGE = 0.8
_SPDX = re.compile(r"SPDX-License-Identifier:\s*([^\n\r]*)", re.I)
_WORD = re.compile(r"[a-z0-9]+")
_COPYRIGHT = re.compile(r"^[ \t#*/;'-]*(?:copyright\b|\(c\)|©|all rights reserved)[^\n]{0,200}$", re.I | re.M)
_SPELL = {"licence": "license", "licences": "licenses", "licenced": "licensed"}
LICENSE_FILE = re.compile(r"^(?:licen[cs]e|copying|unlicense)(?:[-._][\w.-]*)?$", re.I)


def normalise(text: str) -> list[str]:
    """Lower-case words; copyright statement lines and punctuation dropped, British spellings folded."""
    words = _WORD.findall(_COPYRIGHT.sub(" ", text).lower())
    return [_SPELL.get(w, w) for w in words]


def shingles(text: str, n: int = 4) -> np.ndarray:
    """Sorted distinct 32-bit hashes of the normalised text's word n-grams."""
    w = normalise(text)
    grams = {" ".join(w[i:i + n]) for i in range(max(len(w) - n + 1, 1 if w else 0))}
    return np.unique(np.fromiter((xxhash.xxh32_intdigest(g.encode()) for g in grams), np.uint32, len(grams)))


@cache
def _fingerprints() -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(SPDX ids, every fingerprint's hashes sorted, the index of the licence each belongs to, sizes)."""
    raw = orjson.loads((resources.files("gristmill") / "code" / "license_fingerprints.json").read_bytes())
    refs = [np.frombuffer(base64.b64decode(e["shingles"]), "<u4").astype(np.uint32) for e in raw["licenses"]]
    owner = np.concatenate([np.full(len(r), i, np.int32) for i, r in enumerate(refs)])
    hashes = np.concatenate(refs)
    order = np.argsort(hashes, kind="stable")
    return [e["spdx"] for e in raw["licenses"]], hashes[order], owner[order], np.array([len(r) for r in refs])


def match_text(text: str, min_coverage: float = MIN_COVERAGE) -> tuple[str | None, float]:
    """(SPDX id, coverage) of the bundled licence whose text or notice ``text`` contains best, or (None, best
    coverage) when none reaches ``min_coverage``."""
    doc = shingles(text)
    if len(doc) == 0:
        return None, 0.0
    ids, hashes, owner, sizes = _fingerprints()
    lo, hi = np.searchsorted(hashes, doc, "left"), np.searchsorted(hashes, doc, "right")  # equal reference hashes
    n = hi - lo
    at = np.repeat(lo, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    inter = np.bincount(owner[at], minlength=len(ids))
    cov = inter / sizes
    jac = inter / (len(doc) + sizes - inter)
    passes = cov >= min_coverage
    if not passes.any():
        return None, float(cov.max())
    best = int(np.argmax(np.where(passes, jac, -1.0)))
    return ids[best], float(cov[best])


@cache
def _spdx_ids() -> dict[str, str]:
    ids = {k: v["id"] for k, v in LICENSES.items()}
    ids.update({k: v["id"] for k, v in EXCEPTIONS.items()})
    return ids


def canonical(expression: str) -> str | None:
    """An SPDX expression with every identifier checked and spelt as the list does; None if any is unknown.

    >>> canonical("apache-2.0 with llvm-exception"), canonical("MIT OR Foo-1.0")
    ('Apache-2.0 WITH LLVM-exception', None)
    """
    parts = re.findall(r"\(|\)|[^\s()]+", expression)
    out = []
    ids = _spdx_ids()
    for p in parts:
        up = p.upper()
        if up in ("AND", "OR", "WITH"):
            out.append(up)
        elif p in "()":
            out.append(p)
        else:
            plus = p.endswith("+")
            key = p[:-1].lower() if plus else p.lower()
            if key.startswith("licenseref-"):
                out.append(p)
            elif key in ids:
                out.append(ids[key] + ("+" if plus else ""))
            else:
                return None
    return " ".join(out).replace("( ", "(").replace(" )", ")") or None


def spdx_header(text: str) -> str | None:
    """The ``SPDX-License-Identifier`` expression in the first ``HEAD_CHARS`` characters, canonical, or None."""
    m = _SPDX.search(text, 0, HEAD_CHARS)
    if not m:
        return None
    expr = re.sub(r"\s*(\*/|-->|#>|\*\)|-\}).*$", "", m.group(1)).strip().strip("\"'")
    return canonical(expr) if expr else None


def file_license(text: str) -> tuple[str | None, str | None]:
    """(expression, how) for one file from its head: ``spdx-header``, ``header-text`` or (None, None)."""
    found = spdx_header(text)
    if found:
        return found, "spdx-header"
    head = text[:HEAD_CHARS]
    if "licen" in head.lower() or "free software" in head.lower():
        spdx, _ = match_text(head)
        if spdx:
            return spdx, "header-text"
    return None, None


def license_file_text(text: str) -> str | None:
    """The licence of a ``LICENSE``/``COPYING`` file: an SPDX line in it, else text similarity."""
    return spdx_header(text) or match_text(text)[0]


@cache
def _permissive() -> frozenset[str]:
    data = yaml.safe_load((resources.files("gristmill") / "code" / "permissive.yaml").read_text(encoding="utf-8"))
    return frozenset(data["permissive"])


def permissive(expression: str | None) -> bool:
    """True when the expression lets code be used without copyleft: every ``AND`` part permissive, at least one
    ``OR`` alternative; ``WITH`` exceptions keep the base licence's class."""
    if not expression:
        return False
    tokens = re.findall(r"\(|\)|[^\s()]+", expression)
    pos = 0

    def parse_or() -> bool:
        nonlocal pos
        v = parse_and()
        while pos < len(tokens) and tokens[pos] == "OR":
            pos += 1
            v = parse_and() or v
        return v

    def parse_and() -> bool:
        nonlocal pos
        v = parse_atom()
        while pos < len(tokens) and tokens[pos] == "AND":
            pos += 1
            v = parse_atom() and v
        return v

    def parse_atom() -> bool:
        nonlocal pos
        if pos >= len(tokens):
            return False
        t = tokens[pos]
        pos += 1
        if t == "(":
            v = parse_or()
            pos += 1  # ")"
        else:
            v = t.rstrip("+") in _permissive()
        if pos < len(tokens) and tokens[pos] == "WITH":
            pos += 2
        return v

    return parse_or()
