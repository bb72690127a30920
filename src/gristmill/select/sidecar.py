"""``gristmill signals`` and ``gristmill select``: compute signals once, re-threshold as often as you like.

The sidecar is a folder of Parquet files keyed by ``id``: every annotating step's columns, plus
``text_bytes`` and ``text_preview`` (the first 300 characters) for calibration. ``select`` applies a
recipe's ``filter`` steps to it and writes, per document, whether it is kept and the first failing rule.
"""

from __future__ import annotations

import copy
import dataclasses
import glob
import os
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.errors import GristmillError
from gristmill.recipe import Recipe, load_recipe
from gristmill.steps import REGISTRY

SIDE_EXTRA = ("text_bytes", "text_preview")


def signals_recipe(recipe: Recipe) -> Recipe:
    """The recipe's annotating steps only (no filters, no global steps), writing a Parquet sidecar."""
    r = copy.deepcopy(recipe)
    r.steps = [s for s in r.steps if REGISTRY[s.step].kind == "map" and s.step != "filter"]
    if not r.steps:
        raise GristmillError("the recipe has no annotating step to compute signals with",
                             hint="add e.g. '- step: quality' (and langid) before the filters")
    cols = ["id"]
    for s in r.steps:
        step = s.build()
        names = step.columns() if hasattr(step, "columns") else list(REGISTRY[s.step].outputs)
        cols += [c for c in names if c not in cols and c != "text"]
    r.output = dataclasses.replace(r.output, format="parquet", compression="auto", write_rejected=True,
                                   columns=[*cols, *SIDE_EXTRA])
    return r


def write_signals(recipe: Recipe | str | None, *, inputs=None, output: str, workers=None, quiet=False,
                  resume=True) -> dict:
    """Run the annotating steps and write the sidecar under ``output/kept/``; returns the manifest."""
    from gristmill.exec.local import run

    base = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    return run(signals_recipe(base), inputs=inputs, output=output, workers=workers, quiet=quiet, resume=resume)


def sidecar_files(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    files = sorted(glob.glob(os.path.join(path, "kept", "*.parquet")) or glob.glob(os.path.join(path, "*.parquet")))
    if not files:
        raise GristmillError(f"no sidecar Parquet files in {path}", hint="make one with: gristmill signals")
    return files


def select(sidecar: str, recipe: Recipe | str | None, output: str) -> dict:
    """Apply the recipe's filter steps to a sidecar; writes ``output/selection-*.parquet`` (id, kept,
    rejected_by, reason) and returns counts per rule."""
    r = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    filters = [s.build() for s in r.steps if s.step == "filter"]
    if not filters:
        raise GristmillError("the recipe has no filter step to select with", hint="add '- step: filter'")
    os.makedirs(output, exist_ok=True)
    total, kept = 0, 0
    reasons: Counter = Counter()
    kept_bytes = all_bytes = 0
    for i, path in enumerate(sidecar_files(sidecar)):
        t = pq.read_table(path)
        n = t.num_rows
        keep = [True] * n
        by: list[str | None] = [None] * n
        why: list[str | None] = [None] * n
        alive = list(range(n))
        for f in filters:
            sub = t.take(pa.array(alive, pa.int64())) if len(alive) != n else t
            res = f.process(sub)
            if res.reject is None or not res.reject.any():
                continue
            rej_rows = [alive[j] for j in res.reject.nonzero()[0]]
            for row, reason in zip(rej_rows, res.reason, strict=True):
                keep[row], by[row], why[row] = False, f.label, reason
            alive = [alive[j] for j in (~res.reject).nonzero()[0]]
        sizes = t.column("text_bytes").to_pylist() if "text_bytes" in t.column_names else [0] * n
        total += n
        kept += sum(keep)
        all_bytes += sum(sizes)
        kept_bytes += sum(s for s, k in zip(sizes, keep, strict=True) if k)
        reasons.update(f"{b}:{w}" for b, w in zip(by, why, strict=True) if b)
        out = pa.table({"id": t.column("id"), "kept": pa.array(keep), "rejected_by": pa.array(by, pa.string()),
                        "reason": pa.array(why, pa.string())})
        tmp = os.path.join(output, f"selection-{i:05d}.parquet.tmp")
        pq.write_table(out, tmp)
        os.replace(tmp, tmp[:-4])
    return {"documents": total, "kept": kept, "rejected": total - kept, "bytes": all_bytes,
            "kept_bytes": kept_bytes, "reasons": dict(reasons.most_common())}
