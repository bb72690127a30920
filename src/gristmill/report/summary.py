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
