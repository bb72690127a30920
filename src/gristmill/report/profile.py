"""A mergeable profile of a dataset: exact counts and histograms plus a hash-sampled set of documents.

Every task of a run (and every shard of ``gristmill analyze``) fills one :class:`Profile` from the batches it
already holds in memory; profiles merge exactly, so the report never reads the corpus again. Counts, byte
totals, per-language length histograms, signal summaries, PII/contamination counts, bias-term counts,
domains and sources are exact. Histograms of signals and diversity measures come from a *threshold
sample*: a document is in the sample when the hash of its id is below a rate that every shard shares, so
the merged sample is a uniform sample of the whole corpus whatever the sharding.

>>> import pyarrow as pa
>>> p = Profile(n_shards=1)
>>> t = pa.table({"id": ["a", "b"], "text": ["Hello world.", "你好，世界。"], "lang": ["en", "zh"],
...               "gq_words": [2, 3]})
>>> p.add(t, "kept", source="x.jsonl")
>>> q = Profile.merge([p.to_dict()])
>>> q.groups["kept"]["docs"], sorted(q.langs), q.signals["gq_words"]["kept"]["max"]
(2, ['en', 'zh'], 3.0)
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gristmill.report import bias
from gristmill.sampling import ThresholdSample, id_hash

LEN_BINS = 70            # log10(characters) in steps of 0.1: 1 … 10^7 characters
SAMPLE_DOCS = 3000       # documents kept for signal histograms (all outcomes)
SAMPLE_TEXTS = 800       # kept documents whose text (a prefix) is kept for diversity measures
EXAMPLES = 8             # example documents per outcome group
PREVIEW = 600            # characters of an example's text
TEXT_PREFIX = 2000       # characters of a text kept for diversity measures
SAMPLE_KEEP = {"sample": SAMPLE_DOCS, "texts": SAMPLE_TEXTS}  # a profile's samples and the size of each merged


def excerpt(text: str, n: int) -> str:
    """At most ``n`` characters of ``text``, cut at a word boundary (or, in Chinese and other text without
    spaces, between characters, never inside a combining sequence), with "…" when something was cut.

    >>> excerpt("The quick brown fox jumps", 12), excerpt("天地玄黄，宇宙洪荒", 4), excerpt("short", 10)
    ('The quick…', '天地玄黄…', 'short')
    """
    if len(text) <= n:
        return text
    cut = n
    space = text.rfind(" ", 0, n + 1)
    if space >= n * 0.75:  # a word boundary near the end of the window
        cut = space
    else:
        import unicodedata

        while cut > 0 and (unicodedata.combining(text[cut]) or "\udc00" <= text[cut] <= "\udfff"):
            cut -= 1  # do not separate a base character from its combining marks
    return text[:cut].rstrip() + "…"


TOP = 200                # domains kept per shard (heavy hitters merge well; the tail is approximate)
SKIP_SIGNALS = {"id", "text", "meta", "rejected_by", "reason", "detail", "encoding_confidence"}
_DOMAIN = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([^/:?#]+)", re.I)


def _lang_array(table: pa.Table) -> np.ndarray:
    if "lang" not in table.column_names:
        return np.full(table.num_rows, "und", dtype=object)
    return np.array([v or "und" for v in table.column("lang").to_pylist()], dtype=object)


def _numeric_columns(table: pa.Table) -> list[str]:
    out = []
    for f in table.schema:
        if f.name in SKIP_SIGNALS or f.name.startswith("_"):
            continue
        t = f.type
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
            out.append(f.name)
    return out


def _floats(col) -> np.ndarray:
    col = pc.cast(col, pa.float64()) if not pa.types.is_floating(col.type) else col
    return col.to_numpy(zero_copy_only=False).astype(np.float64)


def domain(url: str | None) -> str | None:
    """The host of a URL, lower-cased, without ``www.``.

    >>> domain("https://www.Example.com:8080/a?b"), domain("not a url")
    ('example.com', None)
    """
    if not url:
        return None
    m = _DOMAIN.match(url)
    if not m:
        return None
    host = m.group(1).lower()
    return host[4:] if host.startswith("www.") else host


class _SampledRow:
    """A document of the signal sample as offered: its signal values stay in its batch's block (the signal
    names, the rounded values of the batch's sampled rows) until :func:`_sample_items` turns the documents
    still in the sample at :meth:`Profile.to_dict` into dicts."""

    __slots__ = ("block", "row", "kind", "group", "lang", "chars")

    def __init__(self, block: tuple, row: int, kind: str, group: str, lang: str, chars: int) -> None:
        self.block, self.row, self.kind, self.group, self.lang, self.chars = block, row, kind, group, lang, chars


def _sample_items(items: list) -> list:
    """``(hash, item)`` pairs with every :class:`_SampledRow` as its dict: ``{kind, group, lang, chars,
    signals}``, the signals without NaN values (absent in the batch's table)."""
    rows: dict[int, list[int]] = {}
    for n, (_, x) in enumerate(items):
        if isinstance(x, _SampledRow):
            rows.setdefault(id(x.block), []).append(n)
    out = list(items)
    for where in rows.values():
        names, values = items[where[0]][1].block
        if names:
            picked = values[[items[n][1].row for n in where]]
            clean = (~np.isnan(picked).any(axis=1)).tolist()
            vals = picked.tolist()
        else:
            clean, vals = [True] * len(where), [[]] * len(where)
        for n, row, ok in zip(where, vals, clean, strict=True):
            h, x = items[n]
            sig = dict(zip(names, row, strict=True)) if ok else {k: v for k, v in zip(names, row, strict=True)
                                                                 if v == v}  # v == v: not NaN
            out[n] = (h, {"kind": x.kind, "group": x.group, "lang": x.lang, "chars": x.chars, "signals": sig})
    return out


class Profile:
    """Statistics of documents by outcome (``kept`` or ``rejected``), language, group and signal."""

    def __init__(self, n_shards: int = 1) -> None:
        share = max(n_shards, 1)
        self.groups: dict[str, dict] = {}          # "kept" | "STEP: REASON" -> docs, bytes, step, reason
        self.langs: dict[str, dict] = {}           # lang -> {kind: {docs, bytes, chars, hist[, reasons]}}
        self.signals: dict[str, dict] = {}         # name -> {kind: {n, sum, min, max}}
        self.pii: dict[str, Counter] = {"kept": Counter(), "rejected": Counter()}
        self.contam: Counter = Counter()
        self.bias: dict[str, Counter] = {}         # lang -> term -> count (kept documents)
        self.bias_chars: Counter = Counter()       # lang -> characters scanned
        self.domains: Counter = Counter()
        self.sources: dict[str, Counter] = {}      # source -> {kind: docs}
        self.sample = ThresholdSample(math.ceil(3 * SAMPLE_DOCS / share) + 20)
        self.texts = ThresholdSample(math.ceil(3 * SAMPLE_TEXTS / share) + 10)
        self.examples: dict[str, list] = {}        # group -> [(hash, example)], the smallest hashes

    # -- filling ---------------------------------------------------------------------------------------
    def add(self, table: pa.Table, kind: str, *, step: str | None = None, reasons: list[str] | None = None,
            details: list[str] | None = None, source: str | None = None) -> None:
        """Count ``table``'s rows as ``kind`` ("kept" or "rejected"; rejected rows carry step and reasons)."""
        n = table.num_rows
        if n == 0:
            return
        text = table.column("text")
        chars = pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.int64)
        nbytes = pc.binary_length(text).to_numpy(zero_copy_only=False).astype(np.int64)
        langs = _lang_array(table)
        bins = np.clip((np.log10(np.maximum(chars, 1)) * 10).astype(np.int64), 0, LEN_BINS - 1)
        for lg in np.unique(langs):
            m = langs == lg
            d = self.langs.setdefault(lg, {}).setdefault(kind, {"docs": 0, "bytes": 0, "chars": 0,
                                                                "hist": [0] * LEN_BINS})
            d["docs"] += int(m.sum())
            d["bytes"] += int(nbytes[m].sum())
            d["chars"] += int(chars[m].sum())
            d["hist"] = (np.asarray(d["hist"]) + np.bincount(bins[m], minlength=LEN_BINS)).tolist()
        groups = ["kept"] * n if kind == "kept" else [f"{step}: {r}" for r in reasons]
        if kind != "kept":   # rejections by reason within each language
            for lg, g in zip(langs.tolist(), groups, strict=True):
                by = self.langs[lg][kind].setdefault("reasons", {})
                by[g] = by.get(g, 0) + 1
        names_g, inv = np.unique(np.array(groups, dtype=object), return_inverse=True)
        docs_g = np.bincount(inv, minlength=len(names_g))
        bytes_g = np.bincount(inv, weights=nbytes, minlength=len(names_g))
        for g, cnt, b in zip(names_g.tolist(), docs_g.tolist(), bytes_g.tolist(), strict=True):
            e = self.groups.setdefault(g, {"docs": 0, "bytes": 0, "step": step if kind != "kept" else None,
                                           "reason": g.split(": ", 1)[1] if kind != "kept" else None})
            e["docs"] += cnt
            e["bytes"] += int(b)
        if source is not None:
            self.sources.setdefault(source, Counter())[kind] += n
        sig_names = _numeric_columns(table)
        sig_values = {}
        for name in sig_names:
            v = _floats(table.column(name))
            sig_values[name] = v
            ok = v[~np.isnan(v)]
            if not len(ok):
                continue
            s = self.signals.setdefault(name, {}).setdefault(kind, {"n": 0, "sum": 0.0, "min": math.inf,
                                                                    "max": -math.inf})
            s["n"] += int(len(ok))
            s["sum"] += float(ok.sum())
            s["min"] = min(s["min"], float(ok.min()))
            s["max"] = max(s["max"], float(ok.max()))
            if name.startswith("pii_") and name != "pii_total":
                self.pii[kind][name[4:]] += int(ok.sum())
        if "contam_benchmarks" in table.column_names:
            for v in table.column("contam_benchmarks").to_pylist():
                if v:
                    self.contam.update(b.strip() for b in v.split(",") if b.strip())
        ids = table.column("id").to_pylist()
        hs = id_hash(ids)
        texts = None
        pick = np.nonzero(hs < self.sample.tau)[0]
        if len(pick):  # most offered rows leave the sample again: their signals become a dict only if they stay
            names = list(sig_values)
            block = (names, np.stack([sig_values[k][pick] for k in names], axis=1).round(6) if names else None)
            for j, (i, h) in enumerate(zip(pick.tolist(), hs[pick].tolist(), strict=True)):
                self.sample.offer(h, _SampledRow(block, j, kind, groups[i], langs[i], int(chars[i])))
        if kind == "kept":
            texts = text.to_pylist()
            for i in np.nonzero(hs < self.texts.tau)[0].tolist():
                self.texts.offer(float(hs[i]), {"lang": langs[i], "text": texts[i][:TEXT_PREFIX]})
            self._bias(texts, langs, chars)
            self._domains(table)
        self._examples(table, hs, groups, langs, chars, details, texts)

    def _bias(self, texts: list[str], langs: np.ndarray, chars: np.ndarray) -> None:
        for lg in bias.LANGS:
            m = langs == lg
            if not m.any():
                continue
            joined = "\n".join(t for t, k in zip(texts, m.tolist(), strict=True) if k)
            self.bias.setdefault(lg, Counter()).update(bias.count_terms(joined, lg))
            self.bias_chars[lg] += int(chars[m].sum())

    def _domains(self, table: pa.Table) -> None:
        urls = None
        if "url" in table.column_names:
            urls = table.column("url").to_pylist()
        elif "meta" in table.column_names:
            from gristmill.record import meta_column

            try:
                urls = meta_column(table, "url").to_pylist()
            except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError):
                urls = None
        if urls:
            self.domains.update(d for d in map(domain, (u if isinstance(u, str) else None for u in urls)) if d)

    def _examples(self, table, hs, groups, langs, chars, details, texts) -> None:
        """Keep, per group, the EXAMPLES documents with the smallest hashes (only those of this batch that could
        enter are looked at)."""
        garr = np.array(groups, dtype=object)
        names = dict.fromkeys(groups)  # in order of first appearance: profile.json's bytes do not depend on the hash seed
        for g in names:
            idx = np.nonzero(garr == g)[0] if len(names) > 1 else np.arange(len(groups))
            if len(idx) > EXAMPLES:
                idx = idx[np.argpartition(hs[idx], EXAMPLES)[:EXAMPLES]]
            lst = self.examples.setdefault(g, [])
            for i in idx[np.argsort(hs[idx], kind="stable")].tolist():
                if len(lst) >= EXAMPLES and hs[i] >= lst[-1][0]:
                    break
                txt = table.column("text")[i].as_py() if texts is None else texts[i]
                lst.append((float(hs[i]), {"id": table.column("id")[i].as_py(), "lang": langs[i],
                                           "chars": int(chars[i]), "text": excerpt(txt, PREVIEW),
                                           "detail": details[i] if details else None}))
                lst.sort(key=lambda x: x[0])
                del lst[EXAMPLES:]

    # -- merging ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        sample = self.sample.to_dict()
        sample = {**sample, "items": _sample_items(sample["items"])}
        return {
            "groups": self.groups, "langs": self.langs, "signals": self.signals,
            "pii": {k: dict(v) for k, v in self.pii.items()}, "contam": dict(self.contam),
            "bias": {k: dict(v) for k, v in self.bias.items()}, "bias_chars": dict(self.bias_chars),
            "domains": dict(self.domains.most_common(TOP)),
            "sources": {k: dict(v) for k, v in self.sources.items()},
            "sample": sample, "texts": self.texts.to_dict(), "examples": self.examples,
        }

    @classmethod
    def merge(cls, parts: Iterable[dict]) -> Profile:
        """One profile from many (``to_dict`` forms), as if one task had seen every document. ``parts`` is read
        once, in order, and no part is held after it is merged (pass a generator to read one at a time): the
        examples keep the smallest hashes so far, the samples the items below the lowest rate so far, which is
        what the merge of all of them at once keeps."""
        p = cls(1)
        samples = {key: {"tau": 1.0, "items": [], "k": k} for key, k in SAMPLE_KEEP.items()}
        for d in parts:
            for g, e in d["groups"].items():
                t = p.groups.setdefault(g, {"docs": 0, "bytes": 0, "step": e["step"], "reason": e["reason"]})
                t["docs"] += e["docs"]
                t["bytes"] += e["bytes"]
            for lg, kinds in d["langs"].items():
                for kind, e in kinds.items():
                    t = p.langs.setdefault(lg, {}).setdefault(kind, {"docs": 0, "bytes": 0, "chars": 0,
                                                                     "hist": [0] * LEN_BINS})
                    for k in ("docs", "bytes", "chars"):
                        t[k] += e[k]
                    if "reasons" in e:
                        by = t.setdefault("reasons", {})
                        for g, c in e["reasons"].items():
                            by[g] = by.get(g, 0) + c
                    t["hist"] = [a + b for a, b in zip(t["hist"], e["hist"], strict=True)]
            for name, kinds in d["signals"].items():
                for kind, e in kinds.items():
                    t = p.signals.setdefault(name, {}).setdefault(kind, {"n": 0, "sum": 0.0, "min": math.inf,
                                                                         "max": -math.inf})
                    t["n"] += e["n"]
                    t["sum"] += e["sum"]
                    t["min"] = min(t["min"], e["min"])
                    t["max"] = max(t["max"], e["max"])
            for kind, c in d["pii"].items():
                p.pii[kind].update(c)
            p.contam.update(d["contam"])
            for lg, c in d["bias"].items():
                p.bias.setdefault(lg, Counter()).update(c)
            p.bias_chars.update(d["bias_chars"])
            p.domains.update(d["domains"])
            for s, c in d["sources"].items():
                p.sources.setdefault(s, Counter()).update(c)
            for g, lst in d["examples"].items():
                kept = p.examples.setdefault(g, [])
                kept.extend(tuple(x) for x in lst)
                kept.sort(key=lambda x: x[0])  # stable: a tie keeps the earlier part's first, as one sort of all
                del kept[EXAMPLES:]
            for key, acc in samples.items():
                _merge_sample(acc, d[key])
        p.sample = ThresholdSample.merge([samples["sample"]], SAMPLE_DOCS)
        p.texts = ThresholdSample.merge([samples["texts"]], SAMPLE_TEXTS)
        return p


