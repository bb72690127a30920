"""The report's numbers: everything the HTML shows, computed from a manifest and a merged profile.

``build`` returns plain data (saved as ``analysis.json`` beside the report) so that every statistic can be
checked and reused without parsing HTML.

>>> import pyarrow as pa
>>> from gristmill.report.profile import Profile
>>> p = Profile()
>>> p.add(pa.table({"id": ["a"], "text": ["Hello there, she said."], "lang": ["en"]}), "kept")
>>> a = build(None, Profile.merge([p.to_dict()]), title="t")
>>> a["languages"][0]["lang"], a["bias"]["en"]["categories"]["gender.female"]["total"]
('en', 1)
"""

from __future__ import annotations

import math

import numpy as np

from gristmill.report import bias, diversity, svg
from gristmill.report.profile import LEN_BINS, Profile, _sample_items
from gristmill.report.thresholds import rule_sources
from gristmill.report.thresholds import thresholds as recipe_thresholds
from gristmill.report.why import median_chars, per_language

MAX_LANGS = 8


_median_from_hist = median_chars


def summary(manifest: dict | None, profile: Profile, title: str, extra: dict | None = None) -> dict:
    kept = profile.groups.get("kept", {"docs": 0, "bytes": 0})
    rej_docs = sum(g["docs"] for k, g in profile.groups.items() if k != "kept")
    rej_bytes = sum(g["bytes"] for k, g in profile.groups.items() if k != "kept")
    out = {"title": title, "mode": "run" if manifest else "analyze", "docs_kept": kept["docs"],
           "bytes_kept": kept["bytes"], "docs_rejected": rej_docs, "bytes_rejected": rej_bytes, **(extra or {})}
    if manifest:
        c = manifest["counts"]
        wall = manifest.get("wall_seconds") or 0.0
        out.update({
            "recipe": manifest["recipe"]["name"], "recipe_file": manifest.get("recipe_file"),
            "recipe_hash": manifest.get("recipe_hash"), "versions": manifest.get("versions", {}),
            "started": manifest.get("started"), "finished": manifest.get("finished"), "wall_seconds": wall,
            "workers": manifest.get("workers"), "docs_in": c["input"], "quarantined": c["quarantined"],
            "reconciled": manifest.get("reconciled"), "bytes_in": manifest.get("bytes", {}).get("input_text", 0),
            "inputs": [i["path"] for i in manifest.get("inputs", [])],
            "input_problems": manifest.get("input_problems", []),
        })
        out["docs_per_second"] = round(c["input"] / wall, 1) if wall else None
        out["mb_per_second"] = round(out["bytes_in"] / 1e6 / wall, 3) if wall else None
    else:
        out.setdefault("docs_in", kept["docs"] + rej_docs)
        out.setdefault("bytes_in", kept["bytes"] + rej_bytes)
        wall = out.get("wall_seconds") or 0.0
        out["docs_per_second"] = round(out["docs_in"] / wall, 1) if wall else None
        out["mb_per_second"] = round(out["bytes_in"] / 1e6 / wall, 3) if wall else None
    return out


def funnel(manifest: dict | None, profile: Profile) -> list[dict]:
    """Documents and text bytes entering the run and left after each step."""
    if not manifest:
        s = summary(None, profile, "")
        return [{"stage": "input", "docs": s["docs_in"], "bytes": s["bytes_in"]}]
    rows = [{"stage": "input", "docs": manifest["counts"]["input"] - manifest["counts"]["quarantined"],
             "bytes": manifest.get("bytes", {}).get("input_text", 0)}]
    for s in manifest["steps"]:
        rows.append({"stage": s["name"], "docs": s["kept"], "bytes": s.get("bytes_kept")})
    return rows


