"""langid: the bundled fastText model labels real English and Chinese text, mixed text sensibly."""

from __future__ import annotations

import pyarrow as pa

from gristmill.recipe import load_recipe
from gristmill.text.lang import Lang
from tests.conftest import read_jsonl, shared


def langid(**params):
    body = "".join(f"\n    {k}: {v}" for k, v in params.items())
    step = load_recipe(text=f"steps:\n  - step: langid{body}\n").steps[0].build()
    step.setup()
    return step


def table(texts):
    return pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})


def test_real_english_and_chinese_are_labelled(en_docs, zh_docs):
    step = langid()
    en = step.process(table([d["text"] for d in en_docs])).table
    zh = step.process(table([d["text"] for d in zh_docs])).table
    en_share = en["lang"].to_pylist().count("en") / en.num_rows
    zh_share = zh["lang"].to_pylist().count("zh") / zh.num_rows
    assert en_share >= 0.98 and zh_share >= 0.98, (en_share, zh_share)
    assert max(en["han_frac"].to_pylist()) == 0.0
    assert sorted(zh["han_frac"].to_pylist())[zh.num_rows // 2] > 0.3  # median zh man page is mostly Han


def test_mixed_chinese_english_technical_text_is_zh():
    docs = read_jsonl(shared("text_zh/debian_reference_zh_cn_shared.jsonl.gz"))
    out = langid().process(table([d["text"] for d in docs])).table
    labels = out["lang"].to_pylist()
    han = out["han_frac"].to_pylist()
    # sections whose letters are mostly Han are zh even when they carry English commands and terms
    mostly_han = [lab for lab, h in zip(labels, han, strict=True) if h >= 0.3]
    assert mostly_han and all(lab == "zh" for lab in mostly_han)
    assert any(0.3 <= h < 0.6 for h in han)  # genuinely mixed sections exist in this set


def test_keep_filter_rejects_other_languages_with_reason():
    texts = ["Der schnelle braune Fuchs springt über den faulen Hund und läuft weiter in den Wald.",
             "我来到北京清华大学，研究自然语言处理和大语言模型的训练数据。",
             "The quick brown fox jumps over the lazy dog and runs on into the forest.",
             "12345 67890"]
    res = langid(keep="[en, zh]").process(table(texts))
    assert res.table["lang"].to_pylist()[:3] == ["de", "zh", "en"]
    assert res.reject.tolist() == [True, False, False, True]
    assert res.reason == ["language", "language"]
    assert res.detail[0].startswith("lang=de score=")


def test_lang_codes_are_validated():
    assert Lang.parse("zh-Hans") == "zh" and Lang.parse("yue") == "yue"
