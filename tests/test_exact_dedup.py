"""exact_dedup: global across shards, deterministic choice of the kept copy, rejects name it."""

from __future__ import annotations

import json

import pytest

from gristmill import run
from gristmill.dedup.exact import normalise_key
from tests.conftest import output_rows, write_jsonl


def test_key_normalisation():
    assert normalise_key("A  b\n\tc ", ["whitespace"]) == "A b c"
    assert normalise_key("Ｈｅｌｌｏ，世界", ["nfkc", "lower"]) == "hello,世界"


@pytest.mark.parametrize("reduce_rows", [8_000_000, 7])  # 7: the reduce takes many small bucket groups
def test_copies_across_files_and_shards(tmp_path, en_docs, zh_docs, reduce_rows, monkeypatch):
    monkeypatch.setattr("gristmill.dedup.exact.REDUCE_ROWS", reduce_rows)
    base = [{"id": d["id"], "text": d["text"]} for d in en_docs[:40] + zh_docs[:40]]
    copies = []
    for i, d in enumerate(base[::5]):  # 16 copies with whitespace changes, spread over a second file
        copies.append({"id": f"copy-{i}", "text": "  " + d["text"].replace("\n", "\n\n") + " "})
    write_jsonl(tmp_path / "in" / "a.jsonl", base)
    write_jsonl(tmp_path / "in" / "b.jsonl", copies + [dict(copies[0], id="copy-again")])
    recipe = tmp_path / "r.yaml"
    recipe.write_text("input:\n  shard_size: 40000\nsteps:\n  - step: exact_dedup\n    key: text\n"
                      "    normalize: [whitespace]\n")
    m = run(str(recipe), inputs=[str(tmp_path / "in")], output=str(tmp_path / "out"), workers=1, quiet=True)
    assert m["shards"] > 2 and m["reconciled"]
    kept = output_rows(tmp_path / "out")
    rejected = output_rows(tmp_path / "out", "rejected")
    assert [r["id"] for r in kept] == [d["id"] for d in base]  # the first copy in input order wins
    assert len(rejected) == 17
    want = {f"copy-{i}": d["id"] for i, d in enumerate(base[::5])} | {"copy-again": base[0]["id"]}
    assert {r["id"]: r["detail"] for r in rejected} == {k: f"duplicate of {v}" for k, v in want.items()}
    assert {r["rejected_by"] for r in rejected} == {"exact_dedup"} and {r["reason"] for r in rejected} == {"duplicate"}


def test_dedup_on_a_metadata_field(tmp_path):
    rows = [{"id": "a", "text": "one page", "url": "https://x.org/1"},
            {"id": "b", "text": "the same page, fetched again", "url": "https://x.org/1"},
            {"id": "c", "text": "no url"}]
    write_jsonl(tmp_path / "u.jsonl", rows)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("steps:\n  - step: exact_dedup\n    key: url\n    normalize: []\n")
    run(str(recipe), inputs=[str(tmp_path / "u.jsonl")], output=str(tmp_path / "out"), workers=1, quiet=True)
    assert [r["id"] for r in output_rows(tmp_path / "out")] == ["a", "c"]
    rej = output_rows(tmp_path / "out", "rejected")
    assert [(r["id"], r["detail"], r["url"]) for r in rej] == [("b", "duplicate of a", "https://x.org/1")]
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["counts"]["rejected"] == 1
