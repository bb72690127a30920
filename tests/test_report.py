"""The data report: every statistic on small data, the run report against the manifest, ``report`` and
``analyze`` from the CLI. The browser check is in test_report_browser.py."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from gristmill import run
from gristmill.decontam.index import build_index
from gristmill.report import analysis, bias, diversity, svg
from gristmill.report.analyze import exact_clusters
from gristmill.report.profile import LEN_BINS, Profile, ThresholdSample, domain
from gristmill.report.thresholds import rule_thresholds, thresholds
from tests.conftest import read_jsonl, shared, write_jsonl

# -- statistics on small data ------------------------------------------------------------------------------


def _table(ids, texts, langs=None, **cols):
    d = {"id": ids, "text": texts}
    if langs is not None:
        d["lang"] = langs
    d.update(cols)
    return pa.table(d)


def test_profile_counts_lengths_and_signals_exactly():
    p = Profile()
    p.add(_table(["a", "b", "c"], ["x" * 9, "y" * 100, "你好"], ["en", "en", "zh"], score=[0.5, 1.5, None]), "kept")
    p.add(_table(["d"], ["z" * 1000], ["en"], score=[3.0]), "rejected", step="filter", reasons=["too_long"],
          details=["not (n < 500)"])
    q = Profile.merge([p.to_dict()])
    assert q.groups["kept"]["docs"] == 3 and q.groups["kept"]["bytes"] == 9 + 100 + 6
    assert q.groups["filter: too_long"] == {"docs": 1, "bytes": 1000, "step": "filter", "reason": "too_long"}
    en = q.langs["en"]["kept"]
    assert en["docs"] == 2 and en["chars"] == 109
    hist = en["hist"]  # log10(9)*10 = 9.5 -> bin 9; log10(100)*10 = 20 -> bin 20
    assert len(hist) == LEN_BINS and hist[9] == 1 and hist[20] == 1 and sum(hist) == 2
    assert q.langs["en"]["rejected"]["hist"][30] == 1
    s = q.signals["score"]
    assert s["kept"] == {"n": 2, "sum": 2.0, "min": 0.5, "max": 1.5} and s["rejected"]["max"] == 3.0
    ex = q.examples["filter: too_long"][0][1]
    assert ex["id"] == "d" and ex["detail"] == "not (n < 500)" and ex["text"] == "z" * 600 + "…"  # cut, marked


def test_the_report_reads_a_profile_that_was_never_merged():
    # sampled rows stay compact until to_dict(); the report built from the profile itself sees the same values
    p = Profile()
    p.add(_table(["a", "b"], ["Hello world.", "你好，世界。"], ["en", "zh"], score=[0.5, 2.0]), "kept")
    direct = analysis.signals(p, [])
    merged = analysis.signals(Profile.merge([p.to_dict()]), [])
    assert direct == merged and {s["name"] for s in direct} >= {"score"}


def test_profiles_merge_to_what_one_profile_sees():
    rng = random.Random(1)
    ids = [f"doc-{i}" for i in range(3000)]
    texts = ["w" * rng.randint(1, 5000) for _ in ids]
    langs = [rng.choice(["en", "zh", "fr"]) for _ in ids]
    vals = [rng.random() for _ in ids]
    whole = Profile(n_shards=1)
    whole.add(_table(ids, texts, langs, v=vals), "kept")
    parts = []
    for k in range(3):
        p = Profile(n_shards=3)
        sl = slice(k * 1000, (k + 1) * 1000)
        p.add(_table(ids[sl], texts[sl], langs[sl], v=vals[sl]), "kept")
        parts.append(p.to_dict())
    a, b = Profile.merge([whole.to_dict()]), Profile.merge(parts)
    assert a.langs == b.langs and a.groups == b.groups
    assert a.signals["v"]["kept"]["n"] == b.signals["v"]["kept"]["n"] == 3000
    assert a.signals["v"]["kept"]["sum"] == pytest.approx(b.signals["v"]["kept"]["sum"])
    # the merged sample is uniform by id hash: every sampled id is below tau, and none below tau is missing
    tau = b.sample.tau
    got = {x[1]["chars"] for x in b.sample.items}
    assert 0 < len(b.sample.items) <= 3000 and all(x[0] < tau for x in b.sample.items)
    hs = np.array([__import__("xxhash").xxh3_64_intdigest(i.encode()) for i in ids], dtype=np.float64) / 2**64
    assert len(b.sample.items) == int((hs < tau).sum())
    assert got <= {len(t) for t in texts}
    assert a.examples["kept"] == b.examples["kept"]  # the smallest hashes, whatever the sharding


def test_threshold_sample_keeps_the_smallest_hashes():
    s = ThresholdSample(k=10)
    rng = random.Random(0)
    hs = [rng.random() for _ in range(1000)]
    for i, h in enumerate(hs):
        s.offer(h, i)
    d = s.to_dict()
    assert len(d["items"]) == 10 and sorted(x[0] for x in d["items"]) == sorted(hs)[:10]


def test_diversity_measures():
    docs = [diversity.units("the cat sat on the mat", "en"), diversity.units("The cat sat.", "en")]
    assert docs[1] == ["the", "cat", "sat"]
    assert diversity.distinct_n(docs, 1) == pytest.approx(5 / 9)
    assert diversity.distinct_n(docs, 2) == pytest.approx(5 / 7)  # the cat, cat sat, sat on, on the, the mat
    assert diversity.entropy_bits([["a", "a", "b", "b"]]) == pytest.approx(1.0)
    assert diversity.entropy_bits([["a", "a"]]) == 0
    m = diversity.measure([("zh", "天天向上"), ("en", "a b")])
    assert m["zh"]["distinct_1"] == 0.75 and m["zh"]["units"] == 4 and m["en"]["vocabulary"] == 2


def test_bias_terms_whole_words_in_english_substrings_in_chinese():
    c = bias.count_terms("She thanked her mother; the shepherd and Hermes did not. HE agreed.", "en")
    assert c["gender.female:she"] == 1 and c["gender.female:her"] == 1 and c["gender.female:mother"] == 1
    assert c["gender.male:he"] == 1 and sum(c.values()) == 4  # not "shepherd", "Hermes", "the"
    z = bias.count_terms("他和她的女儿，还有他们的父亲。其他人没来。", "zh")
    assert z["gender.male:他"] == 2 and z["gender.female:她"] == 1 and z["gender.female:女儿"] == 1
    s = bias.summarize(dict(c), chars=1_000_000)
    assert s["male_female_ratio"] == 0.333
    assert s["categories"]["gender.female"]["per_million_chars"] == 3.0


def test_thresholds_from_expressions_and_recipes():
    assert rule_thresholds("not (lang == 'en') or (gq_words >= 50)") == [("gq_words", ">=", 50.0)]
    assert rule_thresholds("0.1 < x and y <= -2") == [("x", ">", 0.1), ("y", "<=", -2.0)]
    recipe = {"steps": [{"step": "langid", "min_score": 0.65},
                        {"step": "filter", "preset": ["zh-web"], "keep": None, "rules": {}}]}
    th = thresholds(recipe)
    assert th[0] == {"signal": "lang_score", "op": ">=", "value": 0.65, "rule": "min_score", "lang": None,
                     "step": "langid"}
    assert {"signal": "prose_han_frac", "op": ">=", "value": 0.15} .items() <= next(
        t for t in th if t["signal"] == "prose_han_frac").items()


def test_domains_clusters_and_bins():
    assert domain("http://user@www.新闻.cn/a") == "新闻.cn" and domain("ftp:/x") is None
    assert exact_clusters(np.array([5, 5, 5, 5, 7, 8, 8], dtype=np.uint64)) == {
        "duplicates": 4, "clusters": 2, "cluster_sizes": {"2": 1, "4": 1}}
    edges, log_x = svg.bins_for([1, 10, 100, 10_000, 50_000])
    assert log_x and edges[0] <= 0 and edges[-1] >= np.log10(50_000)
    c = svg.counts([1, 10, 100, 10_000, 50_000], edges, True)  # log10 edges 0 … 4.8 in 30 bins of 0.16
    assert [i for i, v in enumerate(c) if v] == [0, 6, 12, 25, 29] and sum(c) == 5
    edges, log_x = svg.bins_for([0, 1, 2, 2], marks=[3])
    assert not log_x and edges == [-0.5, 0.5, 1.5, 2.5, 3.5]
    assert svg.counts([0, 1, 2, 2], edges) == [1, 1, 2, 0]


def _counts_one_by_one(values, edges, log_x=False):
    """The histogram rule value by value (what svg.counts computes on arrays)."""
    import math

    out = [0] * (len(edges) - 1)
    lo, hi, n = edges[0], edges[-1], len(edges) - 1
    for v in values:
        if v is None or not math.isfinite(v) or (log_x and v <= 0):
            continue
        v = math.log10(v) if log_x else v
        out[min(max(int((v - lo) / (hi - lo) * n) if hi > lo else 0, 0), n - 1)] += 1
    return out


def test_histograms_of_lists_and_arrays_agree_value_by_value():
    """Signal histograms count arrays at once; every value lands in the bin the rule gives it one by one,
    with None, NaN and infinities left out, on linear, integer and log10 edges, and values past the last edge
    (the tail beyond p99) in the last bin."""
    rng = np.random.default_rng(7)
    cases = [rng.normal(0, 10, 500).round(6), rng.integers(-3, 40, 300).astype(float),
             (10 ** rng.uniform(-2, 6, 400)).round(6), np.r_[rng.random(200), [1e9, 0.0, -0.0]],
             np.array([np.nan, np.inf, -np.inf, 0.25, 0.25]), np.array([])]
    for values in cases:
        as_list = [None if i % 17 == 3 else float(v) for i, v in enumerate(values)]
        for marks in ([], [0.5], [100.0, float("inf")]):
            edges, log_x = svg.bins_for(as_list, marks)
            assert (edges, log_x) == svg.bins_for(np.array([np.nan if v is None else v for v in as_list]), marks)
            want = _counts_one_by_one(as_list, edges, log_x)
            assert svg.counts(as_list, edges, log_x) == want
            assert svg.counts(np.array([np.nan if v is None else v for v in as_list]), edges, log_x) == want


# -- a real run's report -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """A run with every kind of step over real English and Chinese text, planted duplicates, PII and a GSM8K item."""
    d = tmp_path_factory.mktemp("report")
    idx = str(d / "idx")
    build_index([("gsm8k", str(shared("decontam/gsm8k_test.jsonl")), ["question"])], idx, n=13)
    en = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:240]
    zh = read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))[:120]
    rows = [{"id": r["id"], "text": r["text"], "url": f"https://site{i % 7}.example.com/p/{i}"} for i, r in enumerate(en)]
    rows += [{"id": r["id"], "text": r["text"], "url": f"https://docs.example.cn/{i}"} for i, r in enumerate(zh)]
    rows += [{"id": f"copy-{i}", "text": rows[i]["text"]} for i in range(12)]            # exact copies
    q = read_jsonl(shared("decontam/gsm8k_test.jsonl"))[11]["question"]
    rows[20]["text"] = rows[20]["text"] + "\n" + q
    rows[30]["text"] = rows[30]["text"] + "\nContact me at jane.doe@example.org or +1 415 555 0199."
    rows[250]["text"] = rows[250]["text"] + "\n联系电话 13812345678，邮箱 zhang.wei@example.cn"
    random.Random(3).shuffle(rows)
    write_jsonl(d / "a.jsonl", rows[:200])
    write_jsonl(d / "b.jsonl", rows[200:])
    recipe = d / "r.yaml"
    recipe.write_text(f"""name: report-test
