"""langid gives the same labels, scores and shares with the C sample (``gristmill.text._tokhash``) as with the
Python definition, on real English, Chinese and mixed documents; the batch paths (documents without CJK letters
sampled in one call, CJK lines picked without a Python step per line) are the per-document rules."""

from __future__ import annotations

import pyarrow as pa
import pytest

from gristmill.steps import langid as langid_mod
from gristmill.text import token_lists
from gristmill.text.langsample import sample_text
from gristmill.text.scripts import line_parts
from tests.conftest import SHARED, read_texts
from tests.test_langid import langid, table

needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")
COLUMNS = ("lang", "lang_score", "han_frac", "lang_shares", "en_share", "zh_share")


def _docs() -> list[str]:
    docs = [r["text"] for r in read_texts("text_en/*.jsonl*", 150) + read_texts("text_zh/*.jsonl*", 150)]
    mixed = [a + "\n" + b for a, b in zip(docs[:100], docs[-100:], strict=True)]  # English then Chinese lines
    return docs + mixed + ["", "\n\n", "1234 5678", "ありがとう ございます", "안녕하세요 세계", "Hello\r\nworld"]


@needs_data
@pytest.mark.parametrize("params", [{}, {"windows": 1}, {"max_chars": 120, "windows": 3}, {"by_line": "false"}])
def test_same_output_with_and_without_the_extension(monkeypatch, params):
    docs = _docs()
    fast = langid(**params).process(table(docs)).table
    monkeypatch.setattr(token_lists, "AVAILABLE", False)
    slow = langid(**params).process(table(docs)).table
    for c in COLUMNS:
        assert fast[c].to_pylist() == slow[c].to_pylist(), c
    assert {"en", "zh"} <= set(fast["lang"].to_pylist())


@needs_data
@pytest.mark.parametrize("windows", [1, 2, 5])
def test_line_samples_are_the_lines_of_their_kind(windows):
    for text in _docs():
        *_, kinds = line_parts(text, 0.3)
        lines = text.split("\n")
        for kind in (1, 2):
            picked = [line for line, k in zip(lines, kinds, strict=True) if k == kind]
            if windows == 1:  # the first lines that fill the budget
                n = 0
                for j, line in enumerate(picked):
                    n += len(line) + 1
                    if n >= 500:
                        picked = picked[:j + 1]
                        break
            expected = sample_text(" ".join(picked), 500, windows)
            assert langid_mod._sample(lines, kinds, kind, 500, windows) == expected


def test_empty_batch():
    out = langid().process(pa.table({"id": pa.array([], pa.string()), "text": pa.array([], pa.string())})).table
    assert out.num_rows == 0 and out["lang"].to_pylist() == []
