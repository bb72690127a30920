"""Simplified = Traditional: every Chinese signal is measured on the Simplified view of the text (OpenCC t2s),
so the zh_CN and zh_TW versions of real pages get the same keep/reject decisions (issue #16)."""

from __future__ import annotations

import opencc
import pyarrow as pa
import pytest

from gristmill.steps.filter import Filter, FilterParams
from gristmill.steps.quality import Quality, QualityParams
from tests.conftest import read_jsonl, shared
from tests.test_technical_text import decide, default  # noqa: F401  (the default recipe's steps, a fixture)


def _pairs() -> tuple[list[str], list[str], list[str]]:
    cn = {d["id"].removeprefix("manpages-zh-CN-"): d["text"]
          for d in read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))}
    tw = {d["id"].removeprefix("manpages-zh-TW-"): d["text"]
          for d in read_jsonl(shared("text_zh/manpages_zh_tw_shared_subset.jsonl.gz"))}
    names = sorted(set(cn) & set(tw))
    return names, [cn[n] for n in names], [tw[n] for n in names]


def test_zh_cn_and_zh_tw_man_pages_get_identical_decisions(default):  # noqa: F811
    names, cn, tw = _pairs()
    assert len(names) == 150
    a, b = decide(cn, default), decide(tw, default)
    assert [n for n, x, y in zip(names, a, b, strict=True) if (x is None) != (y is None)] == []
    assert a.count(None) > 140  # and nearly all of them are kept


def _signals(texts: list[str]) -> pa.Table:
    t = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts, "lang": ["zh"] * len(texts)})
    return Quality(QualityParams()).process(t).table


def test_a_traditional_page_measures_what_its_simplified_form_measures():
    # the zh_TW pages are separate translations (their t2s form is not the zh_CN text), so the exact check is
    # against OpenCC's own t2s of each page: jieba words, stop words, n-grams and spam cues all agree
    _, _, tw = _pairs()
    t2s = opencc.OpenCC("t2s.json")
    a, b = _signals(tw), _signals([t2s.convert(t) for t in tw])
    for col in a.column_names:
        if col not in ("id", "text", "zh_trad_frac"):
            assert a[col].to_pylist() == b[col].to_pylist(), col
    assert min(a["zh_trad_frac"].to_pylist()) > 0.1 and max(b["zh_trad_frac"].to_pylist()) < 0.01


def test_gambling_spam_written_in_traditional_characters_is_rejected():
    # the cue list is Simplified: before the Simplified view, these pages converted to Traditional were kept
    spam = {"cwt-cc2021-43-6BVPXMHVXYCP", "cwt-cc2021-43-LY5E2REFCMZT", "cwt-cc2021-43-U3FXYPI3LWSK",
            "cwt-cc2021-43-BOMCPX5N66GF", "cwt-cc2021-43-AE62E53QGT3I", "cwt-cc2021-43-5C2C27MRKTZN"}
    s2t = opencc.OpenCC("s2t.json")
    rows = [d for d in read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl")) if d["id"] in spam]
    trad = [s2t.convert(d["text"]) for d in rows]
    assert all(x != y for x, y in zip(trad, (d["text"] for d in rows), strict=True))
    t = _signals(trad)
    assert min(t["zh_spam_cues"].to_pylist()) >= 1
    res = Filter(FilterParams(preset=["zh-web"])).process(t)
    assert res.reject.all() and set(res.reason) == {"zh_spam"}


@pytest.mark.parametrize("text", ["我們說這個軟體很好用，也可以在伺服器上執行。", "我们说这个软件很好用，也可以在服务器上运行。"])
def test_stop_words_count_in_either_script(text):
    assert _signals([text])["gq_stopwords"][0].as_py() >= 3  # 我们, 这, 也, 在 …
