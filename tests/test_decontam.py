"""Decontamination: index real benchmark sets, find planted items in real English and Chinese text, cut spans."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from gristmill import run
from gristmill.decontam.index import DecontamIndex, build_index
from tests.conftest import output_rows, read_jsonl, shared, write_jsonl


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    d = tmp_path_factory.mktemp("idx")
    meta = build_index([("gsm8k", str(shared("decontam/gsm8k_test.jsonl")), ["question"]),
                        ("cmmlu", str(shared("decontam/cmmlu_test_shared.jsonl.gz")), ["question", "choices"])],
                       str(d / "idx"), n=13)
    assert meta["benchmarks"]["gsm8k"]["indexed_items"] == 1319
    assert meta["benchmarks"]["cmmlu"]["indexed_items"] > 6900
    return str(d / "idx")


def test_planted_items_are_found_and_clean_text_is_not(index):
    idx = DecontamIndex(index)
    rng = random.Random(0)
    gsm = rng.sample(read_jsonl(shared("decontam/gsm8k_test.jsonl")), 50)
    cm = [r for r in read_jsonl(shared("decontam/cmmlu_test_shared.jsonl.gz")) if len(r["question"]) > 20]
    cm = rng.sample(cm, 50)
    hosts_en = [d["text"] for d in read_jsonl(shared("text_en/c4_sample_shared.jsonl"))]
    hosts_zh = [d["gold_text"] for d in read_jsonl(shared("extraction/cwce_zh_shared.jsonl.gz"))]
    for it in gsm:
        host = rng.choice(hosts_en)
        embedded = host[: len(host) // 2] + "\n" + it["question"] + "\n" + host[len(host) // 2:]
        n, items = idx.match_text(embedded)
        assert n > 0 and it["id"] in {x["id"] for x in items}
    for it in cm:
        text = it["question"] + "\n" + "\n".join(it["choices"])
        host = rng.choice(hosts_zh)
        n, items = idx.match_text(host[:200] + text + host[200:400])
        assert n > 0 and it["id"] in {x["id"] for x in items}
    clean = [d["text"] for d in read_jsonl(shared("text_en/c4_sample_shared.jsonl"))] + \
        [d["text"] for d in read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))]
    assert sum(idx.match_text(t)[0] > 0 for t in clean) == 0


def test_step_marks_removes_and_cuts(index, tmp_path):
    q = read_jsonl(shared("decontam/gsm8k_test.jsonl"))[7]["question"]
    host = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[3]["text"]
    rows = [{"id": "contaminated", "text": host[:1500] + "\n" + q + "\n" + host[1500:3000]},
            {"id": "clean", "text": host}]
    write_jsonl(tmp_path / "in.jsonl", rows)
    for action in ("mark", "remove", "cut"):
        (tmp_path / f"{action}.yaml").write_text(f"steps:\n  - step: decontaminate\n    index: {index}\n"
                                                 f"    action: {action}\n    margin: 50\n")
        m = run(str(tmp_path / f"{action}.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / action),
                workers=1, quiet=True)
        kept = {r["id"]: r for r in output_rows(tmp_path / action)}
        assert kept["clean"]["contam_ngrams"] == 0
        if action == "mark":
            assert kept["contaminated"]["contam_benchmarks"] == "gsm8k"
            assert kept["contaminated"]["contam_items"] == "gsm8k-test-7"
        elif action == "remove":
            assert "contaminated" not in kept and m["steps"][0]["rejected"] == {"contaminated": 1}
        else:
            cut = kept["contaminated"]["text"]
            assert q[:60] not in cut and host[:500] in cut and len(cut) < len(rows[0]["text"]) - len(q)


def test_cli_build_and_scan(tmp_path):
    def cli(*a):
        return subprocess.run([sys.executable, "-m", "gristmill", *a], capture_output=True, text=True,
                              env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    r = cli("decontam", "build", str(shared("decontam/mt_bench_questions.jsonl")), "--field", "turns",
            "-o", str(tmp_path / "idx"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["benchmarks"]["mt_bench_questions"]["indexed_items"] == 80
    items = read_jsonl(shared("decontam/mt_bench_questions.jsonl"))
    write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": "Intro.\n" + items[0]["turns"][0]},
                                       {"id": "b", "text": "nothing to see here " * 20}])
    r = cli("decontam", "scan", str(tmp_path / "idx"), "-i", str(tmp_path / "c.jsonl"), "-o", str(tmp_path / "s"))
    assert r.returncode == 0, r.stderr
    assert "mt_bench_questions" in r.stdout and "1.2%" in r.stdout  # 1 of 80 items
