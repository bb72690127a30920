"""Decontamination of structured benchmark items (#15): a multiple-choice item is found however its options
are laid out, short items are found by their whole-item hash, lightly edited copies are found, clean text is
not flagged, and ``cut`` removes the copy's characters from the original text."""

from __future__ import annotations

import json
import random

import pytest

from gristmill import run
from gristmill.decontam.index import build_index
from gristmill.decontam.items import IndexSettings, read_spec
from gristmill.decontam.match import DecontamIndex
from gristmill.errors import GristmillError
from gristmill.steps.decontaminate import cut_spans
from tests.conftest import ROOT, SHARED, output_rows, read_jsonl, shared, write_jsonl

SPEC = ROOT / "src" / "gristmill" / "recipes" / "decontam" / "shared-benchmarks.yaml"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """The shipped spec over the shared benchmarks (GSM8K, HumanEval, MBPP, MT-bench, CMMLU, C-Eval)."""
    sources, settings = read_spec(SPEC, SHARED)
    d = tmp_path_factory.mktemp("idx")
    meta = build_index(sources, str(d), settings=settings)
    return DecontamIndex(str(d)), meta, str(d)


def _item(rel: str, rid: str) -> dict:
    return next(r for r in read_jsonl(shared(f"decontam/{rel}")) if r["id"] == rid)


def _flagged(idx: DecontamIndex, text: str) -> set[str]:
    return {idx.items[i]["id"] for i in idx.scan([text])[0].items}


def test_cmmlu_item_reformatted_inline_with_option_letters_is_found(index):
    # the user's case: a CMMLU question and its options copied as "question A. opt B. opt ..." into a web
    # page; fields joined by line breaks shared no 13-gram with such a copy
    idx = index[0]
    rows = [r for r in read_jsonl(shared("decontam/cmmlu_test_shared.jsonl.gz")) if len(r["question"]) < 13]
    host = read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))[5]["text"]
    for r in random.Random(1).sample(rows, 40):
        inline = r["question"] + " " + " ".join(f"{'ABCD'[i]}. {c}" for i, c in enumerate(r["choices"]))
        paren = r["question"] + "（ ）" + "".join(f"({'ABCD'[i]}){c}" for i, c in enumerate(r["choices"]))
        lines = r["question"] + "\n" + "\n".join(f"{'ABCD'[i]}、{c}" for i, c in enumerate(r["choices"]))
        circled = r["question"] + " " + " ".join(f"{'①②③④'[i]}{c}" for i, c in enumerate(r["choices"]))
        for copy in (inline, paren, lines + f"\n答案：{r['answer']}", circled):
            assert r["id"] in _flagged(idx, host[:300] + "\n" + copy + "\n" + host[300:600]), copy


def test_ceval_item_with_answer_label_is_found_and_other_items_are_not_named(index):
    idx = index[0]
    r = _item("ceval_shared.jsonl.gz", "ceval-accountant-val-2")
    copy = ("练习题：" + r["question"] + "\n" + "  ".join(f"（{'ABCD'[i]}）{c}" for i, c in enumerate(r["choices"]))
            + "\n正确答案：D")
    assert _flagged(idx, copy) == {"ceval-accountant-val-2"}


def test_english_item_with_question_and_answer_labels_is_found(index):
    idx = index[0]
    q = read_jsonl(shared("decontam/gsm8k_test.jsonl"))[42]["question"]
    host = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[9]["text"]
    copy = f"Question: {q.replace('  ', ' ')}\nAnswer: (B)"
    assert "gsm8k-test-42" in _flagged(idx, host[:800] + "\n\n" + copy + "\n\n" + host[800:])


def test_lightly_edited_short_items_are_found(index):
    # two words (characters) changed in items too short to keep a whole 13-gram after the edits
    idx = index[0]
    q = _item("gsm8k_test.jsonl", "gsm8k-test-519")["question"]  # 23 tokens
    edited = q.replace("double", "twice").replace("house", "roof")
    assert "gsm8k-test-519" in _flagged(idx, edited)
    cm = _item("cmmlu_test_shared.jsonl.gz", "cmmlu-anatomy-2")
    text = cm["question"].replace("的", "之") + "：" + "，".join(cm["choices"]).replace("颈外", "颈处")
    assert "cmmlu-anatomy-2" in _flagged(idx, text)


def test_boilerplate_shared_by_many_items_is_not_evidence(index):
    # "Write a python function to find the" opens hundreds of MBPP tasks: its n-grams are dropped, and a
    # document with it is not an MBPP copy
    idx, meta, _ = index
    assert meta["dropped_common_windows"] > 0
    doc = "Write a python function to find the maximum of a list. Here is my attempt, what is wrong with it?"
    assert idx.scan([doc])[0].hits == 0


def test_clean_english_and_chinese_documents_are_not_flagged(index):
    idx = index[0]
    clean = [d["text"] for d in read_jsonl(shared("text_en/c4_sample_shared.jsonl"))]
    clean += [d["text"] for d in read_jsonl(shared("text_en/debian_reference_en_shared.jsonl.gz"))]
    clean += [d["text"] for d in read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))]
    clean += [d["text"] for d in read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))]
    clean += [d["text"] for d in read_jsonl(shared("text_zh/chnsenticorp_hotel_reviews.jsonl.gz"))[:500]]
    flagged = [t[:60] for t, m in zip(clean, idx.scan(clean), strict=True) if m.hits]
    assert len(clean) > 1200 and flagged == []