steps:
  - step: normalize
  - step: langid
  - step: pii
  - step: decontaminate
    index: {idx}
    action: remove
  - step: exact_dedup
  - step: quality
  - step: filter
    preset: [bilingual]
""")
    m = run(str(recipe), inputs=[str(d / "a.jsonl"), str(d / "b.jsonl")], output=str(d / "out"), workers=2,
            quiet=True)
    assert len(rows) > 300
    m["_n_rows"], m["_rows"] = len(rows), rows
    return d, m, json.loads((d / "out" / "analysis.json").read_text())


def test_run_report_numbers_agree_with_the_manifest(full_run):
    d, m, a = full_run
    s = a["summary"]
    n = m["_n_rows"]
    assert s["docs_in"] == m["counts"]["input"] == n and s["reconciled"]
    assert s["docs_kept"] == m["counts"]["kept"] and s["docs_rejected"] == m["counts"]["rejected"]
    assert [r["docs"] for r in a["funnel"][1:]] == [st["kept"] for st in m["steps"]]
    assert a["funnel"][0]["bytes"] == m["bytes"]["input_text"] and a["funnel"][-1]["bytes"] == m["bytes"]["kept_text"]
    by_reason = {}
    for st in m["steps"]:
        for reason, k in st["rejected"].items():
            by_reason[(st["name"], reason)] = k
    assert {(r["step"], r["reason"]): r["docs"] for r in a["rejections"]} == by_reason
    assert by_reason[("exact_dedup", "duplicate")] == 12
    assert sum(r["docs"] for r in a["languages"]) == n
    assert {r["lang"] for r in a["languages"]} >= {"en", "zh"}
    assert a["duplicates"]["steps"]["exact_dedup"] == {"duplicates": 12, "clusters": 12, "cluster_sizes": {"2": 12}}
    assert len(a["duplicates"]["examples"]) > 0 and a["duplicates"]["examples"][0]["detail"].startswith("duplicate of")
    assert a["protection"]["contamination"] == {"gsm8k": 1}
    from collections import Counter

    want = Counter()  # the pii_* columns of every output row, kept and rejected
    for part in ("kept", "rejected"):
        for p in (d / "out" / part).glob("*.jsonl"):
            for line in p.read_text(encoding="utf-8").splitlines():
                r = json.loads(line)
                want.update({k[4:]: v for k, v in r.items() if k.startswith("pii_") and k != "pii_total" and v})
    got = Counter()
    for c in a["protection"]["pii"].values():
        got.update(c)
    assert got == want and got["email"] >= 2 and got["phone_cn"] >= 1
    assert {"en", "zh"} <= set(a["bias"]) and a["bias"]["en"]["male_female_ratio"] > 0
    assert {"en", "zh"} <= set(a["diversity"]["per_language"])
    signals = {x["name"]: x for x in a["signals"]}
    assert {"gq_words", "zh_han_frac", "lang_score", "pii_total", "contam_ngrams"} <= set(signals)
    assert any(t["rule"] == "en:gopher_short_doc" for t in signals["gq_words"]["thresholds"])
    total = sum(signals["lang_score"]["kept"]) + sum(signals["lang_score"]["rejected"])
    assert total == a["sample"]["docs"] == n  # small run: the sample is everything
    assert set(a["examples"]) >= {"kept", "exact_dedup: duplicate", "decontaminate: contaminated"}


def test_kept_domains_are_counted_exactly(full_run):
    d, m, a = full_run
    kept = [json.loads(line) for p in sorted((d / "out" / "kept").glob("*.jsonl"))
            for line in p.read_text(encoding="utf-8").splitlines()]
    want = {}
    for r in kept:
        if r.get("url"):
            host = r["url"].split("/")[2]
            want[host] = want.get(host, 0) + 1
    assert dict(a["diversity"]["top_domains"]) == want


def test_report_command_rebuilds_the_same_analysis(full_run, tmp_path):
    d, m, a = full_run
    out = tmp_path / "again.html"
    r = subprocess.run([sys.executable, "-m", "gristmill", "report", str(d / "out"), "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    again = json.loads((d / "out" / "analysis.json").read_text())
    assert again == a and out.read_text(encoding="utf-8").count("<section") == 11
    bad = subprocess.run([sys.executable, "-m", "gristmill", "report", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode != 0 and "manifest.json" in bad.stderr and "Traceback" not in bad.stderr


def test_analyze_a_dataset_without_a_run(tmp_path):
    en = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:60]
    zh = read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))[:40]
    rows = [{"text": r["text"]} for r in en + zh] + [{"text": en[0]["text"]}, {"text": en[0]["text"]},
                                                      {"text": zh[3]["text"]}]
    rows[5]["text"] += "\nwrite to bob.smith@example.com"
    write_jsonl(tmp_path / "data.jsonl", rows)
    r = subprocess.run([sys.executable, "-m", "gristmill", "analyze", str(tmp_path / "data.jsonl"), "-o",
                        str(tmp_path / "rep"), "-w", "1"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    a = json.loads((tmp_path / "rep" / "analysis.json").read_text())
    assert a["summary"]["mode"] == "analyze" and a["summary"]["docs_in"] == 103
    assert a["duplicates"]["steps"]["exact duplicates (text hash)"] == {
        "duplicates": 3, "clusters": 2, "cluster_sizes": {"2": 1, "3": 1}}
    langs = {x["lang"]: x["docs"] for x in a["languages"]}
    assert langs["en"] >= 60 and langs["zh"] >= 40
    assert a["protection"]["pii"]["kept"]["email"] >= 1
    assert {"gq_words", "zh_han_frac"} <= {s["name"] for s in a["signals"]}
    assert a["rejections"] == [] and (tmp_path / "rep" / "report.html").stat().st_size > 10_000


def test_build_on_an_empty_profile_renders():
    from gristmill.report.page import SECTIONS, render

    a = analysis.finite(analysis.build(None, Profile.merge([Profile().to_dict()]), title="empty"))
    page = render(a)
    assert page.count("<section") == len(SECTIONS) and "No documents." in page


# -- in a real browser ------------------------------------------------------------------------------------

ARTIFACTS = Path(os.environ.get("GRISTMILL_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--proxy-server=127.0.0.1:9"]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        exe = None
    if exe is None:
        msg = "headless Chromium is missing: sh tools/install-browser.sh (Debian's chromium) and pip install -e '.[test]'"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


def test_report_renders_in_headless_chromium(full_run):
    from playwright.sync_api import sync_playwright

    from gristmill.report.page import SECTIONS

    exe = _chromium()
    d, m, a = full_run
    url = (d / "out" / "report.html").as_uri()
    problems, requests = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)  # a fresh temporary profile
        try:
            page = browser.new_context(offline=True, viewport={"width": 1280, "height": 900}).new_page()
            page.on("console", lambda msg: problems.append(f"{msg.type}: {msg.text}")
                    if msg.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url)
            page.wait_for_selector("body[data-rendered='1']", timeout=15_000)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
            for key, title in SECTIONS:
                sec = page.locator(f"section#{key}")
                assert sec.count() == 1, key
                assert sec.locator("h2").inner_text() == title
                assert len(sec.inner_text()) > len(title) + 20, f"section {key} is empty"
                if key not in ("summary", "examples"):
                    plots = sec.locator("svg.plot")
                    assert plots.count() >= 1, f"no plot in {key}"
                    for i in range(plots.count()):
                        box = plots.nth(i).bounding_box()
                        assert box and box["width"] > 50 and box["height"] > 10
                        assert int(plots.nth(i).get_attribute("data-points")) > 0, f"empty plot in {key}"
                        assert plots.nth(i).locator("rect").count() > 0
            cards = page.locator("#signals [data-signal]")
            assert cards.count() == len(a["signals"])
            assert page.locator("#signals [data-signal='gq_words'] line.threshold").count() >= 2
            assert page.locator("#duplicates").inner_text().count("duplicate of") >= 1
            assert "gsm8k" in page.locator("#protection").inner_text()
            # the example browser: choose a group, search, and Chinese text as written
            page.select_option("#ex-group", "*")
            shown_all = int(page.inner_text("#ex-count").split()[0])
            assert shown_all == sum(len(v) for v in a["examples"].values())
            zh = next(e for g in a["examples"].values() for e in g if e["lang"] == "zh")
            needle = next(w for w in (zh["text"][i:i + 4] for i in range(len(zh["text"])))
                          if all("\u4e00" <= c <= "\u9fff" for c in w))
            page.fill("#ex-search", needle)
            shown = int(page.inner_text("#ex-count").split()[0])
            assert 1 <= shown < shown_all
            texts = page.locator("#ex-list pre").all_inner_texts()
            assert len(texts) == shown and all(needle in t for t in texts)
            page.select_option("#ex-group", "exact_dedup: duplicate")
            page.fill("#ex-search", "")
            assert page.locator("#ex-list .doc").count() == len(a["examples"]["exact_dedup: duplicate"])
            page.screenshot(path=str(ARTIFACTS / "report-examples.png"))
        finally:
            browser.close()
    assert problems == []
    assert requests and all(u.startswith(("file:", "data:", "about:")) for u in requests), requests


def test_signals_per_language_with_their_own_thresholds_and_readable_reasons(full_run):
    """#18: histograms per language, each with only its language's thresholds; mass in one bin on a log
    scale; rejection reasons with the condition the documents met; examples cut with an ellipsis."""
    d, m, a = full_run
    sig = {s["name"]: s for s in a["signals"]}
    per = {x["lang"]: x for x in sig["gq_words"]["by_lang"]}
    assert {"en", "zh"} <= set(per)
    assert per["en"]["thresholds"] and all(t["lang"] in (None, "en") for t in per["en"]["thresholds"])
    assert all(t["lang"] in (None, "zh") for t in per["zh"]["thresholds"])
    assert any(t["lang"] == "zh" for x in sig.values() for lp in x["by_lang"] if lp["lang"] == "zh"
               for t in lp["thresholds"])
    for s in a["signals"]:
        for h in [s] + s["by_lang"]:
            tot = [k + r for k, r in zip(h["kept"], h["rejected"], strict=True)]
            if sum(tot) and sum(1 for t in tot if t) > 1 and max(tot) > 0.9 * sum(tot):
                assert h["log_y"], s["name"]
    filt = [r for r in a["rejections"] if r["step"] == "filter"]
    assert filt and all(r["condition"] and not r["condition"].startswith("not (not") for r in filt)
    zh_rule = next(r for r in filt if r["reason"].startswith("zh:"))
    assert "lang" not in zh_rule["condition"]  # the language guard is in the rule's name, not repeated
    rows = [r for p in (d / "out" / "rejected").glob("*.filter.jsonl") for r in read_jsonl(p)]
    assert rows and all(not r["detail"].startswith("not (not") for r in rows)
    long = [e for g in a["examples"].values() for e in g if e["chars"] > 600]
    assert long and all(e["text"].endswith("…") and len(e["text"]) <= 601 for e in long)
    en_cut = [e["text"] for e in long if e["lang"] == "en"]
    assert all(t[-2] != " " for t in en_cut)  # cut at a word boundary, trailing space dropped


def test_report_renders_without_a_cjk_font(full_run, tmp_path):
    """The page names common CJK fonts; where none is installed it still renders (screenshot kept)."""
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    d, m, a = full_run
    html = (d / "out" / "report.html").read_text(encoding="utf-8")
    for font in ("PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
                 "WenQuanYi Micro Hei"):
        assert font in html
    conf = tmp_path / "fonts.conf"  # fontconfig that sees only the Latin fonts
    dirs = [p for p in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")
            if os.path.isdir(p)]
    conf.write_text("<?xml version='1.0'?><!DOCTYPE fontconfig SYSTEM 'fonts.dtd'><fontconfig>"
                    + "".join(f"<dir>{p}</dir>" for p in dirs) + f"<cachedir>{tmp_path}/fc</cachedir></fontconfig>")
    results = {}
    with sync_playwright() as pw:
        for label, env in (("with", {}), ("without", {"FONTCONFIG_FILE": str(conf)})):
            browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, env={**os.environ, **env})
            try:
                page = browser.new_context(offline=True, viewport={"width": 1280, "height": 900}).new_page()
                errors = []
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto((d / "out" / "report.html").as_uri())
                page.wait_for_selector("body[data-rendered='1']", timeout=15_000)
                results[label] = page.evaluate(  # Chinese in a CJK font is full width: 16 px a character
                    "(() => { const c = document.createElement('canvas').getContext('2d'); "
                    "c.font = getComputedStyle(document.body).fontSize.replace(/.*/, '16px ') + "
                    "getComputedStyle(document.body).fontFamily; return c.measureText('中文中文中文').width; })()")
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"report-{label}-cjk-font.png"), full_page=False)
                assert errors == []
            finally:
                browser.close()
    if fontconfig_has_cjk():
        assert abs(results["with"] - 96) < 0.5  # the page's font stack found a CJK font
    assert abs(results["without"] - 96) > 0.5  # none here: the fallback glyphs (the screenshot shows them)


def fontconfig_has_cjk() -> bool:
    out = shutil.which("fc-list") and os.popen("fc-list : family").read()
    return bool(out) and "Noto Sans CJK" in out
