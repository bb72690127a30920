"""Which lines are prose, on real technical text in English and Chinese, and the prose_* signals that
measure only them; the C core names the same lines as the Python definition."""

from __future__ import annotations

import random

import pytest

from gristmill.steps.quality import document_signals, reference_signals
from gristmill.text import prose
from gristmill.text.prose import CODE, KIND_NAMES, NO_LETTERS, OPTION, PROSE, TABLE, line_kinds, line_kinds_py
from tests.conftest import SHARED, read_jsonl, shared


def _page(rel: str, doc_id: str) -> str:
    return next(d["text"] for d in read_jsonl(shared(rel)) if d["id"] == doc_id)


def _kinds(text: str) -> dict[str, int]:
    return {line: k for line, k in zip(text.splitlines(), line_kinds(text), strict=True) if line.strip()}


def test_python_howto_code_examples_are_code_and_the_explanations_prose():
    text = _page("text_en/python311_doc_shared.jsonl.gz", "python311-doc-howto-sorting")
    kinds = _kinds(text)
    assert kinds[">>> sorted([5, 2, 3, 1, 4])"] == CODE
    assert kinds["[1, 2, 3, 4, 5]"] == CODE  # the output belongs to the example
    assert kinds["...     def __init__(self, name, grade, age):"] == CODE
    assert kinds["In this document, we explore the various techniques for sorting data using Python."] == PROSE
    assert kinds["Sorting Basics"] == PROSE  # headings are prose
    s = document_signals(text, "en")
    # code and its output pull the share of words with a letter far below Gopher's 0.8; the prose is above it
    assert s["gq_alpha_words"] < 0.6 and s["prose_alpha_words"] > 0.8 and 0.5 < s["prose_share"] < 0.8


def test_chinese_man_page_options_are_a_list_and_the_description_prose():
    text = _page("text_zh/manpages_zh_cn_shared.jsonl.gz", "manpages-zh-CN-stty.1")
    kinds = _kinds(text)
    assert kinds["       -a, --all"] == OPTION
    assert kinds["              以可读性较好的格式输出全部当前设置"] == OPTION  # the option's description
    assert kinds["       输出或变更终端特性。"] == PROSE
    assert kinds["       stty [-F 设备 | --file=设备] [-a|--all]"] == TABLE
    s = document_signals(text, "zh")
    # the descriptions of options carry no 。: over all lines too few end a sentence, over prose enough do
    assert s["c4_terminal_lines"] < 0.05 < s["prose_terminal_lines"]


def test_c_api_signatures_and_definition_terms():
    text = _page("text_en/python311_doc_shared.jsonl.gz", "python311-doc-c-api-weakref")
    kinds = _kinds(text)
    assert kinds["PyObject *PyWeakref_NewRef(PyObject *ob, PyObject *callback)"] == CODE
    assert kinds["Return true if ob is a reference object. This function always succeeds."] == PROSE
    # a definition list: a term at the body's indentation with its description indented under it; a
    # sub-heading less indented than the body is not a term
    stty = _kinds(_page("text_zh/manpages_zh_cn_shared.jsonl.gz", "manpages-zh-CN-stty.1"))
    assert stty["       eof 字符"] == stty["              字符将发送文件结束字符（用于终止输入）"] == OPTION
    assert stty["   特殊字符："] == PROSE
    page = "NAME\n       cd - 改变工作目录\n\nDESCRIPTION\n   ckalloc\n       This macro allocates memory.\n"
    assert [KIND_NAMES[k] for k in line_kinds(page)] == ["prose"] * 2 + ["blank"] + ["prose"] * 3


def test_numbers_are_measured_not_excused():
    # a list of ZIP codes on a web page is not technical text: it stays in the prose signals
    page = "We transfer film to DVD in Amory.\n38601, 38603, 38606, 38609, 38610, 38611\nCall us today."
    assert [k for k in line_kinds(page)] == [PROSE, NO_LETTERS, PROSE]
    s = reference_signals(page, "en")
    assert s["prose_share"] == 1.0 and s["prose_alpha_words"] == s["gq_alpha_words"]


def test_han_share_is_measured_on_the_chinese_part():
    # unlocked_stdio(3) is Chinese prose around a synopsis of 40 C prototypes: over the whole page Han
    # characters are 10% (under zh-web's 0.15), over its Chinese prose half of the characters
    text = _page("text_zh/manpages_zh_cn_shared.jsonl.gz", "manpages-zh-CN-unlocked_stdio.3")
    s = document_signals(text, "zh")
    assert s["zh_han_frac"] < 0.15 < 0.4 < s["prose_han_frac"]
    # ab(1): half of its option descriptions were never translated; English prose lines are not the Chinese
    # part, so they do not dilute its Han share
    ab = document_signals(_page("text_zh/manpages_zh_cn_shared.jsonl.gz", "manpages-zh-CN-ab.1"), "zh")
    assert ab["prose_han_frac"] > 2 * ab["zh_han_frac"]


def _texts() -> list[str]:
    out = []
    for sub in ("text_en", "text_zh"):
        for p in sorted((SHARED / sub).iterdir()):
            if ".jsonl" in p.name and "sms_spam" not in p.name and "chnsenticorp" not in p.name:
                out += [d["text"] for d in read_jsonl(p) if isinstance(d.get("text"), str)]
    return out


def test_the_c_core_names_the_same_lines_as_the_python_definition():
    if prose._c_line_kinds is None:
        pytest.skip("built without the C core")
    texts = _texts()
    rng = random.Random(16)
    pieces = ["  ", "\t", "-a", "--all", "[-]x", "* ", "|", ">>> ", "... ", "$ ", "f(x)", "g(1)", "x = 1", "a->b",
              "a_b", "fooBar", "os.path", ").", "::", "{", "}", ";", "```", "~~~", "中文", "说明。", "word", "The",
              "42", "\n", "\n\n", "\r\n", "\u2028", "   ", "(", ")", ":", "=", "==", "é", "١", "½"]
    texts += ["".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(0, 40)))
              for _ in range(20_000)]
    for t in texts:
        assert prose._c_line_kinds(t) == line_kinds_py(t), t[:200]
