"""The demo explains itself: per language, the share rejected and the top reason, in the run summary and the
report; a length rule that rejects short texts (the sample's Chinese poems) is named, with their median length."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from gristmill.cli import app
from gristmill.report.profile import Profile
from gristmill.report.why import per_language


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    r = CliRunner().invoke(app, ["demo", "--output", str(out), "--workers", "1"])
    assert r.exit_code == 0, r.output
    return out, " ".join(r.output.split())


def test_the_summary_says_per_language_what_was_rejected_and_why(demo):
    out, printed = demo
    assert "357 of the Chinese texts are shorter than 200 characters" in printed   # before the run
    why = {x["lang"]: x for x in json.loads((out / "analysis.json").read_text())["why_rejected"]}
    zh, en = why["zh"], why["en"]
    assert zh["docs"] == 445 and zh["rejected_share"] > 0.7
    top = zh["top_reasons"][0]
    assert (top["reason"], top["rule"], top["length_rule"]) == ("zh:zh_too_short", "n_chars >= 200", True)
    assert top["docs"] >= 357 and zh["median_chars_rejected"] < 100
    assert en["docs"] == 180 and 0 < en["rejected_share"] < zh["rejected_share"]
    assert "rejected, per language" in printed
    assert f"zh: {zh['docs_rejected']} of 445 documents rejected ({zh['rejected_share']:.0%})" in printed
    assert "short texts such as poems, quotes" in printed and 'docs/quality.md, "Why a length rule"' in printed
    m = json.loads((out / "manifest.json").read_text())
    rejected = m["counts"]["rejected"]
    assert sum(x["docs_rejected"] for x in why.values()) == rejected    # the per-language counts are exact


def test_the_report_shows_the_same(demo):
    out, _ = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="why-rejected"' in html and "Rejected, per language" in html
    assert "zh:zh_too_short" in html and "[n_chars &gt;= 200]" in html
    assert "The rejected zh documents have a median of" in html


def test_reasons_per_language_merge_exactly():
    docs = [("你好。" * k, "zh", "zh:zh_too_short") for k in range(1, 9)] + \
           [("word " * k, "en", "en:gopher_short_doc") for k in range(1, 5)] + [("好" * 300, "zh", "zh:zh_spam")]
    def profile(rows):
        p = Profile()
        p.add(pa.table({"id": [f"{i}{t[:3]}" for i, (t, _, _) in enumerate(rows)], "text": [r[0] for r in rows],
                        "lang": [r[1] for r in rows]}), "rejected", step="f", reasons=[r[2] for r in rows])
        return p.to_dict()
    whole = per_language(Profile.merge([profile(docs)]), [])
    parts = per_language(Profile.merge([profile(docs[:5]), profile(docs[5:])]), [])
    assert whole == parts
    zh = whole[0]
    assert zh["lang"] == "zh" and zh["docs_rejected"] == 9
    assert [(t["reason"], t["docs"]) for t in zh["top_reasons"]] == [("zh:zh_too_short", 8), ("zh:zh_spam", 1)]
    assert zh["top_reasons"][0]["rule"] is None and "most by f zh:zh_too_short (8, 89% of them)." in zh["note"]
