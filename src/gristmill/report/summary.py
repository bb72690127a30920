"""The run summary: a rich table for the terminal and a small self-contained HTML page (no network).

>>> html = render_html({"recipe": {"name": "x"}, "steps": [], "counts": {"input": 0, "kept": 0, "rejected": 0,
...     "quarantined": 0}, "reconciled": True, "wall_seconds": 0.1, "bytes": {}, "input_problems": []})
>>> "<table" in html and "reconciled" in html
True
"""

from __future__ import annotations

import html as _html

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


def render_html(manifest: dict) -> str:
    e = _html.escape
    c = manifest["counts"]
    rows = "".join(
        f"<tr><td>{e(s['name'])}</td><td>{s['in']:,}</td><td>{s['kept']:,}</td>"
        f"<td>{sum(s['rejected'].values()):,}</td><td>{e(', '.join(f'{k}: {v:,}' for k, v in s['rejected'].items()))}"
        f"</td><td>{s['seconds']:.2f}</td></tr>" for s in manifest["steps"])
    problems = "".join(f"<li>{e(p['path'])}: {e(p['problem'])}</li>" for p in manifest.get("input_problems", []))
    b = manifest.get("bytes", {})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gristmill run: {e(manifest['recipe']['name'])}</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC","PingFang SC",sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}
td:first-child,th:first-child,td:nth-child(5){{text-align:left}}.ok{{color:#17702b}}.bad{{color:#a00}}</style>
</head><body>
<h1>gristmill run: {e(manifest['recipe']['name'])}</h1>
<p>Input {c['input']:,} records = kept {c['kept']:,} + rejected {c['rejected']:,} + quarantined
{c['quarantined']:,}: <b class="{'ok' if manifest['reconciled'] else 'bad'}">{'reconciled' if manifest['reconciled'] else 'NOT reconciled'}</b>.
Text in {b.get('input_text', 0) / 1e6:,.2f} MB, kept {b.get('kept_text', 0) / 1e6:,.2f} MB; wall time {manifest['wall_seconds']:.1f} s.</p>
<h2>Steps</h2>
<table><tr><th>step</th><th>in</th><th>kept</th><th>rejected</th><th>reasons</th><th>seconds</th></tr>{rows}</table>
<h2>Input problems</h2><ul>{problems or '<li>none</li>'}</ul>
</body></html>
"""
