"""Why each language's documents were rejected: the share rejected, the top reasons, and, when the top
reason is a length rule, a sentence that says so with the rejected documents' median length.

>>> import pyarrow as pa
>>> from gristmill.report.profile import Profile
>>> p = Profile()
>>> p.add(pa.table({"id": ["a", "b", "c"], "text": ["床前明月光，疑是地上霜。", "举头望明月。", "x" * 300],
...                 "lang": ["zh", "zh", "zh"]}), "rejected", step="quality_filter",
...       reasons=["zh:zh_too_short", "zh:zh_too_short", "zh:zh_low_han"])
>>> th = [{"signal": "n_chars", "op": ">=", "value": 200.0, "rule": "zh:zh_too_short", "lang": "zh",
...        "step": "quality_filter"}]
>>> row = per_language(p, th)[0]
>>> row["lang"], row["docs_rejected"], row["rejected_share"], row["top_reasons"][0]["reason"]
('zh', 3, 1.0, 'zh:zh_too_short')
>>> print(row["note"])  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
zh: 3 of 3 documents rejected (100%), most by quality_filter zh:zh_too_short (2, 67% of them; rule n_chars >= 200).
The rejected zh documents have a median of 11.2 characters: short texts such as poems, quotes, ...
"""

from __future__ import annotations

from gristmill.report.profile import LEN_BINS, Profile

LENGTH_SIGNALS = ("n_chars", "gq_words", "text_bytes", "n_words", "zh_chars", "n_lines")
TOP = 3


def median_chars(hist: list[int]) -> float | None:
    """The median of a log10(characters) histogram (bins of 0.1), at its bin's centre."""
    total = sum(hist)
    acc = 0
    for i, c in enumerate(hist):
        acc += c
        if total and acc >= total / 2:
            return round(10 ** ((i + 0.5) / 10), 1)
    return None


def per_language(profile: Profile, thresholds: list[dict]) -> list[dict]:
    """One row per language (most documents first): documents, rejected, share, top reasons, a note."""
    out = []
    for lg, kinds in profile.langs.items():
        k = kinds.get("kept", {}).get("docs", 0)
        rej = kinds.get("rejected", {})
        r = rej.get("docs", 0)
        total = k + r
        reasons = sorted(rej.get("reasons", {}).items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
        top = []
        for group, n in reasons:
            step, _, reason = group.partition(": ")
            rule = next((t for t in thresholds if t["step"] == step and t["rule"] == reason), None)
            top.append({"step": step, "reason": reason, "docs": n, "share": round(n / r, 4) if r else 0.0,
                        "rule": f"{rule['signal']} {rule['op']} {rule['value']:g}" if rule else None,
                        "length_rule": bool(rule and rule["signal"] in LENGTH_SIGNALS and rule["op"] in (">", ">="))})
        row = {"lang": lg, "docs": total, "docs_rejected": r, "rejected_share": round(r / total, 4) if total else 0.0,
               "top_reasons": top,
               "median_chars_rejected": median_chars(rej.get("hist", [0] * LEN_BINS))}
        row["note"] = note(row)
        out.append(row)
    return sorted(out, key=lambda x: (-x["docs"], x["lang"]))


def note(row: dict) -> str | None:
    """The row in words (None when nothing of the language was rejected)."""
    if not row["docs_rejected"]:
        return None
    lg = row["lang"]
    text = (f"{lg}: {row['docs_rejected']:,} of {row['docs']:,} documents rejected "
            f"({row['rejected_share']:.0%})")
    if not row["top_reasons"]:
        return text + "."
    t = row["top_reasons"][0]
    rule = f"; rule {t['rule']}" if t["rule"] else ""
    text += f", most by {t['step']} {t['reason']} ({t['docs']:,}, {t['share']:.0%} of them{rule})."
    if t["length_rule"] and row["median_chars_rejected"] is not None:
        text += (f" The rejected {lg} documents have a median of {row['median_chars_rejected']:,} characters: "
                 "short texts such as poems, quotes, captions and headlines fall below the recipe's length rule "
                 "(see docs/quality.md, \"Why a length rule\").")
    return text
