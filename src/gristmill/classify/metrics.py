"""Held-out figures of a scorer trained on graded labels: rank and linear correlation, error, F1 at a
threshold and the confusion of rounded scores.

>>> y = np.array([0, 1, 2, 3, 4, 5.0]); p = np.array([0.2, 0.9, 2.5, 2.9, 4.4, 4.0])
>>> round(spearman(p, y), 3), round(pearson(p, y), 3)
(0.943, 0.96)
>>> report(p, y, threshold=3, scale=(0, 5))["f1"]
0.8
"""

from __future__ import annotations

import numpy as np


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank."""
    x = np.asarray(x, float)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    first = np.r_[True, xs[1:] != xs[:-1]]
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(xs)]
    avg = (starts + ends + 1) / 2.0
    out = np.empty(len(x))
    out[order] = np.repeat(avg, ends - starts)
    return out


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return pearson(ranks(a), ranks(b))


def report(pred: np.ndarray, truth: np.ndarray, *, threshold: float, scale: tuple[float, float]) -> dict:
    """n, Spearman, Pearson, MAE, precision/recall/F1 of ``pred >= threshold`` against ``truth >= threshold``,
    and ``confusion[true level][predicted level]`` of the scores rounded to whole levels of the scale."""
    pred, truth = np.asarray(pred, float), np.asarray(truth, float)
    hit_p, hit_t = pred >= threshold, truth >= threshold
    tp = int((hit_p & hit_t).sum())
    prec = tp / hit_p.sum() if hit_p.sum() else float("nan")
    rec = tp / hit_t.sum() if hit_t.sum() else float("nan")
    f1 = 2 * tp / (hit_p.sum() + hit_t.sum()) if hit_p.sum() + hit_t.sum() else float("nan")
    lo, hi = scale
    rp = np.clip(np.rint(pred), lo, hi).astype(int)
    rt = np.clip(np.rint(truth), lo, hi).astype(int)
    confusion: dict[str, dict[str, int]] = {}
    for t, p in zip(rt, rp, strict=True):
        row = confusion.setdefault(str(t), {})
        row[str(p)] = row.get(str(p), 0) + 1
    confusion = {k: dict(sorted(v.items(), key=lambda kv: int(kv[0])))
                 for k, v in sorted(confusion.items(), key=lambda kv: int(kv[0]))}
    r4 = lambda v: None if v != v else round(float(v), 4)  # noqa: E731 (NaN → None)
    return {"n": len(pred), "spearman": r4(spearman(pred, truth)), "pearson": r4(pearson(pred, truth)),
            "mae": r4(np.abs(pred - truth).mean()) if len(pred) else None, "threshold": threshold,
            "precision": r4(prec), "recall": r4(rec), "f1": r4(f1), "confusion": confusion}
