"""The local executor: nothing lost, byte-identical for 1 or N workers, resumable after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import fsspec
import pyarrow.parquet as pq
import pytest

from gristmill import GristmillError, run
from tests.conftest import read_jsonl, shared, tree_bytes, write_jsonl

RECIPE = """
input:
  shard_size: {shard_size}
output:
  format: {fmt}
steps:
  - step: normalize
  - step: langid
  - step: exact_dedup
  - step: minhash_dedup
  - step: filter
    name: quality
    rules:
      long_enough: "len(text) >= 200"
      mostly_letters: "han_frac > 0.2 or lang == 'en'"
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """~8 MB of real English and Chinese JSONL with exact copies and bad lines mixed in."""
    d = tmp_path_factory.mktemp("corpus")
    py = read_jsonl(shared("text_en/python311_doc_shared.jsonl.gz"))
    zh = read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))
    fort = read_jsonl(shared("text_zh/fortunes_zh_shared.jsonl.gz"))
    write_jsonl(d / "en" / "python.jsonl", [{"id": r["id"], "text": r["text"], "html": r["html"]} for r in py])
    write_jsonl(d / "zh" / "man.jsonl", [{k: r[k] for k in ("id", "text", "roff")} for r in zh] +
                [{"id": f"again-{r['id']}", "text": r["text"]} for r in zh[:30]])
    with open(d / "zh" / "fortunes.jsonl", "w", encoding="utf-8") as f:
        for i, r in enumerate(fort):
            f.write(json.dumps({"text": r["text"], "raw": r["raw"]}, ensure_ascii=False) + "\n")
            if i % 500 == 7:
                f.write('{"text": broken json\n')
    return d


def recipe_file(tmp_path: Path, shard_size="400KB", fmt="jsonl") -> str:
    p = tmp_path / f"recipe-{fmt}-{shard_size}.yaml"
    p.write_text(RECIPE.format(shard_size=shard_size, fmt=fmt))
    return str(p)


def test_reconciles_and_accounts_for_every_record(tmp_path, corpus):
    m = run(recipe_file(tmp_path), inputs=[str(corpus)], output=str(tmp_path / "o"), workers=2, quiet=True)
    c = m["counts"]
    assert m["reconciled"] and c["input"] == c["kept"] + c["rejected"] + c["quarantined"]
    assert c["quarantined"] == 8  # the broken lines
    steps = {s["name"]: s for s in m["steps"]}
    assert steps["exact_dedup"]["rejected"]["duplicate"] >= 30  # our 30 copies + natural repeats in fortunes
    rejected_rows = [r for p in (tmp_path / "o" / "rejected").glob("*exact_dedup*") for r in read_jsonl(p)]
    assert {f"again-{r['id']}" for r in read_jsonl(corpus / "zh" / "man.jsonl")[:30]} <= {r["id"] for r in rejected_rows}
    assert set(steps["quality"]["rejected"]) <= {"long_enough", "mostly_letters"}
    kept = sum(len(read_jsonl(p)) for p in (tmp_path / "o" / "kept").glob("*.jsonl"))
    rejected = sum(len(read_jsonl(p)) for p in (tmp_path / "o" / "rejected").glob("*.jsonl"))
    quarantined = sum(len(read_jsonl(p)) for p in (tmp_path / "o" / "quarantine").glob("*.jsonl"))
    assert (kept, rejected, quarantined) == (c["kept"], c["rejected"], c["quarantined"])
    assert m["shards"] > 10 and m["recipe_hash"] and m["versions"]["pyarrow"]
    q = read_jsonl(next((tmp_path / "o" / "quarantine").glob("*.jsonl")))[0]
    assert q["source"] == "corpus0/zh/fortunes.jsonl" or q["source"].endswith("zh/fortunes.jsonl")
    assert q["error"].startswith("invalid JSON") and q["raw"] == '{"text": broken json'


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_one_and_two_workers_give_byte_identical_output(tmp_path, corpus, fmt):
    r = recipe_file(tmp_path, fmt=fmt)
    a = run(r, inputs=[str(corpus)], output=str(tmp_path / "w1"), workers=1, quiet=True)
    b = run(r, inputs=[str(corpus)], output=str(tmp_path / "w2"), workers=2, quiet=True)
    ta, tb = tree_bytes(tmp_path / "w1"), tree_bytes(tmp_path / "w2")
    assert ta and ta == tb
    assert a["counts"] == b["counts"] and a["steps"][0]["in"] == b["steps"][0]["in"]
    if fmt == "parquet":  # the input's fields are typed columns, one schema for every file of an output
        names = set()
        for group in ("kept", "rejected"):
            schemas = {pq.read_schema(p) for p in (tmp_path / "w1" / group).glob("*.parquet")}
            assert len(schemas) == 1, group
            names |= set(schemas.pop().names)
        assert {"id", "text", "lang", "lang_score", "html", "roff", "raw"} <= names and "meta" not in names


