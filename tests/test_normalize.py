"""normalize: repairs mojibake and whitespace, and leaves Chinese punctuation and quotes alone."""

from __future__ import annotations

import pyarrow as pa
import pytest

from gristmill.recipe import load_recipe
from tests.conftest import read_jsonl, shared


def normalizer(**params):
    body = "".join(f"\n    {k}: {v}" for k, v in params.items())
    step = load_recipe(text=f"steps:\n  - step: normalize{body}\n").steps[0].build()
    step.setup()
    return step


def run(step, texts):
    return step.process(pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})).table["text"].to_pylist()


def test_chinese_punctuation_quotes_and_fullwidth_survive(zh_docs):
    texts = [d["text"] for d in read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))]
    out = run(normalizer(), texts)
    for before, after in zip(texts, out, strict=True):
        for ch in "，。！？：；“”（）「」、":
            assert before.count(ch) == after.count(ch), ch


def test_mojibake_is_repaired_in_chinese_and_english(zh_docs):
    original = [zh_docs[3]["text"][:400], "The café’s ‘special’ – naïve crème brûlée"]
    broken = [original[0].encode("utf-8").decode("latin-1"), original[1].encode("utf-8").decode("cp1252")]
    assert run(normalizer(whitespace="false"), broken) == original


def test_whitespace_controls_and_line_endings():
    text = "第一段\u200b内容  \r\n\r\n\r\n\r\n  indented code\u00a0here\t\r\nend\x07"
    assert run(normalizer(), [text]) == ["第一段内容\n\n  indented code here\nend"]


def test_nfkc_is_optional_and_fullwidth_folding_spares_punctuation():
    text = "ＧＰＴ－４，你好！ｆｉ"
    assert run(normalizer(), [text]) == [text]
    assert run(normalizer(fold_fullwidth_ascii="true"), [text]) == ["GPT－4，你好！fi"]
    assert run(normalizer(form="NFKC"), [text]) == ["GPT-4,你好!fi"]


def test_traditional_to_simplified_matches_the_simplified_man_page(zh_docs):
    pytest.importorskip("opencc")
    tw = {d["id"].split("-", 3)[-1]: d["text"] for d in read_jsonl(shared("text_zh/manpages_zh_tw_shared_subset.jsonl.gz"))}
    cn = {d["id"].split("-", 3)[-1]: d["text"] for d in zh_docs}
    names = sorted(set(tw) & set(cn))[:20]
    assert len(names) == 20
    converted = run(normalizer(convert="tw2s"), [tw[n] for n in names])
    same = [run(normalizer(), [cn[n]])[0] for n in names]
    # Han-character bigram overlap with the Simplified page: far higher after conversion
    import regex

    def bigrams(t):
        han = "".join(regex.findall(r"\p{Han}", t))
        return {han[i:i + 2] for i in range(len(han) - 1)}

    def jacc(a, b):
        a, b = bigrams(a), bigrams(b)
        return len(a & b) / len(a | b)
    before = sum(jacc(tw[n], cn[n]) for n in names) / len(names)
    after = sum(jacc(c, s) for c, s in zip(converted, same, strict=True)) / len(names)
    assert after > before + 0.2 and after > 0.6, (before, after)
