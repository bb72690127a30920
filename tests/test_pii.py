"""PII: detectors on English and Chinese formats, overlaps, tricky non-PII numbers, and the step's actions."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from gristmill import run
from gristmill.protect.pii import cn_id_valid, find_pii, iban_check, luhn
from gristmill.protect.pii_checks import card_issuer, isbn_valid
from gristmill.recipe import load_recipe
from tests.conftest import output_rows, read_jsonl, shared, write_jsonl


def found(text):
    return [(s.type, s.value) for s in find_pii(text)]


def test_checksums():
    assert cn_id_valid("11010519491231002X") and not cn_id_valid("110105194912310021")
    assert luhn("4111111111111111") and not luhn("4111111111111112")


@pytest.mark.parametrize("number, issuer", [
    ("4111111111111111", "Visa"), ("4222222222222", "Visa"), ("5555555555554444", "Mastercard"),
    ("2223003122003222", "Mastercard"), ("378282246310005", "American Express"), ("6011111111111117", "Discover"),
    ("3530111333300000", "JCB"), ("30569309025904", "Diners Club"), ("6759649826438453", "Maestro"),
    ("676233287116", "Maestro"), ("6200000000000005", "UnionPay"), ("2200000000000004", "Mir"),
])
def test_card_issuers_and_lengths(number, issuer):
    assert luhn(number) and card_issuer(number) == issuer


def test_card_issuers_refuse_lengths_they_do_not_issue():
    assert card_issuer("411111111111") is None            # Visa issues 13, 16 and 19 digits
    assert card_issuer("37828224631000") is None          # Amex is 15 digits
    assert card_issuer("9111111111111111") is None        # no issuer starts with 9 (but Troy 9792)


@pytest.mark.parametrize("iban", [
    "DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32", "FR14 2004 1010 0505 0001 3M02 606",
    "NO93 8601 1117 947", "NL91 ABNA 0417 1643 00", "CH93 0076 2011 6238 5295 7", "BE68539007547034",
])
def test_iban_length_and_mod97(iban):
    assert iban_check(iban) == "ok"
    assert iban_check(iban[:-1] + str((int(iban[-1]) + 1) % 10)) == "mod-97 check fails"
    assert "characters" in iban_check(iban + "1")


def test_isbn13_is_told_from_numbers():
    assert isbn_valid("9787111407010") and not isbn_valid("9787111407011") and not isbn_valid("4111111111111")


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


def test_explain_on_the_command_line():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "gristmill", "pii", "explain",
                        "版本 2.6.32.1，服务器 81.2.69.160，致电 13812345678，reference 6273 4567 8901 2345"],
                       capture_output=True, text=True, env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "IP [3:11] '2.6.32.1' confidence 0.00 DROPPED: confidence 0.00 < 0.50" in lines
    assert "    after the version word '版本'" in lines
    assert any(ln.startswith("IP [16:27] '81.2.69.160'") and "KEPT" in ln for ln in lines)
    assert any(ln.startswith("PHONE_CN [31:42] '13812345678'") and "KEPT" in ln for ln in lines)
    assert any("Luhn check fails" in ln for ln in lines)
    bad = subprocess.run([sys.executable, "-m", "gristmill", "pii", "explain", "x", "--region", "XX"],
                         capture_output=True, text=True, env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"})
    assert bad.returncode == 2 and "unknown phone region(s): XX" in bad.stderr and "Traceback" not in bad.stderr