def rejections(profile: Profile, rules: dict[str, str] | None = None) -> list[dict]:
    """Rejected documents per step and reason; a filter rule's reason also gets the condition the documents
    met instead, as a reader would write it (``n_chars < 200``)."""
    from gristmill.conditions import failed

    rules = rules or {}
    total = sum(g["docs"] for g in profile.groups.values()) or 1
    out = [{"step": g["step"], "reason": g["reason"], "docs": g["docs"], "bytes": g["bytes"],
            "share": round(g["docs"] / total, 4),
            "condition": failed(rules[g["reason"]]) if g["reason"] in rules else None}
           for k, g in profile.groups.items() if k != "kept"]
    return sorted(out, key=lambda r: (-r["docs"], r["step"] or "", r["reason"] or ""))


def languages(profile: Profile) -> list[dict]:
    out = []
    for lg, kinds in profile.langs.items():
        k = kinds.get("kept", {"docs": 0, "bytes": 0})
        r = kinds.get("rejected", {"docs": 0, "bytes": 0})
        out.append({"lang": lg, "docs": k["docs"] + r["docs"], "bytes": k["bytes"] + r["bytes"],
                    "docs_kept": k["docs"], "bytes_kept": k["bytes"]})
    return sorted(out, key=lambda r: (-r["docs"], r["lang"]))


def lengths(profile: Profile) -> dict:
    out = {}
    for row in languages(profile)[:MAX_LANGS]:
        kinds = profile.langs[row["lang"]]
        hk = kinds.get("kept", {}).get("hist", [0] * LEN_BINS)
        hr = kinds.get("rejected", {}).get("hist", [0] * LEN_BINS)
        nz = [i for i in range(LEN_BINS) if hk[i] or hr[i]]
        lo, hi = (min(nz), max(nz) + 1) if nz else (0, 1)
        out[row["lang"]] = {"edges": [i / 10 for i in range(lo, hi + 1)], "kept": hk[lo:hi], "rejected": hr[lo:hi],
                            "median_chars_kept": _median_from_hist(hk), "median_chars_all":
                            _median_from_hist([a + b for a, b in zip(hk, hr, strict=True)])}
    return out


ONE_BIN = 0.9       # a histogram whose largest bin holds more than this share is drawn on a log scale
MIN_LANG_SAMPLE = 20  # sampled documents a language needs for histograms of its own


def _hist(kept: np.ndarray, rejected: np.ndarray, marks: list[dict]) -> dict:
    edges, log_x = svg.bins_for(np.concatenate([kept, rejected]), [t["value"] for t in marks])
    out = {"thresholds": marks, "edges": [round(e, 6) for e in edges], "log_x": log_x,
           "sampled": len(kept) + len(rejected)}
    for k, v in (("kept", kept), ("rejected", rejected)):
        out[k] = svg.counts(v, edges, log_x)
    totals = [a + b for a, b in zip(out["kept"], out["rejected"], strict=True)]
    out["log_y"] = bool(sum(totals)) and max(totals) > ONE_BIN * sum(totals) and sum(1 for t in totals if t) > 1
    return out


def signals(profile: Profile, thresholds: list[dict]) -> list[dict]:
    """Per signal: exact count/mean/min/max by outcome, a histogram of the sampled documents, and one per
    language with enough sampled documents, with that language's thresholds (rules for all languages too)."""
    items = [x[1] for x in _sample_items(profile.sample.items)]  # dicts, merged profile or not
    by_lang: dict[str, int] = {}
    for it in items:
        by_lang[it["lang"]] = by_lang.get(it["lang"], 0) + 1
    langs = [lg for lg, c in sorted(by_lang.items(), key=lambda kv: -kv[1]) if c >= MIN_LANG_SAMPLE and lg][:4]
    kinds = np.array([it["kind"] for it in items], dtype=object)
    item_langs = np.array([it["lang"] for it in items], dtype=object)
    is_kind = {k: kinds == k for k in ("kept", "rejected")}
    is_lang = {lg: item_langs == lg for lg in langs}
    out = []
    names = sorted(profile.signals)
    # a sampled document without a signal (absent or NaN in its shard) has none here: NaN, then left out
    # (None, what dict.get gives for an absent one, is NaN in a float array)
    values = np.array([list(map(it["signals"].get, names)) for it in items], dtype=np.float64).reshape(
        len(items), len(names))
    for j, name in enumerate(names):
        st = profile.signals[name]
        marks = [t for t in thresholds if t["signal"] == name]
        col = values[:, j]
        has = ~np.isnan(col)
        row = {"name": name, **_hist(col[is_kind["kept"] & has], col[is_kind["rejected"] & has], marks)}
        for k in ("kept", "rejected"):
            s = st.get(k)
            row[f"{k}_stats"] = ({"n": s["n"], "mean": round(s["sum"] / s["n"], 6), "min": s["min"],
                                  "max": s["max"]} if s and s["n"] else None)
        row["by_lang"] = []
        for lg in langs:
            m = has & is_lang[lg]
            kept, rejected = col[m & is_kind["kept"]], col[m & is_kind["rejected"]]
            if len(kept) + len(rejected) >= 5:
                row["by_lang"].append({"lang": lg, **_hist(kept, rejected,
                                                           [t for t in marks if t.get("lang") in (None, lg)])})
        out.append(row)
    return out