def test_original_fields_survive_in_jsonl_output(tmp_path, corpus):
    run(recipe_file(tmp_path), inputs=[str(corpus / "zh" / "man.jsonl")], output=str(tmp_path / "o"),
        workers=1, quiet=True)
    src = {r["id"]: r for r in read_jsonl(corpus / "zh" / "man.jsonl")}
    out = [r for p in sorted((tmp_path / "o" / "kept").glob("*.jsonl")) for r in read_jsonl(p)]
    assert out
    for r in out:
        assert r["roff"] == src[r["id"]]["roff"] and r["lang"] in ("zh", "en")


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "gristmill", *args], capture_output=True, text=True, **kw)


def _kill_when(cmd: list[str], done_dir: Path, predicate, timeout=120.0) -> bool:
    """Start ``gristmill run``, kill -9 its whole process group once ``predicate(markers)`` holds."""
    p = subprocess.Popen([sys.executable, "-m", "gristmill", *cmd], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.time()
    killed = False
    while p.poll() is None and time.time() - t0 < timeout:
        names = os.listdir(done_dir) if done_dir.exists() else []
        if predicate(names):
            os.killpg(p.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.005)
    p.wait()
    return killed


@pytest.mark.slow
def test_resume_after_kill_9_at_several_points_is_byte_identical(tmp_path, corpus):
    r = recipe_file(tmp_path, shard_size="200KB")
    ref = run(r, inputs=[str(corpus)], output=str(tmp_path / "ref"), workers=2, quiet=True)
    n = ref["shards"]
    points = {  # inside the first stage, just after the reduce between stages, inside the last stage
        "mid-stage-1": lambda names: len([x for x in names if x.startswith("s0-")]) >= n // 2,
        "after-reduce": lambda names: any(x.startswith("reduce-") for x in names),
        "mid-stage-3": lambda names: len([x for x in names if x.startswith("s2-")]) >= n // 2,
    }
    killed_any = 0
    for name, pred in points.items():
        out = tmp_path / name
        cmd = ["run", r, "--input", str(corpus), "--output", str(out), "--workers", "2", "--quiet",
               "--allow-input-problems"]  # the corpus has records that go to quarantine (exit 3 otherwise)
        killed_any += _kill_when(cmd, out / "_work" / "done", pred)
        assert not (out / "manifest.json").exists() or not killed_any
        res = _cli(*cmd)  # resume is the default
        assert res.returncode == 0, res.stderr
        assert tree_bytes(out) == tree_bytes(tmp_path / "ref"), name
        m = json.loads((out / "manifest.json").read_text())
        assert m["counts"] == ref["counts"] and m["reconciled"]
    assert killed_any >= 2  # the kills really happened mid-run


def test_output_folder_protection_and_no_resume(tmp_path, corpus):
    inp = [str(corpus / "zh" / "man.jsonl")]
    r1, r2 = recipe_file(tmp_path), recipe_file(tmp_path, shard_size="1MB")
    run(r1, inputs=inp, output=str(tmp_path / "o"), workers=1, quiet=True)
    with pytest.raises(GristmillError, match="holds a different run"):
        run(r2, inputs=inp, output=str(tmp_path / "o"), workers=1, quiet=True)
    m = run(r2, inputs=inp, output=str(tmp_path / "o"), workers=1, quiet=True, resume=False)
    assert m["reconciled"] and m["tasks_run"] == 3 * m["shards"]  # three stages: two global steps
    again = run(r2, inputs=inp, output=str(tmp_path / "o"), workers=1, quiet=True)
    assert again["tasks_run"] == 0 and again["counts"] == m["counts"]
    plan = tmp_path / "o" / "_work" / "plan.json"  # as another version would have cut the same file
    old = json.loads(plan.read_text())
    old["shards"][-2]["end"], old["shards"][-2]["size"] = None, old["shards"][-2]["size"] + old["shards"][-1]["size"]
    plan.write_text(json.dumps({**old, "shards": old["shards"][:-1]}))
    with pytest.raises(GristmillError, match="the same recipe and files, cut into other shards"):
        run(r2, inputs=inp, output=str(tmp_path / "o"), workers=1, quiet=True)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(GristmillError, match="holds files gristmill did not write"):
        run(r1, inputs=inp, output=str(tmp_path / "mine"), workers=1, quiet=True)


def test_memory_filesystem_input_and_output(tmp_path, zh_docs):
    fs = fsspec.filesystem("memory")
    with fs.open("/src/zh.jsonl", "wb") as f:
        for d in zh_docs[:20]:
            f.write((json.dumps({"id": d["id"], "text": d["text"]}, ensure_ascii=False) + "\n").encode())
    m = run(None, inputs=["memory://src/zh.jsonl"], output="memory://dst", workers=1, quiet=True)
    assert m["counts"]["kept"] + m["counts"]["rejected"] == 20 and m["counts"]["kept"] >= 15
    assert fs.exists("/dst/manifest.json") and fs.exists("/dst/kept/part-00000.jsonl")
    with fs.open("/dst/kept/part-00000.jsonl", "rb") as f:
        assert len(f.read().splitlines()) == m["counts"]["kept"]


def test_missing_input_and_no_input_are_clear_errors(tmp_path):
    with pytest.raises(GristmillError, match="input not found"):
        run(None, inputs=[str(tmp_path / "nope.jsonl")], output=str(tmp_path / "o"), quiet=True)
    with pytest.raises(GristmillError, match="names no input"):
        run(None, output=str(tmp_path / "o"), quiet=True)


def test_a_50_mb_document_is_quarantined_and_the_run_goes_on(tmp_path, zh_docs):
    p = tmp_path / "huge.jsonl"
    with open(p, "w", encoding="utf-8") as f:
        f.write(json.dumps({"id": "before", "text": zh_docs[0]["text"]}, ensure_ascii=False) + "\n")
        f.write(json.dumps({"id": "huge", "text": zh_docs[1]["text"] * (50 * 2**20 // len(zh_docs[1]["text"].encode()))},
                           ensure_ascii=False) + "\n")
        f.write(json.dumps({"id": "after", "text": zh_docs[2]["text"]}, ensure_ascii=False) + "\n")
    m = run(None, inputs=[str(p)], output=str(tmp_path / "o"), workers=1, quiet=True)
    c = m["counts"]
    assert c["input"] == 3 and c["kept"] + c["rejected"] == 2 and c["quarantined"] == 1 and m["reconciled"]
    q = read_jsonl(next((tmp_path / "o" / "quarantine").glob("*.jsonl")))[0]
    assert "over input.max_record_bytes" in q["error"] and q["raw_bytes"] > 50 * 10**6 - 10**6
    assert q["raw_truncated"] and len(q["raw"].encode()) <= 4096   # input.quarantine_bytes, not the record


def test_filter_on_an_input_field_and_a_worker_error_reaches_the_user(tmp_path, en_docs):
    rows = [{"id": d["id"], "text": d["text"], "score": i % 3} for i, d in enumerate(en_docs[:30])]
    write_jsonl(tmp_path / "in.jsonl", rows)
    good = tmp_path / "good.yaml"
    good.write_text("input:\n  shard_size: 20KB\nsteps:\n  - step: filter\n    keep: \"score >= 1\"\n")
    m = run(str(good), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"), workers=2, quiet=True)
    assert m["counts"]["kept"] == 20 and m["steps"][0]["rejected"] == {"keep": 10}
    bad = tmp_path / "bad.yaml"
    bad.write_text("output:\n  format: parquet\nsteps:\n  - step: langid\n  - step: filter\n    keep: \"1 + lang > 0\"\n")
    with pytest.raises(GristmillError, match=r"cannot evaluate .1 \+ lang > 0.: operation .add. does not apply") as e:
        run(str(bad), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o2"), workers=2, quiet=True)
    assert e.value.hint == "check the filter expressions in the recipe"
    many = tmp_path / "bad-many.yaml"  # several tasks: the error of the run process's or a pool's task, no hang
    many.write_text("input:\n  shard_size: 20KB\n" + bad.read_text())
    with pytest.raises(GristmillError, match=r"cannot evaluate .1 \+ lang > 0."):
        run(str(many), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o3"), workers=3, quiet=True)


def test_unknown_files_in_an_input_folder_are_reported(tmp_path, en_docs):
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": d["id"], "text": d["text"]} for d in en_docs[:3]])
    (tmp_path / "in" / "notes.rtf").write_text("{\\rtf1 notes}\n")
    m = run(None, inputs=[str(tmp_path / "in")], output=str(tmp_path / "o"), workers=1, quiet=True)
    assert m["counts"]["input"] == 3
    assert [p["problem"] for p in m["input_problems"]] == ["not read: unknown file type"]
    assert m["input_problems"][0]["path"].endswith("notes.rtf")


def test_the_run_process_and_the_pool_share_every_stage_and_give_the_same_bytes(tmp_path, corpus):
    """workers=3: the run process and a pool of two take tasks from one queue; each task ran once, and the
    output is the bytes of a one-worker run. Each task's marker says where and when it ran (its timeline)."""
    r = recipe_file(tmp_path)
    one = run(r, inputs=[str(corpus)], output=str(tmp_path / "w1"), workers=1, quiet=True)
    three = run(r, inputs=[str(corpus)], output=str(tmp_path / "w3"), workers=3, quiet=True)
    assert tree_bytes(tmp_path / "w3") == tree_bytes(tmp_path / "w1") and three["counts"] == one["counts"]
    markers = [json.loads(p.read_text()) for p in (tmp_path / "w3" / "_work" / "done").glob("s*.json")]
    assert len(markers) == 3 * three["shards"]  # three stages (two global steps), every shard once
    pids = {m["timing"]["pid"] for m in markers}
    assert os.getpid() in pids and 2 <= len(pids) <= 3
    for m in markers:
        t = m["timing"]
        assert t["start"] <= t["end"] and 0 <= t["cpu"] <= t["process_cpu"]
    assert three["executor"] == {"kind": "local", "workers": 3}


def test_a_stage_starts_its_largest_tasks_first():
    from gristmill.exec.local import task_order
    from gristmill.io.paths import Shard

    shards = [Shard(i, f"f{i}", f"f{i}", "jsonl", None, 0, None, size) for i, size in enumerate([5, 9, 9, 1])]
    assert [s.index for s in task_order(shards, 0, {})] == [1, 2, 0, 3]  # bytes of the shard; ties in order
    kept = {(0, 0): {"text_bytes_out": 7}, (0, 1): {"text_bytes_out": 2}, (0, 2): {"text_bytes_out": 8},
            (0, 3): {"text_bytes_out": 0}}
    assert [s.index for s in task_order(shards, 1, kept)] == [2, 0, 1, 3]  # what the previous stage kept
