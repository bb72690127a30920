"""What a run writes, Hugging Face ``datasets`` reads: one call per output, JSONL and Parquet, sources with
different fields, nothing silently dropped (issue #17)."""

from __future__ import annotations

import json

import pytest

from gristmill import run
from tests.conftest import read_jsonl, shared, write_jsonl

datasets = pytest.importorskip("datasets")

RECIPE = """
name: bilingual-datasets
output:
  format: {fmt}
steps:
  - step: langid
  - step: quality
  - step: filter
    preset: [bilingual]
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Real English and Chinese records whose sources carry different fields (and types), plus a broken
    line for quarantine."""
    d = tmp_path_factory.mktemp("mixed")
    dolma = read_jsonl(shared("text_en/dolma_cc_samples.jsonl"))  # nested CCNet metadata
    web = read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))  # url + perplexity
    c4 = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:60]
    write_jsonl(d / "dolma.jsonl", dolma)
    write_jsonl(d / "c4.jsonl", c4)
    rows = [json.dumps(r, ensure_ascii=False) for r in web]
    rows.insert(5, '{"text": "broken')
    (d / "zh_web.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return d


def _load(*args, **kw):
    import os

    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return datasets.load_dataset(*args, split="train", **kw)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_every_output_of_a_bilingual_run_loads_with_one_call(tmp_path, corpus, fmt):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE.format(fmt=fmt))
    out = tmp_path / "out"
    m = run(str(recipe), inputs=[str(corpus)], output=str(out), workers=1, quiet=True)
    c = m["counts"]
    assert c["kept"] and c["rejected"] and c["quarantined"] == 1

    kept = _load(str(out))  # the card's default configuration
    assert kept.num_rows == c["kept"]
    rejected = _load(str(out), "rejected")
    assert rejected.num_rows == c["rejected"]
    assert set(rejected["rejected_by"]) == {"filter"} and all(rejected["reason"])
    quarantine = _load(str(out), "quarantine")
    assert quarantine.num_rows == 1 and quarantine[0]["error"].startswith("invalid JSON")

    # fields of every source are columns of one schema; a record keeps its own values, others read null
    cols = set(kept.column_names) | set(rejected.column_names)
    assert {"url", "title", "meta", "lang", "zh_han_frac", "gq_words"} <= cols and "_work" not in cols
    # `meta` is an object with other keys in each source: one struct column holding the union of its keys
    src = {r["id"]: r for r in read_jsonl(corpus / "dolma.jsonl")}
    seen = 0
    for r in list(kept) + list(rejected):
        if r["id"] in src:
            want = dict(src[r["id"]]["meta"])
            got = {k: r["meta"][k] for k in want}
            if fmt == "jsonl":  # pyarrow's JSON reader (under datasets' json loader) makes ISO-8601 a timestamp
                stamp = want.pop("date_download").replace("T", " ").rstrip("Z")
                assert str(got.pop("date_download")) == stamp
            assert got == want and r["text"] == src[r["id"]]["text"]
            assert all(r["meta"][k] is None for k in set(r["meta"]) - set(src[r["id"]]["meta"]))
            seen += 1
    assert seen == len(src)
    zh = [r for r in list(kept) + list(rejected) if r["lang"] == "zh"]
    assert zh and all(r["url"].startswith("http") and r["meta"]["source_domain"] for r in zh)


def test_jsonl_shards_of_one_output_share_their_columns(tmp_path, corpus):
    """Without the card, the JSON loader sees the same columns in every shard (the CastError of #17)."""
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE.format(fmt="jsonl"))
    out = tmp_path / "out"
    run(str(recipe), inputs=[str(corpus)], output=str(out), workers=2, quiet=True)
    for group in ("kept", "rejected"):
        keys = {frozenset(r) for p in (out / group).glob("*.jsonl") for r in read_jsonl(p)}
        assert len(keys) == 1, group
    assert (out / "quarantine").is_dir()


def test_quarantine_folder_exists_when_nothing_is_quarantined(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:20])
    m = run(inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "out"), workers=1, quiet=True)
    assert m["counts"]["quarantined"] == 0
    assert (tmp_path / "out" / "quarantine").is_dir()
    card = (tmp_path / "out" / "README.md").read_text()
    assert "config_name: kept" in card and "config_name: quarantine" not in card
