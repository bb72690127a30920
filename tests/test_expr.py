"""The safe expression grammar: what it accepts, what it refuses, and what it computes."""

from __future__ import annotations

import pyarrow as pa
import pytest

from gristmill.expr import Expr, ExprError


@pytest.fixture
def table():
    return pa.table({"lang": ["en", "zh", "fr", None], "score": [0.9, 0.4, 0.99, 0.5],
                     "text": ["hello world", "你好，世界", "bonjour", "x"], "n": [3, 7, 10, 0]})


@pytest.mark.parametrize("src, expected", [
    ("lang in ['en', 'zh'] and score >= 0.5", [True, False, False, False]),
    ("not (lang == 'fr')", [True, True, False, False]),       # null lang -> false
    ("lang not in ['en'] or n > 5", [False, True, True, True]),  # a null is not in the list
    ("len(text) >= 5", [True, True, True, False]),
    ("n / 2 > 3", [False, True, True, False]),
    ("n % 3 == 1", [False, True, True, False]),
    ("0.3 < score < 0.95", [True, True, False, True]),
    ("lang == 'zh' and len(text) < 10 or n == 0", [False, True, False, True]),
    ("false or null", [False, False, False, False]),
    ("max(n, 5) == 5 and lower(text) == text", [True, False, False, True]),
    ("true", [True, True, True, True]),
])
def test_evaluates_column_wise(table, src, expected):
    assert Expr(src).evaluate(table).to_pylist() == expected


@pytest.mark.parametrize("src", [
    "__import__('os')", "text.upper() == 'X'", "[x for x in text]", "lambda: 1", "open('f')",
    "n ** 2 > 1", "n << 1", "text[0] == 'h'", "(n := 3)", "f'{n}'",
])
def test_refuses_anything_outside_the_grammar(src):
    with pytest.raises(ExprError):
        Expr(src)


def test_unknown_column_names_the_available_ones(table):
    with pytest.raises(ExprError, match="unknown column 'scor'.*available: lang, score"):
        Expr("scor > 1").evaluate(table)


def test_names_are_collected():
    assert Expr("lang == 'zh' and han_frac < 0.3").names == {"lang", "han_frac"}