@pytest.fixture(scope="module")
def turns(tmp_path_factory):
    """A chat benchmark of single questions: every MT-bench turn an item (many shorter than 13 words)."""
    d = tmp_path_factory.mktemp("turns")
    rows = [{"id": f"{r['id']}/{j + 1}", "q": t}
            for r in read_jsonl(shared("decontam/mt_bench_questions.jsonl"))
            for j, t in enumerate(r["turns"])]
    write_jsonl(d / "turns.jsonl", rows)
    meta = build_index([("turns", str(d / "turns.jsonl"), ["q"])], str(d / "idx"))
    return DecontamIndex(str(d / "idx")), meta


def test_short_items_are_found_by_their_whole_item_hash_where_they_stand_alone(turns):
    idx, meta = turns
    host = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[20]["text"]
    for q, rid in (("Express z-x in y", "mt_bench-116/2"), ("Find x such that f(x) = 0.", "mt_bench-120/2"),
                   ("Prove the Pythagorean theorem.", "mt_bench-99/2")):
        assert idx.items[[it["id"] for it in idx.items].index(rid)]["match"] == "whole_item"
        assert rid in _flagged(idx, host[:400] + "\n" + q + "\n" + host[400:800])
        assert rid in _flagged(idx, f"Follow-up: {q}")
    # the same words running inside a sentence are not the item
    assert idx.scan(["In the proof we find x such that f(x) = 0 holds for every root."])[0].hits == 0
    report = meta["benchmarks"]["turns"]
    assert report["items"] == 160 == sum(report[k] for k in ("full_ngram", "short_ngram", "whole_item_only",
                                                             "unmatchable"))
    assert report["whole_item_only"] > 0 and report["short_ngram"] > 0 and report["full_ngram"] > 0


def test_build_report_says_what_cannot_be_matched(tmp_path):
    rows = [{"id": "zh-short", "q": "女性生殖腺是"}, {"id": "zh-tiny", "q": "答案：A"},
            {"id": "en-tiny", "q": "Why?"},
            {"id": "en", "q": "Janet's ducks lay 16 eggs per day. She eats three for breakfast every day."}]
    write_jsonl(tmp_path / "b.jsonl", rows)
    meta = build_index([("mixed", str(tmp_path / "b.jsonl"), ["q"])], str(tmp_path / "idx"))
    r = meta["benchmarks"]["mixed"]
    assert (r["short_ngram"], r["whole_item_only"], r["unmatchable_too_short"]) == (1, 1, 2)
    idx = DecontamIndex(str(tmp_path / "idx"))
    assert _flagged(idx, "第一题\n女性生殖腺是？\n") == {"zh-short"}
    assert idx.scan(["女性生殖腺是卵巢，男性生殖腺是睾丸。"])[0].hits == 0  # inside running text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cut_removes_the_copy_from_the_original_text(index, tmp_path, lang):
    idx = index[0]
    if lang == "zh":
        r = _item("cmmlu_test_shared.jsonl.gz", "cmmlu-anatomy-1")
        c = r["choices"]  # full-width option letters, then half-width ones
        copy = f"{r['question']}（　）\nＡ．{c[0]}\nＢ．{c[1]}\nC. {c[2]}\nD. {c[3]}"
        host = "𠀀😀 " + read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))[3]["text"][:900]
    else:
        r = read_jsonl(shared("decontam/gsm8k_test.jsonl"))[7]
        copy = "Q: " + r["question"]
        host = "İstanbul " + read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[3]["text"][:1500]
    at = host.index("\n", len(host) // 2) + 1
    doc = host[:at] + copy + "\n" + host[at:]
    m = idx.scan([doc])[0]
    first = 3 if lang == "en" else 0  # "Q: " is not part of the item
    last = len(copy) - 1 if lang == "en" else len(copy)  # nor the question mark
    assert m.spans == [(at + first, at + last)]
    assert cut_spans(doc, m.spans, 0) == host[:at] + copy[:first] + copy[last:] + "\n" + host[at:]
    (tmp_path / "r.yaml").write_text(f"steps:\n  - step: decontaminate\n    index: {index[2]}\n"
                                     f"    action: cut\n    margin: 5\n    min_chars: 10\n")
    write_jsonl(tmp_path / "in.jsonl", [{"id": "d", "text": doc}])
    run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"), workers=1,
        quiet=True)
    out = output_rows(tmp_path / "o")[0]
    assert out["text"] == doc[:at + first - 5] + doc[at + last + 5:] and out["contam_items"] == r["id"]


def test_an_index_from_an_older_version_or_bad_settings_give_one_line_errors(tmp_path, index):
    (tmp_path / "index.json").write_text(json.dumps({"n": 13, "max_item_frequency": 10}))
    with pytest.raises(GristmillError, match="older gristmill"):
        DecontamIndex(str(tmp_path))
    with pytest.raises(GristmillError, match="short_n"):
        IndexSettings(short_n=20)
    (tmp_path / "spec.yaml").write_text("n: 13\nshingle: 5\nbenchmarks: []\n")
    with pytest.raises(GristmillError, match="unknown setting"):
        read_spec(tmp_path / "spec.yaml", tmp_path)
