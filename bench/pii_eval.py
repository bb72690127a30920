"""Scoring for the PII evaluation sets: a confusion table per type, look-alike preservation per kind, phone
recall per region and per cue, and the same for any detector with ``find_pii``'s signature.

A planted value is found (TP) when one detection of its type family covers all of it; a detection that
overlaps it without covering it is ``partial`` (counted as missed: part of the value stays readable). A
look-alike is preserved when no detection of any type overlaps it. Phones of Faker locales whose region is
not in the detector's default list are counted in a row of their own (``PHONE_other``). Detections touching neither are
``carrier`` hits: the Debian text itself holds real e-mail addresses and example IPs, so they are listed,
not counted as false positives.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

FAMILY = {"PHONE_CN": "PHONE", "IP_PRIVATE": "IP"}
ROOT = Path(__file__).resolve().parents[1]


def family(t: str) -> str:
    return FAMILY.get(t, t)


def head_detector():
    """``find_pii`` of the implementation at git HEAD (read with ``git show``; nothing in the tree changes)."""
    src = subprocess.run(["git", "show", "HEAD:src/gristmill/protect/pii.py"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "pii_head.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("pii_head", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["pii_head"] = mod
    spec.loader.exec_module(mod)
    return mod.find_pii


def score(docs, find, examples: int = 0) -> dict:
    tp, partial, fn, fp_look, fp_wrong, carrier = (Counter() for _ in range(6))
    look_n, look_kept = Counter(), Counter()
    look_lost: dict[str, list] = defaultdict(list)
    by_origin: dict[str, Counter] = defaultdict(Counter)
    by_cue: dict[str, Counter] = defaultdict(Counter)
    missed: dict[str, list] = defaultdict(list)
    carrier_ex: dict[str, list] = defaultdict(list)
    for d in docs:
        found = [(s.start, s.end, family(s.type), s.value) for s in find(d.text)]
        for a, b, typ, cue, origin in d.gold:
            cover = any(f[2] == typ and f[0] <= a and f[1] >= b for f in found)
            touch = any(f[2] == typ and f[0] < b and a < f[1] for f in found)
            key = "tp" if cover else "partial" if touch else "fn"
            # phones of regions outside the detector's default list are a row of their own
            row = f"{typ}_other" if origin.startswith("other:") else typ
            {"tp": tp, "partial": partial, "fn": fn}[key][row] += 1
            if typ == "PHONE":
                by_origin[origin][key] += 1
                by_cue[cue + (":other" if origin.startswith("other:") else "")][key] += 1
            if not cover and len(missed[typ]) < examples:
                missed[typ].append((d.text[max(0, a - 30):b + 10], [f[3] for f in found if f[0] < b and a < f[1]]))
        for a, b, kind in d.look:
            look_n[kind] += 1
            hits = [f for f in found if f[0] < b and a < f[1]]
            if hits:
                for f in hits:
                    fp_look[f[2]] += 1
                if len(look_lost[kind]) < examples:
                    look_lost[kind].append((d.text[max(0, a - 40):b + 10], [(f[2], f[3]) for f in hits]))
            else:
                look_kept[kind] += 1
        for f in found:
            on_gold = [g for g in d.gold if f[0] < g[1] and g[0] < f[1]]
            if on_gold:
                if all(g[2] != f[2] for g in on_gold):
                    fp_wrong[f[2]] += 1
            elif not any(f[0] < b and a < f[1] for a, b, _ in d.look):
                carrier[f[2]] += 1
                if len(carrier_ex[f[2]]) < examples:
                    carrier_ex[f[2]].append(f[3])
    types = sorted(set(tp) | set(fn) | set(partial) | set(fp_look) | set(fp_wrong))
    table = {}
    for t in types:
        n = tp[t] + partial[t] + fn[t]
        fp = fp_look[t] + fp_wrong[t]
        table[t] = {"planted": n, "TP": tp[t], "partial": partial[t], "FN": fn[t], "FP_lookalike": fp_look[t],
                    "FP_wrong_type": fp_wrong[t], "carrier_hits": carrier[t],
                    "recall": round(tp[t] / n, 4) if n else None,
                    "precision": round(tp[t] / (tp[t] + fp), 4) if tp[t] + fp else None}
    looks = {k: {"n": look_n[k], "preserved": look_kept[k], "share": round(look_kept[k] / look_n[k], 4)}
             for k in sorted(look_n)}
    total_n, total_kept = sum(look_n.values()), sum(look_kept.values())
    looks["ALL"] = {"n": total_n, "preserved": total_kept, "share": round(total_kept / max(total_n, 1), 4)}

    def rec(c: Counter) -> dict:
        n = sum(c.values())
        return {"n": n, "recall": round(c["tp"] / n, 4) if n else None}

    return {"types": table, "lookalikes": looks,
            "phone_by_region": {k: rec(v) for k, v in sorted(by_origin.items())},
            "phone_by_cue": {k: rec(v) for k, v in sorted(by_cue.items())},
            "examples": {"missed": dict(missed), "lookalikes_lost": dict(look_lost), "carrier": dict(carrier_ex)}}


def print_tables(name: str, res: dict, base: dict | None = None) -> None:
    print(f"\n## {name}")
    print(f"{'type':<12}{'planted':>8}{'TP':>6}{'part':>6}{'FN':>5}{'FP_look':>8}{'FP_type':>8}{'carrier':>8}"
          f"{'recall':>8}{'prec':>7}" + ("   HEAD recall" if base else ""))
    for t, r in res["types"].items():
        b = (base or {}).get("types", {}).get(t, {})
        print(f"{t:<12}{r['planted']:>8}{r['TP']:>6}{r['partial']:>6}{r['FN']:>5}{r['FP_lookalike']:>8}"
              f"{r['FP_wrong_type']:>8}{r['carrier_hits']:>8}{_f(r['recall']):>8}{_f(r['precision']):>7}"
              + (f"   {_f(b.get('recall'))}" if base else ""))
    if res["lookalikes"]["ALL"]["n"]:
        print(f"\n{'look-alike':<12}{'n':>6}{'kept':>6}{'share':>8}" + ("   HEAD share" if base else ""))
        for k, r in res["lookalikes"].items():
            b = (base or {}).get("lookalikes", {}).get(k, {})
            print(f"{k:<12}{r['n']:>6}{r['preserved']:>6}{_f(r['share']):>8}"
                  + (f"   {_f(b.get('share'))}" if base else ""))
    if res["phone_by_region"]:
        print("\nphone recall by Faker locale: " + ", ".join(
            f"{k} {_f(v['recall'])} ({v['n']})" for k, v in res["phone_by_region"].items()))
        print("phone recall by cue: " + ", ".join(f"{k} {_f(v['recall'])} ({v['n']})"
                                                  for k, v in res["phone_by_cue"].items()))


def _f(x) -> str:
    return "-" if x is None else f"{x:.3f}"
