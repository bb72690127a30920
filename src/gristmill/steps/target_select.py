"""``target_select``: keep the part of the corpus that looks like a small sample of a target domain (DSIR:
importance weights from hashed n-gram bag models, then Gumbel top-k resampling without replacement).

Two phases. Map: each shard writes its raw-corpus bucket counts per language and every document's features,
language, size and id key. Reduce: the counts are merged into the raw models, each document gets its log
importance weight ``log p_target(x) − log p_raw(x)`` under its language's pair of models, and each language
keeps its share of the budget (the target sample's share of that language) by Gumbel top-k, the noise coming
from a hash of the document id and the seed: the same documents are chosen for any sharding or worker count.
Kept documents carry ``target_logw``; the rest are rejected as ``not_selected``. The manifest's
``global_steps.target_select`` has the selected share per language and per source.

>>> TargetSelectParams().buckets, TargetSelectParams().unit
(65536, 'docs')
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
import orjson
import pyarrow as pa

from gristmill.errors import GristmillError
from gristmill.params import param
from gristmill.select.dsir import BagModel, Featurizer, gumbel_order, id_keys, lang_key, log_ratio, score_flat
from gristmill.steps.base import Result, Step, register, with_column


@dataclass
class TargetSelectParams:
    target: list[str] = param([], "the target sample: files, folders or globs (JSONL, Parquet, text …), e.g. "
                                  "a recipe's kept/ output; its records' lang field decides each one's language")
    target_text_field: str = param("text", "field holding the text in the target files")
    target_max_docs: int = param(1_000_000, "most target documents read (the rest of the sample is ignored)", min=1)
    budget: float | None = param(None, "how much to keep, in the unit; null: fraction of the corpus")
    fraction: float = param(0.1, "share of the corpus (in the unit) kept when budget is null", min=0.0, max=1.0)
    unit: Literal["docs", "tokens", "chars"] = param("docs", "what the budget counts (tokens: the feature "
                                                             "tokenizer's words, jieba words for Chinese)")
    buckets: int = param(65536, "hash buckets of the n-gram models (DSIR uses 10,000)", min=16, max=1 << 24)
    zh_chars: bool = param(True, "Chinese features include character unigrams and bigrams")
    zh_words: bool = param(True, "Chinese features include jieba word unigrams and bigrams")
    max_features: int = param(65536, "features per document at most (a longer document is scored on its start)",
                              min=1)
    alpha: float = param(0.1, "add-alpha smoothing of the bucket counts (1.0 over-smooths a small target "
                              "sample spread over many buckets)", min=0.0)
    length: int | None = param(256, "score a document as its mean log ratio per feature × this many features "
                                    "(DSIR's fixed-length pieces); null: the plain sum, which favours long "
                                    "documents", min=1)
    by_source: str = param("source", "field that names a document's source in the manifest (_file: the "
                                     "input file)")
    seed: int = param(0, "the Gumbel noise: a different seed draws a different sample")


def _lang_keys(table: pa.Table, resolve) -> list[str]:
    texts = table.column("text").to_pylist()
    try:
        col = table.column("lang") if "lang" in table.column_names else resolve("lang")
        langs = col.to_pylist()
    except Exception:  # noqa: BLE001 - no language anywhere: go by script
        langs = [None] * table.num_rows
    return [lang_key(la, t) for la, t in zip(langs, texts, strict=True)]


@register
class TargetSelect(Step):
    """Select documents like a target sample (DSIR importance resampling), per language; `target_logw`."""

    name = "target_select"
    path_params = ("target",)
    Params = TargetSelectParams
    kind = "global"
    reads_input_fields = True
    outputs = ("target_logw",)

    def setup(self) -> None:
        p: TargetSelectParams = self.params
        self._feat = Featurizer(p.buckets, p.zh_chars, p.zh_words, p.max_features)

    def _featurizer(self) -> Featurizer:
        if not hasattr(self, "_feat"):
            self.setup()
        return self._feat

    def _docs(self, texts: list[str], keys: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features (flat, offsets) and sizes in the unit of a batch of documents."""
        flat, offsets, n_tok = self._featurizer().batch(texts, keys)
        u = self.params.unit
        size = (np.ones(len(texts), np.int64) if u == "docs" else
                np.array([len(t) for t in texts], np.int64) if u == "chars" else n_tok.astype(np.int64))
        return flat, offsets, size

    # -- target ------------------------------------------------------------------------------------
    def target_models(self) -> tuple[dict[str, BagModel], dict[str, float]]:
        """Bucket counts and the amount (in the unit) of the target sample, per language."""
        from gristmill.io.paths import plan_shards
        from gristmill.io.readers import ReadOptions, read_shard

        p: TargetSelectParams = self.params
        if not p.target:
            raise GristmillError("target_select: no target sample", hint="set target: [path/to/target.jsonl]")
        models: dict[str, BagModel] = {}
        amount: dict[str, float] = {}
        n = 0
        opts = ReadOptions(text_field=p.target_text_field)
        for sh in plan_shards(list(p.target)):
            for rb in read_shard(sh, opts):
                if rb.table is None or n >= p.target_max_docs:
                    continue
                t = rb.table.slice(0, p.target_max_docs - n)
                n += t.num_rows

                def resolve(name, t=t):
                    from gristmill.record import meta_column
                    return meta_column(t, name)
                texts = [x or "" for x in t.column("text").to_pylist()]
                keys = _lang_keys(t, resolve)
                flat, offsets, size = self._docs(texts, keys)
                per_doc = np.array(keys, dtype=object)
                for la in sorted(set(keys)):
                    m = models.setdefault(la, BagModel(np.zeros(p.buckets, np.int64)))
                    rows = per_doc == la
                    m.counts += np.bincount(flat[np.repeat(rows, np.diff(offsets))], minlength=p.buckets)
                    amount[la] = amount.get(la, 0.0) + float(size[rows].sum())
        if not models:
            raise GristmillError(f"target_select: the target sample {p.target} holds no documents")
        return models, amount

    # -- map ---------------------------------------------------------------------------------------
    def map_state(self, table: pa.Table, resolve) -> dict:
        p: TargetSelectParams = self.params
        texts = table.column("text").to_pylist()
        keys = _lang_keys(table, resolve)
        try:
            src = table.column(p.by_source) if p.by_source in table.column_names else resolve(p.by_source)
            sources = ["" if v is None else str(v) for v in src.to_pylist()]
        except Exception:  # noqa: BLE001 - no such field: the input file names the source
            sources = [str(v) for v in resolve("_file").to_pylist()]
        flat, offsets, size = self._docs([t or "" for t in texts], keys)
        return {"langs": keys, "sources": sources, "feats": flat, "offsets": offsets, "size": size,
                "key": id_keys(table.column("id").to_pylist(), p.seed)}

    def save_state(self, path: str, parts: list[dict]) -> None:
        p: TargetSelectParams = self.params
        langs = [x for part in parts for x in part["langs"]]
        sources = [x for part in parts for x in part["sources"]]
        lnames, snames = sorted(set(langs)), sorted(set(sources))
        li, si = {v: i for i, v in enumerate(lnames)}, {v: i for i, v in enumerate(snames)}
        lang = np.array([li[x] for x in langs], dtype=np.int32)
        flat = np.concatenate([x["feats"] for x in parts]) if parts else np.zeros(0, np.uint32)
        lens = np.concatenate([np.diff(x["offsets"]) for x in parts]) if parts else np.zeros(0, np.int64)
        offsets = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        counts = np.zeros((len(lnames), p.buckets), dtype=np.int64)
        for j in range(len(lnames)):
            sel = np.repeat(lang == j, np.diff(offsets))
            counts[j] = np.bincount(flat[sel], minlength=p.buckets)
        arrays = {"lang": lang, "source": np.array([si[x] for x in sources], dtype=np.int32),
                  "size": np.concatenate([x["size"] for x in parts]) if parts else np.zeros(0, np.int64),
                  "key": np.concatenate([x["key"] for x in parts]) if parts else np.zeros(0, np.uint64),
                  "feats": flat, "offsets": offsets, "counts": counts}
        tmp = path + ".tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
        with open(path + ".names.json", "wb") as f:
            f.write(orjson.dumps({"langs": lnames, "sources": snames}))

    # -- reduce ------------------------------------------------------------------------------------
    def reduce(self, state_paths: list[str], decision_dir: str) -> dict:
        p: TargetSelectParams = self.params
        os.makedirs(decision_dir, exist_ok=True)
        target, t_amount = self.target_models()
        raw: dict[str, BagModel] = {}
        for sp in state_paths:                      # pass 1: the raw models (sums: any order gives the same)
            if os.path.exists(sp):
                names = _names(sp)
                with np.load(sp) as z:
                    counts = z["counts"]
                for j, la in enumerate(names["langs"]):
                    m = raw.setdefault(la, BagModel(np.zeros(p.buckets, np.int64)))
                    m.counts += counts[j]
        ratio = {la: log_ratio(target[la], raw[la], p.alpha) for la in target if la in raw}
        logw, lang, source, size, key, counts_in = [], [], [], [], [], []
        for sp in state_paths:                      # pass 2: score every document (features stay on disk)
            if not os.path.exists(sp):
                counts_in.append(0)
                continue
            names = _names(sp)
            with np.load(sp) as z:
                lg, fe, off = z["lang"], z["feats"], z["offsets"]
                R = np.zeros((len(names["langs"]), p.buckets))
                for j, la in enumerate(names["langs"]):
                    if la in ratio:
                        R[j] = ratio[la]
                lens = np.diff(off)
                flat = R[np.repeat(lg, lens), fe] if len(fe) else np.zeros(0)
                w = _sum_rows(flat, off)
                if p.length is not None:
                    w = w / np.maximum(lens, 1) * p.length
                w[~np.isin(lg, [j for j, la in enumerate(names["langs"]) if la in ratio])] = -np.inf
                logw.append(w)
                lang.append(np.array(names["langs"] + [""], dtype=object)[lg] if len(lg) else np.zeros(0, object))
                source.append(np.array(names["sources"] + [""], dtype=object)[z["source"]] if len(lg)
                              else np.zeros(0, object))
                size.append(z["size"])
                key.append(z["key"])
                counts_in.append(len(lg))
        cat = (lambda xs, dt: np.concatenate(xs) if xs else np.zeros(0, dt))  # noqa: E731
        logw, lang, source = cat(logw, np.float64), cat(lang, object), cat(source, object)
        size, key = cat(size, np.int64), cat(key, np.uint64)
        chosen, info = _choose(p, logw, lang, size, key, t_amount)
        start = 0
        for i, n in enumerate(counts_in):
            dec = np.zeros((n, 2), dtype=np.float64)
            dec[:, 0] = logw[start:start + n]
            dec[:, 1] = chosen[start:start + n]
            start += n
            tmp = os.path.join(decision_dir, f"{i:05d}.tmp.npy")
            np.save(tmp, dec)
            os.replace(tmp, os.path.join(decision_dir, f"{i:05d}.npy"))
        info["by_source"] = _shares(source, size, chosen)
        return info

    # -- apply -------------------------------------------------------------------------------------
    @staticmethod
    def load_decision(decision_dir: str, shard: int) -> np.ndarray:
        return np.load(os.path.join(decision_dir, f"{shard:05d}.npy"))

    def apply(self, table: pa.Table, decision: np.ndarray, offset: int, kept_id) -> Result:
        part = decision[offset:offset + table.num_rows]
        w, keep = part[:, 0], part[:, 1] > 0
        table = with_column(table, "target_logw", pa.array(np.where(np.isfinite(w), w, np.nan),
                                                           pa.float64(), mask=~np.isfinite(w)))
        reject = ~keep
        details = ["its language is not in the target sample" if not math.isfinite(x) else
                   f"log weight {x:.1f}: not drawn within the budget" for x in w[reject]]
        return Result(table, reject, ["not_selected"] * int(reject.sum()), details)


