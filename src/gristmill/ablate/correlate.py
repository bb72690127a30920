"""Which quality signals predict what the model finds hard? Rank correlation of every numeric signal with
each document's bits per byte under the trained proxy model, per language.

After an ablation's training, the documents of one variant (the baseline by default: the raw data) are scored
with the ``quality`` signals and the ``perplexity`` step (the variant's seed-0 model); Spearman's rho of each
signal with ``ppl_bpb`` is computed per language over the documents where both are defined.

>>> spearman([1, 2, 3, 4], [10, 20, 30, 40]), spearman([1, 2, 3, 4], [4, 3, 2, 1]), spearman([1, 1, 1], [1, 2, 3])
(1.0, -1.0, None)
>>> rows = [{"lang": "en", "ppl_bpb": b, "gq_words": w, "id": "x"} for b, w in [(2.0, 50), (1.5, 300), (1.2, 900)]]
>>> correlations(rows)["en"]["gq_words"]["rho"]
-1.0
"""

from __future__ import annotations

import math
import os

import numpy as np
import orjson

BOOKKEEPING = frozenset({"mix_repeats", "encoding_confidence", "ppl_bpb"})


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    ranks = np.empty(len(x))
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2
        i = j + 1
    return ranks


def spearman(x, y) -> float | None:
    """Spearman's rank correlation; ``None`` when either side is constant or fewer than 3 pairs."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3:
        return None
    rx, ry = _ranks(x), _ranks(y)
    sx, sy = rx.std(), ry.std()
    if sx == 0 or sy == 0:
        return None
    return round(float(((rx - rx.mean()) * (ry - ry.mean())).mean() / (sx * sy)), 4)


def numeric_signals(rows: list[dict], target: str = "ppl_bpb") -> list[str]:
    """Every top-level numeric column of the scored documents (not bool, not bookkeeping, not the target)."""
    seen: dict[str, None] = {}
    for r in rows:
        for k, v in r.items():
            if k not in BOOKKEEPING and k != target and isinstance(v, (int, float)) and not isinstance(v, bool):
                seen.setdefault(k, None)
    return list(seen)


def correlations(rows: list[dict], target: str = "ppl_bpb") -> dict[str, dict[str, dict]]:
    """``{lang: {signal: {rho, n}}}``: one entry per numeric signal for every language."""
    signals = numeric_signals(rows, target)
    out: dict[str, dict[str, dict]] = {}
    for lang in sorted({str(r.get("lang") or "?") for r in rows}):
        mine = [r for r in rows if str(r.get("lang") or "?") == lang and _num(r.get(target))]
        out[lang] = {}
        for s in signals:
            pairs = [(r[s], r[target]) for r in mine if _num(r.get(s))]
            rho = spearman(*zip(*pairs, strict=True)) if len(pairs) >= 3 else None
            out[lang][s] = {"rho": rho, "n": len(pairs)}
    return out


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def sample(train_jsonl: str, out: str, max_docs: int, seed: int = 0) -> str:
    """A hash-seeded sample of at most ``max_docs`` documents of ``train_jsonl`` (the same for a seed), as a file."""
    import xxhash

    with open(train_jsonl, "rb") as f:
        lines = [line for line in f if line.strip()]
    if len(lines) <= max_docs:
        return train_jsonl
    keys = [xxhash.xxh3_64_intdigest(str(orjson.loads(x).get("id")).encode(), seed=seed) for x in lines]
    pick = sorted(sorted(range(len(lines)), key=keys.__getitem__)[:max_docs])
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "sample.jsonl")
    with open(path, "wb") as f:
        f.writelines(lines[i] for i in pick)
    return path


def score(train_jsonl: str, model: str, out: str, *, max_chars: int = 2000, max_docs: int | None = None,
          workers: int | None = None, quiet: bool = True) -> list[dict]:
    """Quality signals and ``ppl_bpb`` of every document in ``train_jsonl`` (or a hash-seeded sample of
    ``max_docs``), as rows without their text."""
    import gristmill
    from gristmill.recipe import parse_recipe

    if max_docs:
        train_jsonl = sample(train_jsonl, out + ".sample", int(max_docs))

    recipe = parse_recipe({"output": {"format": "jsonl", "report": False},
                           "steps": [{"step": "quality"},
                                     {"step": "perplexity", "model": model, "max_chars": max_chars}]}, "<correlate>")
    gristmill.run(recipe, inputs=[train_jsonl], output=out, workers=workers, quiet=quiet)
    rows = []
    kept = os.path.join(out, "kept")
    for name in sorted(os.listdir(kept)):
        with open(os.path.join(kept, name), "rb") as f:
            for line in f:
                if line.strip():
                    r = orjson.loads(line)
                    r.pop("text", None)
                    rows.append(r)
    return rows


def markdown(corr: dict[str, dict[str, dict]], variant: str) -> str:
    langs = sorted(corr)
    signals = list(dict.fromkeys(s for lang in langs for s in corr[lang]))
    n = {lang: max((x["n"] for x in corr[lang].values()), default=0) for lang in langs}
    lines = [f"Spearman rank correlation of each signal with per-document bits per byte under the `{variant}` "
             "proxy model (positive: higher values, harder text):", "",
             "| signal | " + " | ".join(f"{lang} rho (n={n[lang]})" for lang in langs) + " |",
             "|---" * (len(langs) + 1) + "|"]
    for s in signals:
        cells = []
        for lang in langs:
            rho = corr[lang].get(s, {}).get("rho")
            cells.append("–" if rho is None else f"{rho:+.3f}")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
