"""The default recipe on technical documentation and mixed Chinese/English pages (issue #16): code, option lists
and tables no longer count against prose rules, Chinese pages with English option text get the Chinese rules,
and web junk and source code are still rejected."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from gristmill.recipe import load_recipe
from gristmill.steps.filter import Filter, FilterParams
from gristmill.steps.langid import LangId, LangIdParams
from tests.conftest import ROOT, read_jsonl, shared

# the bilingual rules before #16 (the previous default), to show what changed
BEFORE = {"en:gopher_below_alpha_threshold": "not (lang == 'en') or (gq_alpha_words >= 0.8)",
          "zh:zh_low_han": "not (lang == 'zh') or (zh_han_frac >= 0.15)",
          "zh:zh_no_terminal_punct": "not (lang == 'zh') or (c4_terminal_lines >= 0.05)",
          "en:too_little_prose": None, "zh:zh_too_little_prose": None, "other:too_little_prose": None}


def _steps(before: bool = False):
    steps = []
    for spec in load_recipe(path=str(ROOT / "src/gristmill/recipes/default.yaml")).steps:
        step = spec.build()
        if step.name == "exact_dedup":
            continue
        if before and step.name == "langid":
            step = LangId(LangIdParams(by_line=False))
        if before and step.name == "filter":
            step = Filter(FilterParams(preset=["bilingual"], rules=BEFORE))
        if hasattr(step, "setup"):
            step.setup()
        steps.append(step)
    return steps


@pytest.fixture(scope="module")
def default():
    return _steps()


@pytest.fixture(scope="module")
def previous():
    return _steps(before=True)


def decide(texts: list[str], steps) -> list[str | None]:
    """The rule that rejects each text (None: kept) under the default recipe's steps."""
    t = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})
    reasons: list[str | None] = [None] * len(texts)
    rows = list(range(len(texts)))
    for step in steps:
        res = step.process(t)
        t = res.table
        if res.reject is not None and res.reject.any():
            for j, reason in zip([j for j, r in enumerate(res.reject) if r], res.reason, strict=True):
                reasons[rows[j]] = reason
            keep = [j for j, r in enumerate(res.reject) if not r]
            rows = [rows[j] for j in keep]
            t = t.take(pa.array(keep, pa.int64()))
    return reasons


def _docs(rel: str) -> dict[str, str]:
    return {d["id"]: d["text"] for d in read_jsonl(shared(rel))}


def test_python_documentation_with_code_examples_is_kept(default, previous):
    # the user's case: most pages of the Python 3.11 docs failed gq_alpha_words because code and option
    # lists count as words
    docs = _docs("text_en/python311_doc_shared.jsonl.gz")
    after, before = decide(list(docs.values()), default), decide(list(docs.values()), previous)
    assert before.count(None) == 25 and after.count(None) >= 45
    kept = {i for i, r in zip(docs, after, strict=True) if r is None}
    assert {"python311-doc-howto-sorting", "python311-doc-library-getopt", "python311-doc-library-statistics",
            "python311-doc-library-dataclasses"} <= kept
    # what still rejects them is repetition (boilerplate such as "New in version 3.x." on many lines)
    reasons = [r for r in after if r]
    assert sum(r.startswith(("en:char_dup", "en:duplicated", "en:dup_")) for r in reasons) > len(reasons) / 3


def test_chinese_man_pages_with_option_lists_are_kept(default, previous):
    # clean Chinese technical pages were rejected for terminal punctuation (option descriptions carry no 。)
    # or a Han share under 0.15; the pages here were all rejected before
    docs = _docs("text_zh/manpages_zh_cn_shared.jsonl.gz")
    ids = ["stty.1", "stdio.3", "list.3tcl", "iptables-restore.8", "iptables-save.8"]
    texts = [docs["manpages-zh-CN-" + i] for i in ids]
    assert all(r and r.startswith("zh:") for r in decide(texts, previous))
    assert decide(texts, default) == [None] * len(ids)


def test_chinese_pages_with_english_option_text_get_the_chinese_rules(default, previous):
    # labelled en and rejected by the English gq_alpha_words rule before; now zh, and kept
    docs = _docs("text_zh/manpages_zh_cn_shared.jsonl.gz")
    texts = [docs["manpages-zh-CN-ab.1"], docs["manpages-zh-CN-wbinfo.1"], docs["manpages-zh-CN-cursors.3tk"]]
    assert all(r and r.startswith("en:") for r in decide(texts, previous))
    assert decide(texts, default) == [None, None, None]


def test_english_page_with_a_chinese_opening_gets_the_english_rules(default, previous):
    opening = _docs("text_zh/manpages_zh_cn_shared.jsonl.gz")["manpages-zh-CN-pppd.8"][:1200]
    body = "\n\n".join(list(_docs("text_en/python311_doc_shared.jsonl.gz").values())[:60])
    page = opening + "\n\n" + body[: 319_000 - len(opening)]
    assert decide([page], previous) == ["zh:zh_low_han"]
    after = decide([page], default)[0]
    assert after is None or after.startswith("en:")


def test_source_code_is_still_rejected(default):
    # a source file is not prose: gristmill's own modules, docstrings and comments included
    files = sorted((ROOT / "src" / "gristmill" / "steps").glob("*.py"))
    texts = [p.read_text(encoding="utf-8") for p in files if p.stat().st_size > 2000]
    assert len(texts) > 10 and None not in decide(texts, default)


def test_web_prose_is_decided_as_before(default, previous):
    # ordinary web pages whose every line is prose get the same decisions; truncated teaser listings
    # ("......" ends) are still rejected for terminal punctuation
    from gristmill.steps.quality import document_signals

    for rel in ("text_en/c4_sample_shared.jsonl", "text_en/dolma_cc_samples.jsonl",
                "text_zh/chinesewebtext_cc2021_43_shared.jsonl"):
        texts = list(_docs(rel).values())
        after, before = decide(texts, default), decide(texts, previous)
        for t, a, b in zip(texts, after, before, strict=True):
            if document_signals(t, "zh" if "chinese" in rel else "en")["prose_share"] == 1.0:
                assert (a is None) == (b is None), (rel, a, b, t[:100])
    cwt = _docs("text_zh/chinesewebtext_cc2021_43_shared.jsonl")
    teasers = [cwt[f"cwt-cc2021-43-{i}"] for i in ("OVM6ALFELMDM", "NUVTAIYMV6US", "KD5I424W2IYA")]
    assert decide(teasers, default) == ["zh:zh_no_terminal_punct"] * 3


def test_pages_labelled_dirty_are_rejected_at_least_as_often(default, previous):
    dirty = [t for i, t in _docs("text_zh/chinesewebtext_quality_labeled.jsonl").items() if "-dirty-" in i]
    assert decide(dirty, default).count(None) <= decide(dirty, previous).count(None)


@pytest.mark.slow
def test_bench_script_runs_on_a_small_sample(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(Path(ROOT) / "bench" / "technical_keep.py"), "--man", "0", "--docs", "0",
                        "--examples", "0", "--json", str(tmp_path / "k.json")], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "zh_CN/zh_TW page pairs with different keep/reject (after): 0 of 150" in r.stdout
