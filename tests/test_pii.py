"""PII: detectors on English and Chinese formats, overlaps, tricky non-PII numbers, and the step's actions."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from gristmill import run
from gristmill.protect.pii import cn_id_valid, find_pii, luhn
from gristmill.recipe import load_recipe
from tests.conftest import output_rows, read_jsonl, shared, write_jsonl


def found(text):
    return [(s.type, s.value) for s in find_pii(text)]


def test_checksums():
    assert cn_id_valid("11010519491231002X") and not cn_id_valid("110105194912310021")
    assert luhn("4111111111111111") and not luhn("4111111111111112")


@pytest.mark.parametrize("text, expected", [
    ("联系我：13812345678 或 +86 139 1234 5678", [("PHONE_CN", "13812345678"), ("PHONE_CN", "+86 139 1234 5678")]),
    ("全角号码１３８１２３４５６７８，座机（０１０）６２７５１２３４", [("PHONE_CN", "１３８１２３４５６７８"),
                                                       ("PHONE_CN", "（０１０）６２７５１２３４")]),
    ("身份证 11010519491231002X。", [("CN_ID", "11010519491231002X")]),
    ("Card: 4111-1111-1111-1111 exp 12/27", [("CREDIT_CARD", "4111-1111-1111-1111")]),
    ("mail john.smith@example.com now", [("EMAIL", "john.smith@example.com")]),
    ("SSN 078-05-1120 but not 000-12-3456", [("US_SSN", "078-05-1120")]),
    ("key AKIAIOSFODNN7EXAMPLE at https://user:p4ss@db.example.com/x", [
        ("SECRET", "AKIAIOSFODNN7EXAMPLE"), ("URL_CREDENTIALS", "https://user:p4ss@db.example.com/x")]),
    ("server 10.0.0.5, resolver 8.8.4.4", [("IP_PRIVATE", "10.0.0.5"), ("IP", "8.8.4.4")]),
])
def test_detects(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "订单号 20210315123456789012，金额 13800 元，日期 2021年3月15日",   # long digit runs, amounts, dates
    "身份证样式但校验位错误 110105194912310021",                      # wrong check digit
    "ISBN 978-7-111-40701-0, 第 1380 页, 电话区号 0571",
    "version 3.11.2 released 2023-02-08, build 13812345678901",     # 14 digits is not a phone
])
def test_numbers_that_are_not_pii(text):
    assert [t for t, _ in found(text) if t != "IP"] == []


def test_a_phone_pattern_never_eats_part_of_a_card():
    spans = find_pii("pay with 6222 0202 0000 1234 5678 please")  # UnionPay, 20 chars with spaces
    assert [s.type for s in spans] in (["CREDIT_CARD"], [])
    assert all(s.type != "PHONE_CN" for s in spans)


def step(**params):
    body = "".join(f"\n    {k}: {json.dumps(v)}" for k, v in params.items())
    return load_recipe(text=f"steps:\n  - step: pii{body}\n").steps[0].build()


def test_mask_pseudonym_and_reject():
    t = pa.table({"id": ["a", "b"], "text": ["写信给 li.lei@example.cn 或致电 13812345678。", "no pii here"]})
    res = step().process(t)
    assert res.table["text"].to_pylist()[0] == "写信给 <EMAIL> 或致电 <PHONE_CN>。"
    assert res.table["pii_email"].to_pylist() == [1, 0] and res.table["pii_total"].to_pylist() == [2, 0]
    res2 = step(action="pseudonym", salt="s1").process(t)
    res3 = step(action="pseudonym", salt="s1").process(t)
    assert res2.table["text"].to_pylist() == res3.table["text"].to_pylist()  # stable
    assert "EMAIL_" in res2.table["text"].to_pylist()[0] and "li.lei" not in res2.table["text"].to_pylist()[0]
    res4 = step(actions={"PHONE_CN": "reject"}).process(t)
    assert res4.reject.tolist() == [True, False] and res4.detail == ["contains PHONE_CN x1"]


def test_real_english_sentences(tmp_path):
    rows = read_jsonl(shared("pii/presidio_synth_en_shared.jsonl"))[:300]
    write_jsonl(tmp_path / "in.jsonl", [{"id": r["id"], "text": r["text"]} for r in rows])
    (tmp_path / "r.yaml").write_text("steps:\n  - step: pii\n")
    run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"), workers=1,
        quiet=True)
    out = {r["id"]: r for r in output_rows(tmp_path / "o")}
    emails = [(r, s) for r in rows for s in r["spans"] if s["type"] == "EMAIL_ADDRESS"]
    assert emails and all(s["value"] not in out[r["id"]]["text"] for r, s in emails)
