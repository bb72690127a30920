"""Per-language cut-offs that keep the top share of documents by a score column of a signals sidecar, and
the ``filter`` rules that apply them (one rule per language; other languages pass).

>>> import pyarrow as pa
>>> t = pa.table({"lang": ["en"] * 10 + ["zh"] * 4, "s": [float(i) for i in range(10)] + [0.1, 0.2, 0.3, 0.4]})
>>> cuts = top_share(t, "s", 0.3)
>>> cuts["en"]["threshold"], cuts["en"]["kept"], cuts["zh"]["kept"]
(7.0, 3, 1)
>>> rules(cuts, "s")["s_top_en"]
"lang != 'en' or s >= 7.0"
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

from gristmill.errors import GristmillError


def top_share(t: pa.Table, column: str, share: float, by: str = "lang") -> dict[str, dict]:
    """{group: {documents, threshold, kept}}: the lowest score among the top ``share`` of each group's
    documents (at least one kept; ties at the cut are all kept). Documents without a score are not counted."""
    if not 0 < share <= 1:
        raise GristmillError(f"share {share} is not in (0, 1]", hint="e.g. 0.3 keeps the top 30%")
    if column not in t.column_names:
        raise GristmillError(f"the sidecar has no column {column!r}", hint="the classifier step's column")
    v = np.array(t.column(column).to_pylist(), dtype=float)
    g = np.array(t.column(by).to_pylist() if by in t.column_names else ["all"] * t.num_rows, dtype=object)
    out = {}
    for lang in sorted({x for x in g if x is not None}):
        s = v[(g == lang) & ~np.isnan(v)]
        if not len(s):
            continue
        k = max(1, int(round(share * len(s))))
        cut = float(np.sort(s)[::-1][k - 1])
        out[lang] = {"documents": int(len(s)), "threshold": round(cut, 6), "kept": int((s >= cut).sum())}
    return out


def rules(cuts: dict[str, dict], column: str, by: str = "lang") -> dict[str, str]:
    """``filter`` rules, one per group: ``"lang != 'en' or quality_score >= 2.31"``."""
    return {f"{column}_top_{g}": f"{by} != {g!r} or {column} >= {c['threshold']!r}" for g, c in cuts.items()}


def with_rules(recipe: str | Path, step: str, new_rules: dict[str, str], note: str) -> str:
    """The recipe's YAML with the rules of its filter step named ``step`` replaced by ``new_rules``, and
    relative model paths of its ``classifier`` steps made absolute (the copy may be run from elsewhere)."""
    path = Path(recipe)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise GristmillError(f"cannot read recipe {recipe}: {e}") from None
    steps = doc.get("steps") if isinstance(doc, dict) else None
    hit = [s for s in steps or [] if isinstance(s, dict) and s.get("step") == "filter" and s.get("name") == step]
    if not hit:
        raise GristmillError(f"{recipe} has no filter step named {step!r}", hint="--step NAME")
    hit[0]["rules"] = dict(new_rules)
    hit[0].pop("keep", None)
    for s in steps:
        if isinstance(s, dict) and s.get("step") == "classifier" and isinstance(s.get("model"), str) \
                and not os.path.isabs(s["model"]):
            s["model"] = os.path.abspath(s["model"])
    return f"# written by {note} from {recipe}\n" + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False,
                                                                    width=110)
