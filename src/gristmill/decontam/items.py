"""Benchmark items: reading benchmark files, the text of an item, and the build settings of a spec file.

An item's text is its fields' values in order (list fields such as ``choices`` or ``turns`` element by
element), one per line; the normaliser then reads them as one token sequence, so n-grams run across the
fields.

>>> item_text({"question": "女性生殖腺是", "choices": ["卵巢", "前庭大腺"]}, ["question", "choices"])
'女性生殖腺是\\n卵巢\\n前庭大腺'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from gristmill.errors import GristmillError


@dataclass
class IndexSettings:
    """How items are indexed and when a document holds one (lengths in normalised tokens: English words,
    Chinese characters).

    - ``n`` (13): the evidence that a document holds an item is ``n`` of the item's tokens found in the
      document, in matching n-grams within one stretch of it (matches less than the item's length apart);
      for an item with fewer distinctive tokens (those in n-grams kept in the index), ``short_coverage``
      (0.5) of them, but never fewer than ``short_n`` (8) tokens;
    - each item is indexed by n-grams of its own length, the longest for which ``edits`` (2) changed tokens
      anywhere in a copy still leave that evidence: ``n`` for long items (one matching n-gram is enough),
      down to ``min_n`` (5) for short ones;
    - ``short_n`` (8): items with fewer tokens, or fewer distinctive ones, are not indexed by n-grams;
    - ``min_item_tokens`` (4): items shorter than ``n`` are also indexed by a hash of the whole item,
      matched only where it stands alone (a line, sentence or document edge on both sides), if they have at
      least this many tokens; shorter items cannot be matched;
    - ``max_item_frequency`` (10): a window (n-gram or whole item) found in more than this many items —
      counted over every item's windows of that length — is boilerplate and dropped.
    """

    n: int = 13
    edits: int = 2
    min_n: int = 5
    short_n: int = 8
    short_coverage: float = 0.5
    min_item_tokens: int = 4
    max_item_frequency: int = 10

    def __post_init__(self) -> None:
        if not (1 <= self.min_item_tokens <= self.short_n <= self.n and 1 <= self.min_n <= self.n):
            raise GristmillError(f"decontamination index: need 1 <= min_item_tokens ({self.min_item_tokens}) "
                                 f"<= short_n ({self.short_n}) <= n ({self.n}) and min_n ({self.min_n}) "
                                 "between 1 and n")
        if self.edits < 0 or self.max_item_frequency < 1 or not 0 <= self.short_coverage <= 1:
            raise GristmillError("decontamination index: need edits >= 0, max_item_frequency >= 1 and "
                                 "0 <= short_coverage <= 1")

    def with_n(self, n: int | None) -> IndexSettings:
        """These settings with n-gram length ``n`` (``short_n`` and ``min_item_tokens`` capped at it)."""
        if n is None:
            return self
        return replace(self, n=n, short_n=min(self.short_n, n), min_n=min(self.min_n, n),
                       min_item_tokens=min(self.min_item_tokens, n))

    def need(self, distinct: np.ndarray) -> np.ndarray:
        """Tokens a document's matches must cover for items with ``distinct`` distinctive tokens.

        >>> IndexSettings().need(np.array([5, 8, 19, 30, 41])).tolist()
        [8, 8, 10, 13, 13]
        """
        return np.clip(np.ceil(self.short_coverage * distinct).astype(np.int64), self.short_n, self.n)

    def item_n(self, length: np.ndarray) -> np.ndarray:
        """n-gram length for items of ``length`` tokens (0: too short for n-grams): the longest n for which
        ``edits`` edits leave ``need`` tokens in whole n-grams even when each but the last wastes n - 1 tokens
        (``length - edits * n >= need``).

        >>> IndexSettings().item_n(np.array([5, 8, 19, 23, 30, 39, 500])).tolist()
        [0, 5, 5, 5, 8, 13, 13]
        """
        most = (length - self.need(length)) // self.edits if self.edits else length
        n = np.clip(most, self.min_n, self.n)
        return np.where(length < self.short_n, 0, n).astype(np.int64)


Source = tuple[str, str, list[str]]  # benchmark name, file, fields


def read_spec(path: Path, root: Path, n: int | None = None) -> tuple[list[Source], IndexSettings]:
    """(sources, settings) of a YAML spec: ``benchmarks: [{name, path, fields}]`` plus any setting above."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        sources = [(b["name"], str(root / b["path"]), list(b.get("fields") or ["text"]))
                   for b in data["benchmarks"]]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise GristmillError(f"cannot read benchmark spec {path}: {e}",
                             hint="expected benchmarks: [{name, path, fields}] (recipes/decontam/)") from None
    known = {f.name: f.type for f in fields(IndexSettings)}
    unknown = set(data) - set(known) - {"benchmarks"}
    if unknown:
        raise GristmillError(f"{path}: unknown setting(s) {sorted(unknown)}", hint=f"known: {sorted(known)}")
    try:
        settings = IndexSettings(**{k: (float if t == "float" else int)(data[k])
                                    for k, t in known.items() if k in data})
    except (TypeError, ValueError):
        raise GristmillError(f"{path}: index settings must be numbers") from None
    return sources, settings.with_n(n)


def records(path: str):
    """(id, record) of a benchmark file: JSONL (optionally .gz), CSV or Parquet."""
    p = Path(path)
    if not p.exists():
        raise GristmillError(f"benchmark file not found: {path}")
    name = p.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".json")):
        import gzip

        op = gzip.open if name.endswith(".gz") else open
        with op(p, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                if line.strip():
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError as e:
                        raise GristmillError(f"{path}:{i + 1}: not JSON ({e.msg})") from None
                    yield str(rec.get("id", f"{p.name}:{i}")), rec
    elif name.endswith(".csv"):
        import csv

        with open(p, newline="", encoding="utf-8") as f:
            for i, rec in enumerate(csv.DictReader(f)):
                yield str(rec.get("id", f"{p.name}:{i}")), rec
    elif name.endswith(".parquet"):
        import pyarrow.parquet as pq

        for i, rec in enumerate(pq.read_table(p).to_pylist()):
            yield str(rec.get("id", f"{p.name}:{i}")), rec
    else:
        raise GristmillError(f"cannot read benchmark file {path}", hint="use JSONL, CSV or Parquet")


def item_text(rec: dict, fields: list[str]) -> str:
    """The item's fields, one value per line."""
    parts = []
    for f in fields:
        v = rec.get(f)
        if isinstance(v, list):
            parts.extend(str(x) for x in v)
        elif v is not None:
            parts.append(str(v))
    return "\n".join(parts)
