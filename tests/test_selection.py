"""Signals without selection: sidecar, select, calibrate; and the trained classifier as a signal."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from gristmill.select.calibrate import load, percentiles, threshold_report
from gristmill.select.sidecar import select, write_signals
from tests.conftest import output_rows, read_jsonl, shared, write_jsonl

RECIPE = """
steps:
  - step: langid
  - step: quality
  - step: filter
    preset: [bilingual]
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("sel")
    en = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))
    zh = read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))
    write_jsonl(d / "in" / "en.jsonl", [{"id": r["id"], "text": r["text"]} for r in en])
    write_jsonl(d / "in" / "zh.jsonl", [{"id": r["id"], "text": r["text"], "url": r["url"]} for r in zh])
    (d / "r.yaml").write_text(RECIPE)
    return d


def test_sidecar_then_select_matches_a_full_run(corpus, tmp_path):
    m = write_signals(str(corpus / "r.yaml"), inputs=[str(corpus / "in")], output=str(tmp_path / "side"),
                      workers=1, quiet=True)
    assert m["counts"]["kept"] == 206 + 63  # no selection happened
    t = pq.read_table(next((tmp_path / "side" / "kept").glob("*.parquet")))
    assert {"id", "lang", "gq_words", "zh_han_frac", "text_bytes", "text_preview"} <= set(t.column_names)
    assert "text" not in t.column_names and "meta" not in t.column_names
    res = select(str(tmp_path / "side"), str(corpus / "r.yaml"), str(tmp_path / "sel"))
    # the same recipe run end to end keeps exactly the documents the sidecar selection keeps
    from gristmill import run

    full = run(str(corpus / "r.yaml"), inputs=[str(corpus / "in")], output=str(tmp_path / "full"), workers=1,
               quiet=True)
    assert res["kept"] == full["counts"]["kept"] and res["rejected"] == full["counts"]["rejected"]
    sel = [r for p in sorted((tmp_path / "sel").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    kept_ids = {r["id"] for r in output_rows(tmp_path / "full")}
    assert {r["id"] for r in sel if r["kept"]} == kept_ids


def test_reselect_with_another_threshold_without_recomputing(corpus, tmp_path):
    write_signals(str(corpus / "r.yaml"), inputs=[str(corpus / "in")], output=str(tmp_path / "side"), workers=1,
                  quiet=True)
    strict = tmp_path / "strict.yaml"
    strict.write_text(RECIPE + "    rules:\n      en:gopher_short_doc: \"lang != 'en' or gq_words >= 400\"\n")
    a = select(str(tmp_path / "side"), str(corpus / "r.yaml"), str(tmp_path / "a"))
    b = select(str(tmp_path / "side"), str(strict), str(tmp_path / "b"))
    assert b["kept"] < a["kept"]
    assert b["reasons"]["filter:en:gopher_short_doc"] > a["reasons"].get("filter:en:gopher_short_doc", 0)


def test_calibrate_percentiles_and_threshold(corpus, tmp_path):
    write_signals(str(corpus / "r.yaml"), inputs=[str(corpus / "in")], output=str(tmp_path / "side"), workers=1,
                  quiet=True)
    t = load(str(tmp_path / "side"))
    pct = percentiles(t)
    assert set(pct) == {"all", "en", "zh"} and pct["zh"]["documents"] == [63]
    assert pct["zh"]["zh_han_frac"][4] > 0.5 > pct["en"]["zh_han_frac"][4]  # medians
    rep = threshold_report(t, "gq_words >= 200")
    en = rep["groups"]["en"]
    assert 0 < en["removed_doc_share"] < 1 and en["removed_docs"] == sum(
        1 for w, lang in zip(t.column("gq_words").to_pylist(), t.column("lang").to_pylist(), strict=True)
        if lang == "en" and w < 200)
    assert all(s["gq_words"] < 200 for s in rep["just_removed"]) and all(s["gq_words"] >= 200 for s in rep["just_kept"])
    assert rep["just_removed"][0]["text"]


def test_cli_signals_select_calibrate(corpus, tmp_path):
    def cli(*a):
        return subprocess.run([sys.executable, "-m", "gristmill", *a], capture_output=True, text=True,
                              env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    r = cli("signals", str(corpus / "r.yaml"), "-i", str(corpus / "in"), "-o", str(tmp_path / "s"), "-w", "2")
    assert r.returncode == 0, r.stderr
    r = cli("select", str(tmp_path / "s"), "-r", str(corpus / "r.yaml"), "-o", str(tmp_path / "sel"))
    assert r.returncode == 0 and "kept" in r.stdout
    r = cli("calibrate", str(tmp_path / "s"), "-t", "zh_spam_cues == 0", "-s", "zh_spam_cues",
            "--json", str(tmp_path / "cal.json"))
    assert r.returncode == 0, r.stderr
    cal = json.loads((tmp_path / "cal.json").read_text())
    assert cal["thresholds"][0]["groups"]["zh"]["removed_docs"] >= 6


def test_train_classifier_and_score(tmp_path):
    pos = write_jsonl(tmp_path / "pos.jsonl", [{"text": r["text"]} for r in
                                                read_jsonl(shared("text_en/python311_doc_shared.jsonl.gz"))])
    neg = write_jsonl(tmp_path / "neg.jsonl", [{"text": r["text"]} for r in
                                                read_jsonl(shared("text_en/c4_sample_shared.jsonl"))])
    model = tmp_path / "docs-vs-web.bin"
    r = subprocess.run([sys.executable, "-m", "gristmill", "train-classifier", "-p", str(pos), "-n", str(neg),
                        "-m", str(model), "--test-share", "0.3"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rep = json.loads(model.with_name(model.name + ".report.json").read_text())
    assert rep["test_docs"] > 50 and rep["roc_auc"] >= 0.95 and rep["accuracy"] >= 0.85
    recipe = tmp_path / "score.yaml"
    recipe.write_text(f"steps:\n  - step: classifier\n    model: {model}\n    column: docs_score\n"
                      f"  - step: filter\n    keep: \"docs_score >= 0.5\"\n")
    from gristmill import run

    m = run(str(recipe), inputs=[str(pos)], output=str(tmp_path / "o"), workers=1, quiet=True)
    assert m["counts"]["kept"] / m["counts"]["input"] > 0.9  # documentation pages score as documentation
    assert all(0 <= r["docs_score"] <= 1 for r in output_rows(tmp_path / "o"))
