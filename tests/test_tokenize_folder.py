"""``gristmill tokenizer train`` writes a folder that ``transformers.AutoTokenizer`` loads with its special
tokens and ``model_max_length``, and that encodes and decodes real English and Chinese exactly as the
``tokenizers`` library does."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gristmill.tokenize.folder import save_tokenizer
from gristmill.tokenize.pack import pack
from gristmill.tokenize.tokenizer import load_tokenizer, train_tokenizer
from tests.conftest import read_jsonl, shared

transformers = pytest.importorskip("transformers", reason="transformers is part of the test extra")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("tok") / "tokenizer"
    r = subprocess.run([sys.executable, "-m", "gristmill", "tokenizer", "train", "-i",
                        str(shared("text_en/c4_sample_shared.jsonl")), "-i", str(shared("text_zh/chinese_poetry_shared.jsonl")),
                        "-o", str(out), "--vocab-size", "1500", "--sample-docs", "500", "--model-max-length", "512"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"AutoTokenizer.from_pretrained('{out}')" in r.stdout
    return out


@pytest.fixture(scope="module")
def held_out():
    """Texts the tokenizer never saw: English web text and Debian documentation, Chinese web text and man pages."""
    en = [d["text"] for d in read_jsonl(shared("text_en/dolma_cc_samples.jsonl"))[:15]]
    en += [d["text"] for d in read_jsonl(shared("text_en/debian_reference_en_shared.jsonl.gz"))[:10]]
    zh = [d["text"] for d in read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))[:15]]
    zh += [d["text"] for d in read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))[:10]]
    return en, zh


def _auto(path):
    os.environ["HF_HUB_OFFLINE"] = "1"  # a local folder: nothing may be fetched
    return transformers.AutoTokenizer.from_pretrained(str(path))


def test_auto_tokenizer_has_the_special_tokens_and_length(folder):
    assert sorted(os.listdir(folder)) == ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]
    hf = _auto(folder)
    assert (hf.eos_token, hf.eos_token_id) == ("<|endoftext|>", 0)
    assert (hf.bos_token, hf.bos_token_id) == ("<|endoftext|>", 0)
    assert (hf.pad_token, hf.pad_token_id) == ("<|pad|>", 1)
    assert hf.model_max_length == 512 and hf.is_fast and len(hf) == 1500


def test_encode_and_decode_equal_the_tokenizers_library(folder, held_out):
    hf = _auto(folder)
    tok = load_tokenizer(str(folder))
    en, zh = held_out
    for text in en + zh + ["混合 mixed 文本 ①② 🙂\ttabs  and  spaces ,  before . punctuation"]:
        ids = tok.encode(text).ids
        assert hf.encode(text, add_special_tokens=False) == ids
        assert hf(text)["input_ids"] == ids  # no BOS or EOS is added, as in the packed shards
        assert hf.decode(ids) == tok.decode(ids) == text


def test_padding_and_truncation_use_the_folder_settings(folder, held_out):
    hf = _auto(folder)
    en, zh = held_out
    batch = hf([zh[0][:20], "\n".join(en)], padding=True, truncation=True)
    short, long = batch["input_ids"]
    assert len(long) == len(short) == 512  # truncated to model_max_length; the short one padded to it
    n = len(hf(zh[0][:20])["input_ids"])
    assert short[n:] == [1] * (512 - n) and batch["attention_mask"][0] == [1] * n + [0] * (512 - n)
    assert 0 not in short  # EOS stays a real token, never padding


def test_a_json_path_writes_the_file_alone_unless_named_tokenizer_json(tmp_path, held_out):
    tok = train_tokenizer(held_out[0] + held_out[1], vocab_size=600)
    assert save_tokenizer(tok, str(tmp_path / "a" / "tok.json")) == [str(tmp_path / "a" / "tok.json")]
    assert os.listdir(tmp_path / "a") == ["tok.json"]
    files = save_tokenizer(tok, str(tmp_path / "b" / "tokenizer.json"), model_max_length=4096)
    assert sorted(os.path.basename(f) for f in files) == sorted(os.listdir(tmp_path / "b")) == \
        ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]
    assert _auto(tmp_path / "b").model_max_length == 4096


def test_a_tokenizer_folder_packs_and_the_manifest_names_its_file(folder, tmp_path):
    m = pack([str(shared("text_zh/chinese_poetry_shared.jsonl"))], str(folder), str(tmp_path / "s"))
    assert m["tokenizer"] == str(folder / "tokenizer.json") and m["eos_id"] == 0 and m["dtype"] == "uint16"
