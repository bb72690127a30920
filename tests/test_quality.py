"""quality signals pinned on small hand-checked English and Chinese texts, and the selection presets on
real data."""

from __future__ import annotations

import pyarrow as pa
import pytest

from gristmill.steps.filter import Filter, FilterParams
from gristmill.steps.quality import SIGNALS, Quality, QualityParams, document_signals, reference_signals
from tests.conftest import read_jsonl, shared

# the hand-checked values hold for the C core (document_signals) and the Python reference alike
IMPLEMENTATIONS = pytest.mark.parametrize("signals", [document_signals, reference_signals], ids=["native", "python"])

EN = "The cat sat on the mat.\nThe cat sat on the mat.\nDogs... run!"
ZH = "我们今天去公园散步。\n我们今天去公园散步。\n天气很好！"


@IMPLEMENTATIONS
def test_english_signals_by_hand(signals):
    s = signals(EN, "en")
    # 18 tokens: The cat sat on the mat . (x2) Dogs ... run ! ; 14 of them are words
    assert (s["n_words"], s["gq_words"], s["n_lines"], s["n_chars"]) == (18, 14, 3, 60)
    assert s["gq_mean_word_len"] == pytest.approx(41 / 14)
    assert s["gq_ellipsis_ratio"] == pytest.approx(1 / 18) and s["gq_hash_ratio"] == 0
    assert s["gq_alpha_words"] == pytest.approx(14 / 18)
    assert s["gq_stopwords"] == 1  # only "the"; stop words count once each
    assert s["gr_dup_line_frac"] == pytest.approx(1 / 3) and s["gr_dup_line_chars"] == pytest.approx(23 / 60)
    assert s["gr_dup_para_frac"] == 0
    assert s["gr_top2"] == pytest.approx(14 / 60)  # "The cat" (7 chars) twice, the first of the tied bigrams
    # C4 keeps the two sentences and drops "Dogs... run!" (two words); FineWeb then sees the kept lines
    assert s["c4_sentences"] == 2 and s["c4_lines_kept"] == pytest.approx(2 / 3)
    assert s["fw_line_punct"] == 1 and s["fw_short_lines"] == 1
    assert s["fw_dup_line_chars"] == pytest.approx(23 / 46) and s["fw_newline_ratio"] == pytest.approx(1 / 14)


@IMPLEMENTATIONS
def test_chinese_signals_by_hand(signals):
    s = signals(ZH, "zh")
    # jieba words: 我们 今天 去 公园 散步 。 (x2) 天气 很 好 ！
    assert s["n_words"] == 16
    assert s["gq_stopwords"] == 2  # 我们, 很
    assert s["zh_han_frac"] == pytest.approx(22 / 25, abs=1e-4)
    assert s["zh_punct_density"] == pytest.approx(3 / 25, abs=1e-4)
    assert s["zh_avg_line_len"] == pytest.approx(25 / 3, abs=0.01)
    assert s["zh_rep13"] == 0  # the repeated sentence is only 10 characters long
    assert s["c4_terminal_lines"] == 1 and s["zh_trad_frac"] == 0 and s["zh_spam_cues"] == 0
    long = "今天我们一起去城市中心的公园散步。" * 2 + "天气很好！"
    assert signals(long, "zh")["zh_rep13"] == pytest.approx(34 / 39, abs=1e-4)


def test_no_english_only_rule_touches_chinese():
    rules = Filter(FilterParams(preset=["bilingual"])).rules
    english_only = {"gq_mean_word_len", "gq_alpha_words", "prose_alpha_words", "fw_line_punct"}
    for name, expr in rules:
        if expr.names & english_only:
            assert name.startswith("en:") and "lang == 'en'" in expr.source


def _select(rows, preset, lang):
    t = pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows], "lang": [lang] * len(rows)})
    t = Quality(QualityParams()).process(t).table
    return t, Filter(FilterParams(preset=[preset])).process(t)


def test_zh_web_keeps_clean_chinese_prose():
    for rel, min_share in [("text_zh/manpages_zh_cn_shared.jsonl.gz", 0.93),
                           ("text_zh/debian_reference_zh_cn_shared.jsonl.gz", 0.9)]:
        rows = read_jsonl(shared(rel))
        _, res = _select(rows, "zh-web", "zh")
        assert 1 - res.n_rejected / len(rows) >= min_share, rel


def test_zh_web_rejects_gambling_spam_pages():
    rows = read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))
    spam = {"cwt-cc2021-43-6BVPXMHVXYCP", "cwt-cc2021-43-LY5E2REFCMZT", "cwt-cc2021-43-U3FXYPI3LWSK",
            "cwt-cc2021-43-BOMCPX5N66GF", "cwt-cc2021-43-AE62E53QGT3I", "cwt-cc2021-43-5C2C27MRKTZN"}
    t, res = _select(rows, "zh-web", "zh")
    rejected = {rid for rid, r in zip(t.column("id").to_pylist(), res.reject, strict=True) if r}
    assert spam <= rejected
    reasons = dict(zip(sorted(rejected), [None] * len(rejected), strict=True))
    assert reasons  # and most of the other pages stay
    assert len(rejected) <= 0.35 * len(rows)


def test_every_signal_is_documented_and_computed():
    t = pa.table({"id": ["a"], "text": [EN]})
    out = Quality(QualityParams()).process(t).table
    assert set(SIGNALS) <= set(out.column_names)
