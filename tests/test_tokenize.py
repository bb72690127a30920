"""Token shards for any vocabulary, read by megatron-core's own ``IndexedDataset``; a failed tokenize leaves
nothing behind. Real English (C4) and Chinese (man pages, classical poetry) documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from gristmill.errors import GristmillError
from gristmill.tokenize import pack as pack_mod
from gristmill.tokenize.loader import TokenShards
from gristmill.tokenize.pack import pack
from gristmill.tokenize.tokenizer import EOS, PAD, load_tokenizer, token_dtype, train_tokenizer
from tests.conftest import read_jsonl, shared, write_jsonl

torch = pytest.importorskip("torch", reason="megatron-core needs torch (both are in the test extra)")
with warnings.catch_warnings():  # it warns that Transformer Engine and Apex are absent (not needed to read data)
    warnings.simplefilter("ignore")
    indexed = pytest.importorskip("megatron.core.datasets.indexed_dataset",
                                  reason="megatron-core is part of the test extra")


@pytest.fixture(scope="module")
def rows():
    en = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:100]
    zh = read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))[:30]
    zh += read_jsonl(shared("text_zh/chinese_poetry_shared.jsonl"))[:100]
    out = [{"id": f"en-{i}", "text": d["text"], "lang": "en"} for i, d in enumerate(en)]
    return out + [{"id": f"zh-{i}", "text": d["text"], "lang": "zh"} for i, d in enumerate(zh)]


@pytest.fixture(scope="module")
def data(tmp_path_factory, rows):
    d = tmp_path_factory.mktemp("data")
    write_jsonl(d / "a.jsonl", rows[::2])
    write_jsonl(d / "b.jsonl", rows[1::2])
    return [str(d / "a.jsonl"), str(d / "b.jsonl")]


def widen(tokenizer_json: dict, size: int) -> dict:
    """The same tokenizer with a vocabulary of ``size`` ids, laid out like Qwen's: regular tokens spread from 0
    to the top, special tokens last (EOS above 65,535 when ``size`` is); the gaps hold tokens no text encodes to
    (a character outside the byte-level alphabet)."""
    model = tokenizer_json["model"]
    specials = [t["content"] for t in sorted(tokenizer_json["added_tokens"], key=lambda t: t["id"])]
    regular = [t for t, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1]) if t not in specials]
    top = size - len(specials)
    step = (top - 1) // (len(regular) - 1)
    vocab = {t: k * step for k, t in enumerate(regular)}
    used = set(vocab.values())
    vocab.update({f"\u2400{i}": i for i in range(top) if i not in used})
    for k, t in enumerate(specials):
        vocab[t] = top + k
    for t in tokenizer_json["added_tokens"]:
        t["id"] = vocab[t["content"]]
    model["vocab"] = vocab
    return tokenizer_json


@pytest.fixture(scope="module")
def tokenizers_by_size(tmp_path_factory, rows):
    """Three vocabularies: 2,000 (trained), 65,536 (largest id 65,535: still uint16) and 70,000 (int32)."""
    d = tmp_path_factory.mktemp("tok")
    tok = train_tokenizer([r["text"] for r in rows], vocab_size=2000)
    tok.save(str(d / "small.json"))
    out = {2000: str(d / "small.json")}
    for size in (65_536, 70_000):
        body = widen(json.loads(tok.to_str()), size)
        (d / f"v{size}.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        out[size] = str(d / f"v{size}.json")
    return out


def test_widened_tokenizers_are_real_large_vocabularies(tokenizers_by_size, rows):
    small = load_tokenizer(tokenizers_by_size[2000])
    for size in (65_536, 70_000):
        big = load_tokenizer(tokenizers_by_size[size])
        assert big.get_vocab_size() == size and big.token_to_id(EOS) == size - 2 and big.token_to_id(PAD) == size - 1
        ids = [i for r in rows[:40] + rows[-40:] for i in big.encode(r["text"]).ids]
        assert max(ids) > 60_000 and min(ids) < 1000  # the texts use ids across the whole range
        for r in rows[:20] + rows[-20:]:
            assert big.decode(big.encode(r["text"]).ids) == r["text"]
            assert len(big.encode(r["text"]).ids) == len(small.encode(r["text"]).ids)
    assert [token_dtype(load_tokenizer(tokenizers_by_size[s])).name for s in (2000, 65_536, 70_000)] == \
        ["uint16", "uint16", "int32"]


@pytest.mark.parametrize("size,dtype", [(2000, "uint16"), (65_536, "uint16"), (70_000, "int32")])
def test_megatron_indexed_dataset_reads_every_document(data, rows, tokenizers_by_size, tmp_path, size, dtype):
    tok_path = tokenizers_by_size[size]
    tok = load_tokenizer(tok_path)
    eos = tok.token_to_id(EOS)
    m = pack(data, tok_path, str(tmp_path / "mg"), fmt="megatron", seed=5, shard_tokens=40_000)
    assert m["dtype"] == dtype and m["vocab_size"] == size and len(m["shards"]) > 1
    expected = {r["text"]: tok.encode(r["text"]).ids + [eos] for r in rows}
    seen = Counter()
    for part in m["shards"]:
        prefix = str(tmp_path / "mg" / part["file"][:-4])
        ds = indexed.IndexedDataset(prefix)
        assert len(ds) == part["documents"] and ds.index.dtype == np.dtype(dtype)
        assert ds.document_indices.tolist() == list(range(len(ds) + 1))
        for i in range(len(ds)):
            got = ds[i]
            text = tok.decode(got[:-1].tolist(), skip_special_tokens=False)
            assert got.tolist() == expected[text]  # every token, EOS last
            seen[text] += 1
        # byte for byte what megatron-core's own builder writes for the same documents
        ref = str(tmp_path / "ref")
        builder = indexed.IndexedDatasetBuilder(ref + ".bin", dtype=getattr(np, dtype))
        for i in range(len(ds)):
            builder.add_document(ds[i].astype(np.int64), [len(ds[i])])
        builder.finalize(ref + ".idx")
        for ext in (".bin", ".idx"):
            assert Path(ref + ext).read_bytes() == Path(prefix + ext).read_bytes()
        del ds
    assert seen == Counter(r["text"] for r in rows)
    if size != 65_536:  # Megatron's preprocess_data picks int32 from 65,500 up; gristmill from 65,536
        assert np.dtype(indexed.DType.optimal_dtype(size)) == np.dtype(dtype)
    # numpy shards of the same seed hold the same bytes, and read back as the same documents
    n = pack(data, tok_path, str(tmp_path / "np"), fmt="numpy", seed=5, shard_tokens=40_000)
    assert n["dtype"] == dtype and [p["tokens"] for p in n["shards"]] == [p["tokens"] for p in m["shards"]]
    for part in n["shards"]:
        raw = np.memmap(tmp_path / "np" / part["file"], dtype=dtype, mode="r")
        assert raw.tobytes() == (tmp_path / "mg" / part["file"]).read_bytes()
    shards = TokenShards(str(tmp_path / "np"))
    assert sorted(shards.text(i, tok) for i in range(len(shards))) == sorted(r["text"] for r in rows)
    window = shards.batch(np.random.default_rng(0), 4, 64)
    assert window.dtype == np.int64 and int(window.max()) < size
    if dtype == "int32":  # torch embeds int32 ids as they are (it refuses uint32)
        ids = torch.from_numpy(np.array(shards.tokens[0][:64]))
        assert torch.nn.Embedding(size, 4)(ids).shape == (64, 4)


def test_the_cli_packs_a_vocabulary_over_65536_for_megatron(data, tokenizers_by_size, tmp_path):
    r = subprocess.run([sys.executable, "-m", "gristmill", "tokenize", "-i", data[0], "-t", tokenizers_by_size[70_000],
                        "-o", str(tmp_path / "s"), "--format", "megatron"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "(int32)" in r.stdout, r.stdout
    assert sorted(os.listdir(tmp_path)) == ["s"]
    assert sorted(os.listdir(tmp_path / "s")) == ["manifest.json", "part-00000.bin", "part-00000.idx"]


# -- all or nothing ----------------------------------------------------------------------------------------------

def _failing_on_call(real, n: int, exc: BaseException):
    calls = []

    def wrapper(*a, **k):
        calls.append(1)
        if len(calls) == n:
            raise exc
        return real(*a, **k)
    return wrapper


def test_a_failure_while_writing_shards_leaves_nothing(data, tokenizers_by_size, tmp_path, monkeypatch):
    monkeypatch.setattr(pack_mod, "write_megatron_index",
                        _failing_on_call(pack_mod.write_megatron_index, 2, OSError(28, "No space left on device")))
    with pytest.raises(OSError, match="No space left"):
        pack(data, tokenizers_by_size[70_000], str(tmp_path / "out" / "s"), fmt="megatron", shard_tokens=50_000)
    assert os.listdir(tmp_path / "out") == []  # no partial shard, no .idx, no staging or temp folder


def test_ctrl_c_while_tokenizing_keeps_the_earlier_output(data, tokenizers_by_size, tmp_path, monkeypatch):
    out = tmp_path / "s"
    first = pack(data, tokenizers_by_size[2000], str(out), shard_tokens=50_000)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(pack_mod, "read_shard", _failing_on_call(pack_mod.read_shard, 2, KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        pack(data, tokenizers_by_size[70_000], str(out), fmt="megatron")
    assert sorted(os.listdir(tmp_path)) == ["s"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert TokenShards(str(out)).num_tokens == first["tokens"]


def test_a_rerun_replaces_earlier_shards_without_leftovers(data, tokenizers_by_size, tmp_path):
    out = tmp_path / "s"
    a = pack(data, tokenizers_by_size[2000], str(out), shard_tokens=30_000)
    b = pack(data, tokenizers_by_size[2000], str(out), fmt="megatron")
    assert len(a["shards"]) > 2 and len(b["shards"]) == 1
    assert sorted(os.listdir(out)) == ["manifest.json", "part-00000.bin", "part-00000.idx"]
    assert sorted(os.listdir(tmp_path)) == ["s"]


def test_a_folder_that_is_not_token_shards_is_refused_untouched(data, tokenizers_by_size, tmp_path):
    run_dir = tmp_path / "run"
    write_jsonl(run_dir / "kept" / "part-00000.jsonl", [{"id": "1", "text": "留着我"}])
    (run_dir / "manifest.json").write_text('{"reconciled": true}')
    with pytest.raises(GristmillError, match="not empty and does not hold an earlier token-shard output"):
        pack(data, tokenizers_by_size[2000], str(run_dir))
    r = subprocess.run([sys.executable, "-m", "gristmill", "tokenize", "-i", data[0], "-t", tokenizers_by_size[2000],
                        "-o", str(run_dir)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "does not hold an earlier" in r.stderr
    assert sorted(p.name for p in run_dir.rglob("*")) == ["kept", "manifest.json", "part-00000.jsonl"]
    assert sorted(os.listdir(tmp_path)) == ["run"]


def test_staging_left_by_a_killed_process_is_removed_next_time(data, tokenizers_by_size, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".s.gristmill-{dead.pid}-0badf00d"
    stale.mkdir()
    (stale / "part-00000.bin").write_bytes(b"\0" * 64)
    live = tmp_path / f".s.gristmill-{os.getppid()}-0000beef"  # a running process: its work is left alone
    live.mkdir()
    pack(data, tokenizers_by_size[2000], str(tmp_path / "s"))
    assert sorted(os.listdir(tmp_path)) == [live.name, "s"]
