"""The run summary for the terminal: a rich table of steps and the reconciliation line.

>>> totals_line({"counts": {"input": 3, "kept": 2, "rejected": 1, "quarantined": 0}, "reconciled": True,
...              "wall_seconds": 0.5})
'input 3 = kept 2 + rejected 1 + quarantined 0 (reconciled); 0.5 s'
"""

from __future__ import annotations

from rich.table import Table


def step_table(manifest: dict) -> Table:
    t = Table(title=f"gristmill · {manifest['recipe']['name']}", title_justify="left")
    for col, just in (("step", "left"), ("in", "right"), ("kept", "right"), ("rejected", "right"),
                      ("top reasons", "left"), ("seconds", "right")):
        t.add_column(col, justify=just)
    for s in manifest["steps"]:
        rej = sum(s["rejected"].values())
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(s["rejected"].items(), key=lambda kv: -kv[1])[:3])
        t.add_row(s["name"], f"{s['in']:,}", f"{s['kept']:,}", f"{rej:,}", reasons, f"{s['seconds']:.2f}")
    return t


def totals_line(manifest: dict) -> str:
    c = manifest["counts"]
    ok = "reconciled" if manifest["reconciled"] else "NOT RECONCILED"
    return (f"input {c['input']:,} = kept {c['kept']:,} + rejected {c['rejected']:,} + quarantined "
            f"{c['quarantined']:,} ({ok}); {manifest['wall_seconds']:.1f} s")


def language_table(why: list[dict], limit: int = 6) -> Table | None:
    """Per language (most documents first): documents, rejected, share rejected and the top reason."""
    rows = why[:limit]
    if not any(x["docs_rejected"] for x in rows):
        return None
    t = Table(title="rejected, per language", title_justify="left")
    for col, just in (("language", "left"), ("documents", "right"), ("rejected", "right"), ("share", "right"),
                      ("top reason (share of the rejected)", "left")):
        t.add_column(col, justify=just)
    for x in rows:
        top = x["top_reasons"][0] if x["top_reasons"] else None
        reason = (f"{top['reason']} {top['share']:.0%}" + (f" ({top['rule']})" if top["rule"] else "")) if top else ""
        t.add_row(x["lang"], f"{x['docs']:,}", f"{x['docs_rejected']:,}", f"{x['rejected_share']:.0%}", reason)
    return t


def language_notes(why: list[dict], limit: int = 6) -> list[str]:
    """The sentences for languages whose top rejection reason is a length rule (the demo's Chinese poems)."""
    return [x["note"] for x in why[:limit] if x["note"] and x["top_reasons"] and x["top_reasons"][0]["length_rule"]]


def explain_run(output: str) -> list:
    """The per-language table and notes of a finished run folder (from its analysis.json; none without a
    report)."""
    import os

    import orjson

    path = os.path.join(output, "analysis.json")
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        why = orjson.loads(f.read()).get("why_rejected", [])
    table = language_table(why)
    return ([table] if table is not None else []) + language_notes(why)