def _sum_rows(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-document sums of per-feature values (``values[offsets[i]:offsets[i+1]]``)."""
    return score_flat(np.arange(len(values)), offsets, values)


def _names(sp: str) -> dict:
    with open(sp + ".names.json", "rb") as f:
        return orjson.loads(f.read())


def _shares(group: np.ndarray, size: np.ndarray, chosen: np.ndarray) -> dict:
    out = {}
    for g in sorted(set(group.tolist())):
        m = group == g
        a, s = float(size[m].sum()), float(size[m & chosen].sum())
        out[g] = {"available": a, "selected": s, "selected_docs": int((m & chosen).sum()),
                  "share_selected": round(s / a, 6) if a else 0.0}
    return out


def _choose(p: TargetSelectParams, logw, lang, size, key, t_amount: dict[str, float]) -> tuple[np.ndarray, dict]:
    """Each language's quota (the budget × its share of the target sample), filled by Gumbel top-k."""
    total_avail = float(size.sum())
    budget = float(p.budget) if p.budget is not None else p.fraction * total_avail
    t_total = sum(t_amount.values())
    chosen = np.zeros(len(size), dtype=bool)
    per_lang = {}
    for la in sorted(set(lang.tolist()) | set(t_amount)):
        idx = np.nonzero(lang == la)[0]
        share = t_amount.get(la, 0.0) / t_total if t_total else 0.0
        quota = budget * share
        avail = float(size[idx].sum())
        if quota > 0 and len(idx):
            order = idx[gumbel_order(logw[idx], key[idx])]
            order = order[np.isfinite(logw[order])]
            cum = np.cumsum(size[order])
            k = int(np.searchsorted(cum, quota, side="left"))   # first prefix reaching the quota, or the one
            if k >= len(cum) or (k > 0 and abs(cum[k - 1] - quota) <= abs(cum[k] - quota)):
                k -= 1                                          # before it when that one is closer
            chosen[order[:k + 1]] = True
        sel = float(size[idx][chosen[idx]].sum())
        w = logw[idx][np.isfinite(logw[idx])]
        per_lang[la] = {"target_share": round(share, 6), "quota": quota, "available": avail, "selected": sel,
                        "selected_docs": int(chosen[idx].sum()), "documents": int(len(idx)),
                        "share_selected": round(sel / avail, 6) if avail else 0.0,
                        "capped": bool(quota > avail),
                        "logw_mean": round(float(w.mean()), 3) if len(w) else None}
    selected = float(size[chosen].sum())
    return chosen, {"unit": p.unit, "budget": budget, "selected": selected, "seed": p.seed,
                    "buckets": p.buckets, "documents_in": int(len(size)), "documents_out": int(chosen.sum()),
                    "by_lang": per_lang}