def duplicates(manifest: dict | None, profile: Profile, extra: dict | None = None) -> dict:
    steps = {}
    for label, info in ((manifest or {}).get("global_steps") or {}).items():
        if "cluster_sizes" in info or "duplicates" in info:
            steps[label] = {k: info[k] for k in ("duplicates", "clusters", "cluster_sizes") if k in info}
    if extra:
        steps.update(extra)
    ex = []
    for g, lst in profile.examples.items():
        grp = profile.groups.get(g, {})
        if grp.get("reason") in ("duplicate", "near_duplicate"):
            ex += [{"group": g, **e} for _, e in lst]
    return {"steps": steps, "examples": ex[:12]}


def protection(profile: Profile) -> dict:
    pii = {k: {t: n for t, n in sorted(v.items(), key=lambda kv: -kv[1]) if n} for k, v in profile.pii.items()}
    return {"pii": {k: v for k, v in pii.items() if v},
            "pii_measured": any(n.startswith("pii_") for n in profile.signals),
            "contamination": dict(sorted(profile.contam.items(), key=lambda kv: -kv[1])),
            "contamination_measured": "contam_ngrams" in profile.signals}


def diversity_section(profile: Profile) -> dict:
    texts = [(x[1]["lang"], x[1]["text"]) for x in profile.texts.items]
    total = sum(c.get("kept", 0) for c in profile.sources.values()) or 1
    return {"per_language": diversity.measure(texts), "sample_docs": len(texts),
            "top_domains": profile.domains.most_common(20),
            "top_sources": sorted(((s, c.get("kept", 0), round(c.get("kept", 0) / total, 4))
                                   for s, c in profile.sources.items()), key=lambda r: -r[1])[:20]}


def bias_section(profile: Profile) -> dict:
    return {lg: bias.summarize(dict(c), profile.bias_chars.get(lg, 0)) for lg, c in profile.bias.items()}


def build(manifest: dict | None, profile: Profile, *, title: str, thresholds: list[dict] | None = None,
          extra_summary: dict | None = None, extra_duplicates: dict | None = None) -> dict:
    """All the report's sections as data."""
    if thresholds is None:
        thresholds = recipe_thresholds(manifest["recipe"]) if manifest else []
    examples = {}
    for g in sorted(profile.examples, key=lambda g: (g != "kept", g)):
        examples[g] = [e for _, e in profile.examples[g]]
    return {
        "summary": summary(manifest, profile, title, extra_summary),
        "funnel": funnel(manifest, profile),
        "rejections": rejections(profile, rule_sources(manifest["recipe"]) if manifest else None),
        "languages": languages(profile),
        "why_rejected": per_language(profile, thresholds),
        "lengths": lengths(profile),
        "signals": signals(profile, thresholds),
        "duplicates": duplicates(manifest, profile, extra_duplicates),
        "protection": protection(profile),
        "diversity": diversity_section(profile),
        "bias": bias_section(profile),
        "bias_terms": bias.TERMS,
        "examples": examples,
        "sample": {"docs": len(profile.sample.items), "rate": profile.sample.tau,
                   "texts": len(profile.texts.items)},
    }


def finite(obj):
    """The same data with inf/nan replaced by None (JSON has neither)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    return obj
