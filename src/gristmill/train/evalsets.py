"""Held-out evaluation sets for bits per byte, bundled or the user's own.

Bundled (``gristmill/resources/eval/``, licences in resources/NOTICE.md):

- ``en``, ``zh``: web text only (56 C4 documents that the bundled sample does not hold; the 45 hand-checked
  main texts of Chinese web pages, CWCE);
- ``en-domains``: 383 documents, 1.1 MB: web (those 56), news, technical documentation, dialogue;
- ``zh-domains``: 341 documents, 1.2 MB: web (those 45), technical documentation, classical text, social
  comments (built by ``bench/bakeoff_evalsets.py``).

A user's own held-out set is ``{name: path}``: a JSONL(.gz) file, a Parquet file or a folder of them, with
``text`` and optionally ``domain``. Training data made by ``gristmill ablate`` is kept disjoint from every set
(:mod:`gristmill.train.eval_decontam`).

>>> sets = bundled(BUNDLED)
>>> sorted(sets), len(sets["en"]) > 50, len(sets["zh-domains"]) >= 300
(['en', 'en-domains', 'zh', 'zh-domains'], True, True)
>>> sorted(domains(load_docs(["zh-domains"]))["zh-domains"])
['classical', 'social', 'technical', 'web']
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

import orjson
import xxhash

from gristmill.errors import GristmillError

BUNDLED = ("en", "zh", "en-domains", "zh-domains")


def _read_jsonl(path) -> list[dict]:
    op = gzip.open if str(path).endswith(".gz") else open
    with op(path, "rb") as f:
        rows = [orjson.loads(line) for line in f if line.strip()]
    return [{"text": r["text"], "domain": r.get("domain")} for r in rows if isinstance(r.get("text"), str)]


def _read_path(path: str) -> list[dict]:
    p = Path(path)
    files = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
    out = []
    for f in files:
        if f.name.endswith((".jsonl", ".jsonl.gz", ".json.gz", ".ndjson")):
            out += _read_jsonl(f)
        elif f.name.endswith(".parquet"):
            import pyarrow.parquet as pq

            t = pq.read_table(f)
            dom = t.column("domain").to_pylist() if "domain" in t.column_names else [None] * t.num_rows
            out += [{"text": x, "domain": d} for x, d in zip(t.column("text").to_pylist(), dom, strict=True)
                    if isinstance(x, str)]
    if not out:
        raise GristmillError(f"eval set {path}: no documents with a text field",
                             hint="JSONL(.gz) or Parquet files with `text` (and optionally `domain`)")
    return out


@lru_cache(maxsize=8)
def _bundled_docs(name: str) -> tuple[dict, ...]:
    return tuple(_read_jsonl(resources.files("gristmill") / "resources" / "eval" / f"{name}.jsonl.gz"))


def bundled(names: tuple[str, ...] = ("en", "zh")) -> dict[str, list[str]]:
    """The texts of bundled sets (by default the web sets ``en`` and ``zh``; any of :data:`BUNDLED`)."""
    return {n: [d["text"] for d in _bundled_docs(n)] for n in names}


def load_docs(spec: dict[str, str] | list[str] | None) -> dict[str, list[dict]]:
    """Sets as ``{name: [{text, domain}, …]}``: ``None`` (``en``, ``zh``), names of bundled sets, or
    ``{name: path-or-bundled-name}``."""
    if spec is None:
        spec = ["en", "zh"]
    if isinstance(spec, list):
        missing = [s for s in spec if s not in BUNDLED]
        if missing:
            raise GristmillError(f"no bundled eval set {missing[0]!r}",
                                 hint=f"bundled: {', '.join(BUNDLED)}; or give {{name: path}}")
        return {s: list(_bundled_docs(s)) for s in spec}
    out = {}
    for name, path in spec.items():
        if path in BUNDLED:
            out[name] = list(_bundled_docs(path))
        elif os.path.exists(path):
            out[name] = _read_path(path)
        else:
            raise GristmillError(f"eval set {name}: {path} not found")
    return out


def load(spec: dict[str, str] | list[str] | None) -> dict[str, list[str]]:
    """Like :func:`load_docs`, texts only."""
    return {k: [d["text"] for d in v] for k, v in load_docs(spec).items()}


def domains(sets: dict[str, list[dict]]) -> dict[str, dict[str, list[str]]]:
    """``{set: {domain: texts}}`` for the sets whose documents name a domain."""
    out: dict[str, dict[str, list[str]]] = {}
    for name, docs in sets.items():
        for d in docs:
            if d.get("domain"):
                out.setdefault(name, {}).setdefault(d["domain"], []).append(d["text"])
    return out


def text_hashes(sets: dict[str, list[str]]) -> set[int]:
    """xxh3-64 of every eval text with whitespace normalised: what training data must not contain."""
    return {xxhash.xxh3_64_intdigest(" ".join(t.split()).encode()) for v in sets.values() for t in v}
