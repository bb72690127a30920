"""Results of an ablation: mean ± standard deviation over seeds, and which differences exceed seed noise.

A difference between two variants counts when it is larger than twice its standard error
(Welch: sqrt(s_a²/n_a + s_b²/n_b)), which needs at least two seeds per variant.

>>> cells = [{"variant": v, "seed": s, "eval": {"en": b}} for v, s, b in
...          [("a", 0, 2.00), ("a", 1, 2.02), ("b", 0, 1.80), ("b", 1, 1.83)]]
>>> r = summarize({"name": "x", "variants": [{"name": "a"}, {"name": "b"}]}, cells)
>>> r["table"]["b"]["en"]["mean"], r["comparisons"][0]["significant"]
(1.815, True)
"""

from __future__ import annotations

import html
import json
import math
import os


def _mean_std(xs: list[float]) -> tuple[float, float]:
    m = sum(xs) / len(xs)
    s = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, s


def summarize(spec: dict, cells: list[dict]) -> dict:
    order = [v["name"] for v in spec["variants"] if any(c["variant"] == v["name"] for c in cells)]
    keys = sorted({e for c in cells for e in c["eval"]})
    evals = [e for e in keys if "/" not in e]
    domain_sets = [e for e in keys if "/" in e]
    table = {}
    for v in order:
        table[v] = {}
        for e in keys:
            xs = [c["eval"][e] for c in cells if c["variant"] == v and e in c["eval"]]
            m, s = _mean_std(xs)
            table[v][e] = {"mean": round(m, 5), "std": round(s, 5), "n": len(xs), "values": xs}
    base = spec.get("compare_to") or (order[0] if order else None)
    comps = []
    for v in order:
        if v == base:
            continue
        for e in keys:
            a, b = table[base][e], table[v][e]
            diff = b["mean"] - a["mean"]
            se = math.sqrt(a["std"] ** 2 / a["n"] + b["std"] ** 2 / b["n"]) if a["n"] > 1 and b["n"] > 1 else None
            significant = se is not None and abs(diff) > 2 * se and diff != 0
            comps.append({"baseline": base, "variant": v, "eval": e, "diff_bpb": round(diff, 5),
                          "se": None if se is None else round(se, 5), "significant": significant})
    data = {}
    for c in cells:
        if c["variant"] not in data:
            data[c["variant"]] = dict(c.get("data") or {}, epochs=c.get("train", {}).get("epochs"),
                                      epochs_by_lang=c.get("train", {}).get("epochs_by_lang"))
    train = next((c.get("train") for c in cells), {})
    return {"name": spec["name"], "description": spec.get("description"), "variants": order, "eval_sets": evals,
            "domain_sets": domain_sets,
            "seeds": spec.get("seeds"), "table": table, "baseline": base, "comparisons": comps, "data": data,
            "train": train, "train_seconds": round(sum(c.get("train", {}).get("train_seconds", 0) for c in cells), 1)}


def _mean(r: dict, v: str, e: str) -> str:
    x = r["table"][v][e]
    return f"{x['mean']:.4f} ± {x['std']:.4f}"


def _diff(r: dict, v: str, e: str) -> str:
    c = next((c for c in r["comparisons"] if c["variant"] == v and c["eval"] == e), None)
    if c is None:
        return ""
    se = "" if c["se"] is None else f" ± {c['se']:.4f}"
    return f" ({c['diff_bpb']:+.4f}{se}{' *' if c['significant'] else ''})"


def data_table(r: dict) -> list[str]:
    """Per variant and language: documents, bytes and tokens available, the share of training tokens and the
    epochs the budget implied; eval copies left out; epochs overall."""
    langs = sorted({lang for v in r["variants"] for lang in ((r["data"].get(v) or {}).get("by_lang") or {})})
    if not langs:
        return []
    lines = ["| variant | " + " | ".join(f"{lang} docs / MB / tokens" for lang in langs) + " | "
             + " | ".join(f"{lang} share trained / epochs" for lang in langs)
             + " | eval copies left out (exact + near) | epochs |", "|---" * (2 * len(langs) + 3) + "|"]
    for v in r["variants"]:
        d = r["data"].get(v) or {}
        bl = d.get("by_lang") or {}
        cells = [f"{bl[lang]['docs']:,} / {bl[lang]['bytes'] / 1e6:.2f} / {bl[lang].get('tokens', 0):,}"
                 if lang in bl else "0" for lang in langs]
        share, ep = d.get("train_share") or {}, d.get("epochs_by_lang") or {}
        cells += [f"{share[lang]:.3f} / {ep[lang]:.2f}" if lang in share and lang in ep else "–" for lang in langs]
        ov = d.get("eval_overlap") or {}
        e = d.get("epochs")
        lines.append(f"| {v} | " + " | ".join(cells) + f" | {ov.get('exact', 0)} + {ov.get('near', 0)} | "
                     + ("–" if e is None else f"{e:.2f}") + " |")
    return lines


def shares_note(r: dict) -> str:
    """One line on the language shares every variant was mixed to (empty when trained as produced)."""
    mixed = {v: (r["data"].get(v) or {}).get("shares") for v in r["variants"]}
    mixed = {v: m for v, m in mixed.items() if m}
    if not mixed:
        return ""
    m = next(iter(mixed.values()))
    target = m["target"] if isinstance(m["target"], str) else ", ".join(f"{k} {x:g}" for k, x in m["target"].items())
    note = (f"Every variant was mixed to the same token shares per language ({target}; the `mix` step, repeats "
            f"uncapped) after decontamination; training reads {m['budget']:,} tokens of each variant's mix.")
    lacking = [f"{v} has no {', '.join(x['missing'])}" for v, x in mixed.items() if x.get("missing")]
    return note + (" Not reachable: " + "; ".join(lacking) + "." if lacking else "")