def _merge_sample(acc: dict, part: dict) -> None:
    """Fold a part's threshold sample into ``acc`` ({tau, items, k}): the lowest rate so far and, in part order,
    the items below it (:meth:`ThresholdSample.merge` of all parts keeps the items below the lowest rate of all,
    then the k smallest), less those with k + 1 smaller ones."""
    if part["tau"] < acc["tau"]:
        acc["tau"] = part["tau"]
        acc["items"] = [x for x in acc["items"] if x[0] < acc["tau"]]
    acc["items"].extend(tuple(x) for x in part["items"] if x[0] < acc["tau"])
    if len(acc["items"]) > 2 * (acc["k"] + 1):  # beyond the k + 1 smallest: never kept (see prune_parts)
        cut = _at_most([x[0] for x in acc["items"]], acc["k"] + 1)
        acc["items"] = [x for x in acc["items"] if x[0] <= cut]


def _at_most(hashes: list[float], n: int) -> float | None:
    """The ``n``-th smallest of ``hashes`` (None when there are not more than ``n``): an item whose hash is
    above it has ``n`` smaller ones, so no merge that keeps the ``n`` smallest keeps it."""
    return sorted(hashes)[n - 1] if len(hashes) > n else None


def prune_parts(parts: Iterable[dict]) -> None:
    """Drop from profiles (``to_dict`` forms, read so far) the sampled documents and examples that no merge with
    them can keep, in place: those with a hash above the (k+1)-th smallest of their sample in all of ``parts``
    (the merge keeps k and its rate is the next one's hash), and per group the examples above the
    ``EXAMPLES``-th smallest (ties stay, whatever order the parts merge in). A run that holds its tasks'
    profiles until the report then holds about ``SAMPLE_DOCS`` sampled documents and ``EXAMPLES`` examples a
    group, not that many a task."""
    parts = list(parts)
    for key, k in SAMPLE_KEEP.items():
        cut = _at_most([x[0] for d in parts for x in d[key]["items"]], k + 1)
        if cut is not None:
            for d in parts:
                d[key]["items"] = [x for x in d[key]["items"] if x[0] <= cut]
    hashes: dict[str, list[float]] = {}
    for d in parts:
        for g, lst in d["examples"].items():
            hashes.setdefault(g, []).extend(x[0] for x in lst)
    for g, h in hashes.items():
        cut = _at_most(h, EXAMPLES)
        if cut is not None:
            for d in parts:
                if g in d["examples"]:
                    d["examples"][g] = [x for x in d["examples"][g] if x[0] <= cut]
