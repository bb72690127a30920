"""Fixed held-out evaluation sets, bundled: English (56 C4 documents that the bundled sample does not hold) and
Chinese (45 hand-checked main texts of Chinese web pages, CWCE). Training data made by gristmill's ablations
is kept disjoint from them (documents with the same whitespace-normalised text are left out before packing).

>>> sets = bundled()
>>> sorted(sets), len(sets["en"]) > 50, len(sets["zh"]) > 40
(['en', 'zh'], True, True)
"""

from __future__ import annotations

import gzip
import os
from importlib import resources

import orjson
import xxhash

from gristmill.errors import GristmillError


def _read(path) -> list[str]:
    op = gzip.open if str(path).endswith(".gz") else open
    with op(path, "rb") as f:
        return [orjson.loads(line)["text"] for line in f if line.strip()]


def bundled() -> dict[str, list[str]]:
    root = resources.files("gristmill") / "resources" / "eval"
    return {name: _read(root / f"{name}.jsonl.gz") for name in ("en", "zh")}


def load(spec: dict[str, str] | list[str] | None) -> dict[str, list[str]]:
    """``None`` or names of bundled sets (``[en, zh]``), or ``{name: path-to-jsonl}``."""
    sets = bundled()
    if spec is None:
        return sets
    if isinstance(spec, list):
        missing = [s for s in spec if s not in sets]
        if missing:
            raise GristmillError(f"no bundled eval set {missing[0]!r}", hint="bundled: en, zh; or give {name: path}")
        return {s: sets[s] for s in spec}
    out = {}
    for name, path in spec.items():
        if path in sets:
            out[name] = sets[path]
        elif os.path.exists(path):
            out[name] = _read(path)
        else:
            raise GristmillError(f"eval set {name}: {path} not found")
    return out


def text_hashes(sets: dict[str, list[str]]) -> set[int]:
    """xxh3-64 of every eval text with whitespace normalised: what training data must not contain."""
    return {xxhash.xxh3_64_intdigest(" ".join(t.split()).encode()) for v in sets.values() for t in v}