def markdown(r: dict) -> str:
    head = "| variant | " + " | ".join(f"{e} bpb (mean ± std)" for e in r["eval_sets"]) + " | kept docs | tokens |"
    lines = [f"### {r['name']}", "", r.get("description") or "", "", head,
             "|---" * (len(r["eval_sets"]) + 3) + "|"]
    for v in r["variants"]:
        d = r["data"].get(v) or {}
        cells = " | ".join(f"{r['table'][v][e]['mean']:.4f} ± {r['table'][v][e]['std']:.4f} (n={r['table'][v][e]['n']})"
                           for e in r["eval_sets"])
        lines.append(f"| {v} | {cells} | {d.get('counts', {}).get('kept', '–')} | {d.get('tokens', '–')} |")
    lines += ["", f"Differences from `{r['baseline']}` (negative = better; * = larger than twice the seed-noise "
                  "standard error):", ""]
    for c in r["comparisons"]:
        if "/" in c["eval"]:
            continue
        se = "n/a (one seed)" if c["se"] is None else f"{c['se']:.4f}"
        lines.append(f"- {c['variant']} on {c['eval']}: {c['diff_bpb']:+.4f} bpb (SE {se}){' *' if c['significant'] else ''}")
    dt = data_table(r)
    if dt:
        lines += ["", "Training data per language (documents, counting a variant's own `mix` repeats; MB and tokens "
                      "available after decontamination), the share of "
                      "the training tokens and the epochs the budget implied per language, evaluation copies left "
                      "out before packing, and epochs overall:", "", *dt]
        if shares_note(r):
            lines += ["", shares_note(r)]
    if r.get("domain_sets"):
        lines += ["", "Bits per byte per domain (mean ± std; in brackets the difference from "
                      f"`{r['baseline']}` ± its standard error, * beyond twice it):", "",
                  "| domain | " + " | ".join(r["variants"]) + " |", "|---" * (len(r["variants"]) + 1) + "|"]
        for e in r["domain_sets"]:
            lines.append(f"| {e} | " + " | ".join(_mean(r, v, e) + _diff(r, v, e) for v in r["variants"]) + " |")
    if r.get("correlations"):
        from gristmill.ablate.correlate import markdown as corr_md

        c = r["correlations"]
        lines += ["", f"#### Which signals predict bits per byte ({c['documents']:,} documents of `{c['variant']}`)",
                  "", corr_md(c["table"], c["variant"])]
    return "\n".join(lines) + "\n"


def svg_plot(r: dict, width: int = 640) -> str:
    """Grouped bars (one group per eval set) with ±1 std error bars."""
    from gristmill.report.svg import FONT, PALETTE

    evals, vs = r["eval_sets"], r["variants"]
    vals = [r["table"][v][e]["mean"] + r["table"][v][e]["std"] for v in vs for e in evals] or [1]
    top = max(vals) * 1.1 or 1
    h, left, bottom = 260, 50, 40
    gw = (width - left - 10) / max(len(evals), 1)
    bw = gw * 0.8 / max(len(vs), 1)
    out = [f'<svg class="plot" width="{width}" height="{h}" viewBox="0 0 {width} {h}" {FONT} font-size="11" '
           f'data-points="{len(vs) * len(evals)}">']
    ph = h - bottom - 20
    for gi, e in enumerate(evals):
        x0 = left + gi * gw + gw * 0.1
        out.append(f'<text x="{left + gi * gw + gw / 2:.1f}" y="{h - 22}" text-anchor="middle">{html.escape(e)}</text>')
        for vi, v in enumerate(vs):
            m, s = r["table"][v][e]["mean"], r["table"][v][e]["std"]
            x = x0 + vi * bw
            y = 20 + ph - m / top * ph
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw * 0.9:.1f}" height="{m / top * ph:.1f}" '
                       f'fill="{PALETTE[vi % len(PALETTE)]}"><title>{html.escape(v)} {e}: {m:.4f} ± {s:.4f}</title></rect>')
            cx = x + bw * 0.45
            y1, y2 = 20 + ph - (m + s) / top * ph, 20 + ph - (m - s) / top * ph
            out.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="#000"/>')
            out.append(f'<text x="{cx:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="9">{m:.3f}</text>')
    for vi, v in enumerate(vs):
        out.append(f'<rect x="{left + vi * 110}" y="{h - 12}" width="9" height="9" fill="{PALETTE[vi % len(PALETTE)]}"/>'
                   f'<text x="{left + vi * 110 + 12}" y="{h - 4}">{html.escape(v)}</text>')
    out.append('<text x="4" y="14">bits per byte (lower is better)</text></svg>')
    return "".join(out)


def write(r: dict, out: str) -> None:
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(r, f, indent=2, ensure_ascii=False)
    md = markdown(r)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(md)
    body = "".join(f"<p>{html.escape(line)}</p>" if not line.startswith("|") else "" for line in md.splitlines())
    rows = "".join(f"<tr><td>{html.escape(v)}</td>" + "".join(
        f"<td>{r['table'][v][e]['mean']:.4f} ± {r['table'][v][e]['std']:.4f}</td>" for e in r["eval_sets"]) + "</tr>"
        for v in r["variants"])
    page = (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(r["name"])}</title></head>'
            f'<body style="font-family:system-ui,sans-serif;margin:2em"><h1>{html.escape(r["name"])}</h1>'
            f'{svg_plot(r)}<table border="1" cellpadding="4"><tr><th>variant</th>'
            + "".join(f"<th>{html.escape(e)} bpb</th>" for e in r["eval_sets"]) + f"</tr>{rows}</table>{body}</body></html>")
    with open(os.path.join(out, "results.html"), "w") as f:
        f.write(page)
