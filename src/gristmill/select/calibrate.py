"""``gristmill calibrate``: per-language percentiles of every signal, and what a proposed threshold removes.

For a threshold (a keep-expression such as ``gq_words >= 50``) it reports, per language, the share of
documents and of bytes the cut removes, and sample documents just below and just above the cut.
"""

from __future__ import annotations

import ast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gristmill.expr import Expr
from gristmill.select.sidecar import SIDE_EXTRA, sidecar_files

PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)


def load(sidecar: str, max_rows: int | None = None) -> pa.Table:
    tables, n = [], 0
    for f in sidecar_files(sidecar):
        t = pq.read_table(f)
        tables.append(t)
        n += t.num_rows
        if max_rows and n >= max_rows:
            break
    t = pa.concat_tables(tables, promote_options="permissive")
    return t.slice(0, max_rows) if max_rows else t


def percentiles(t: pa.Table, by: str = "lang") -> dict[str, dict[str, list[float | None]]]:
    """{group: {signal: [p1 … p99]}} for every numeric column; groups by ``by`` (all rows: "all")."""
    groups = sorted(set(t.column(by).to_pylist())) if by in t.column_names else []
    out: dict[str, dict[str, list[float | None]]] = {}
    numeric = [f.name for f in t.schema if (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))
               and f.name not in SIDE_EXTRA]
    for g in ["all", *[x for x in groups if x is not None]]:
        sub = t if g == "all" else t.filter(pc.equal(t.column(by), g))
        out[g] = {"documents": [sub.num_rows]}
        for c in numeric:
            v = sub.column(c).to_numpy(zero_copy_only=False).astype(float)
            v = v[~np.isnan(v)]
            out[g][c] = [round(float(x), 4) for x in np.percentile(v, PERCENTILES)] if len(v) else [None] * 9
    return out


def _cut(expr: Expr) -> tuple[str, float] | None:
    """(column, value) when the expression is one comparison of a column with a number."""
    node = expr.tree
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.left, ast.Name) \
            and isinstance(node.comparators[0], ast.Constant) and isinstance(node.comparators[0].value, int | float):
        return node.left.id, float(node.comparators[0].value)
    return None


def threshold_report(t: pa.Table, keep_expr: str, *, by: str = "lang", samples: int = 3) -> dict:
    """What removing the rows where ``keep_expr`` is false would do, overall and per group."""
    e = Expr(keep_expr)
    keep = e.evaluate(t).to_numpy(zero_copy_only=False)
    sizes = t.column("text_bytes").to_numpy(zero_copy_only=False) if "text_bytes" in t.column_names \
        else np.ones(t.num_rows)
    groups = t.column(by).to_pylist() if by in t.column_names else ["all"] * t.num_rows
    report: dict = {"threshold": keep_expr, "groups": {}}
    for g in ["all", *sorted({x for x in groups if x is not None})]:
        m = np.ones(t.num_rows, bool) if g == "all" else np.array([x == g for x in groups])
        n = int(m.sum())
        rm = m & ~keep
        report["groups"][g] = {"documents": n, "removed_docs": int(rm.sum()),
                               "removed_doc_share": round(float(rm.sum() / n), 4) if n else None,
                               "removed_byte_share": round(float(sizes[rm].sum() / sizes[m].sum()), 4)
                               if n and sizes[m].sum() else None}
    cut = _cut(e)
    if cut and cut[0] in t.column_names and "text_preview" in t.column_names:
        col, value = cut
        v = t.column(col).to_numpy(zero_copy_only=False).astype(float)
        prev, ids = t.column("text_preview").to_pylist(), t.column("id").to_pylist()
        below = [i for i in np.argsort(np.abs(v - value)) if not np.isnan(v[i])]
        report["just_removed"] = [{"id": ids[i], col: float(v[i]), "text": prev[i]} for i in below
                                  if not keep[i]][:samples]
        report["just_kept"] = [{"id": ids[i], col: float(v[i]), "text": prev[i]} for i in below if keep[i]][:samples]
    return report
