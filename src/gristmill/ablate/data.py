"""One ablation variant's training data: build it (a recipe, or a dataset as it is), keep it disjoint from the
evaluation sets, count it per language, pack it with the shared tokenizer.

A variant's data is either built by a recipe from the ablation's ``data`` (or its own), or taken as it is:
``data: PATH`` (a folder or files of JSONL/Parquet, e.g. another tool's output; a list of paths too) or
``recipe: none``. ``text_field``, ``id_field`` and ``lang_field`` (a dotted path such as ``metadata.lang``;
``auto`` labels the language with ``langid``) say where the fields are.

>>> as_is({"name": "dt", "data": "out/datatrove/kept", "lang_field": "metadata.lang"})
True
>>> data_of({"name": "dt", "data": "x/", "text_field": "content"}, {})
{'paths': ['x/'], 'text_field': 'content'}

**Equal language shares** (``shares`` in the ablation file): after decontamination, a variant's documents go
through the ``mix`` step (unit tokens, the shared tokenizer, by ``lang``) to the target token share per
language (the one with the most tokens for its share used whole, the others repeated, no cap on repeats; at
least the training budget in all), so every variant trains on the same
share of each language; a variant that kept little of a language repeats it (the epochs per language say how
many times). :func:`share_weights` resolves the setting:

>>> share_weights({"en": 1, "zh": 3}, {"en": 10, "zh": 5, "und": 2})
({'en': 0.25, 'zh': 0.75}, [])
>>> share_weights("raw", {"en": 30, "zh": 0}, reference={"en": 100, "zh": 300})
({'en': 1.0}, ['zh'])
"""

from __future__ import annotations

import glob
import gzip
import json
import os

import orjson

FIELDS = ("text_field", "id_field", "lang_field")


def as_is(variant: dict) -> bool:
    """Whether the variant's data is used as it is (no recipe)."""
    return isinstance(variant.get("data"), (str, list)) or variant.get("recipe") in ("none", False)


def data_of(variant: dict, spec: dict) -> dict:
    """The variant's data as ``{paths, text_field, …}`` (its own, or the ablation's)."""
    d = variant.get("data")
    if isinstance(d, str):
        d = {"paths": [d]}
    elif isinstance(d, list):
        d = {"paths": list(d)}
    d = dict(d or spec.get("data") or {})
    for k in FIELDS:
        if k in variant:
            d[k] = variant[k]
    return d


def share_weights(shares, available: dict[str, int], reference: dict[str, int] | None = None
                  ) -> tuple[dict[str, float], list[str]]:
    """(target share per language, the target languages this variant has none of).

    ``shares`` maps languages to weights, or names a variant whose token shares (``reference``: tokens per
    language) are the target. A language the variant lacks cannot be mixed in: it is left out and the
    others renormalised, and it is returned so the results can say so."""
    if isinstance(shares, str):
        shares = dict(reference or {})
    w = {str(k): float(v) for k, v in (shares or {}).items() if v and float(v) > 0}
    missing = sorted(k for k in w if available.get(k, 0) <= 0)
    w = {k: v for k, v in w.items() if k not in missing}
    total = sum(w.values())
    return {k: round(v / total, 6) for k, v in sorted(w.items())} if total else {}, missing


def lang_tokens(train_jsonl: str, tokenizer) -> dict[str, int]:
    """Tokens per ``lang`` of a JSONL file's documents (one EOS each, as packed; ``mix_repeats`` ignored)."""
    from gristmill.tokenize.tokenizer import encode_lengths, load_tokenizer

    tok = load_tokenizer(tokenizer) if isinstance(tokenizer, str) else tokenizer
    out: dict[str, int] = {}
    batch: list[tuple[str, str]] = []

    def flush() -> None:
        for (lang, _), n in zip(batch, encode_lengths(tok, [t for _, t in batch]), strict=True):
            out[lang] = out.get(lang, 0) + n + 1
        batch.clear()

    with open(train_jsonl, "rb") as f:
        for line in f:
            if line.strip():
                rec = orjson.loads(line)
                batch.append((str(rec.get("lang") or "und"), rec.get("text") or ""))
                if len(batch) >= 2000:
                    flush()
    flush()
    return out


def _get(rec: dict, path: str):
    for part in path.split("."):
        if not isinstance(rec, dict):
            return None
        rec = rec.get(part)
    return rec


def _lines(folder: str):
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.jsonl*"), recursive=True)):
        op = gzip.open if path.endswith(".gz") else open
        with op(path, "rb") as f:
            yield from (line for line in f if line.strip())


def split_eval_overlap(kept: str, out: str, index, lang_field: str = "lang") -> dict:
    """Copy the documents of ``kept`` to ``out/train.jsonl`` except exact or near copies of an evaluation text,
    which go to ``out/eval_overlap.jsonl`` (with kind and set); returns the counts, per language too.

    ``lang_field`` (dotted) is copied to ``lang`` so that packing counts tokens per language."""
    os.makedirs(out, exist_ok=True)
    counts = {"documents": 0, "kept": 0, "exact": 0, "near": 0, "by_set": {}, "by_lang": {}}
    with open(os.path.join(out, "train.jsonl"), "wb") as keep, \
            open(os.path.join(out, "eval_overlap.jsonl"), "wb") as drop:
        for line in _lines(kept):
            rec = orjson.loads(line)
            text = rec.get("text") or ""
            counts["documents"] += 1
            hit = index.match(text) if index is not None else None
            if hit:
                counts[hit[0]] += 1
                counts["by_set"][hit[1]] = counts["by_set"].get(hit[1], 0) + 1
                drop.write(orjson.dumps({"id": rec.get("id"), "kind": hit[0], "eval_set": hit[1],
                                         "text": text}) + b"\n")
                continue
            if lang_field != "lang":
                rec["lang"] = _get(rec, lang_field)
            if not rec.get("lang"):
                rec["lang"] = "und"  # undetermined: counted, and packed under that name
            lang = str(rec["lang"])
            s = counts["by_lang"].setdefault(lang, {"docs": 0, "bytes": 0})
            reps = int(rec.get("mix_repeats") or 1)
            s["docs"] += reps
            s["bytes"] += reps * len(text.encode("utf-8"))
            counts["kept"] += 1
            keep.write(orjson.dumps(rec) + b"\n")
    with open(os.path.join(out, "eval_overlap.json"), "w") as f:
        json.dump(counts, f, indent=2, ensure_ascii=False)
    return counts
