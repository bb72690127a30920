"""The Ray executor on a local Ray with 2 CPUs: the same bytes as the local executor on real English and Chinese
text with exact and MinHash dedup, a worker killed mid-task, and a driver killed and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from gristmill import run
from tests.conftest import read_jsonl, shared, tree_bytes, write_jsonl

ray = pytest.importorskip("ray", reason="the ray extra is part of the test extra")
pytestmark = pytest.mark.ray

RECIPE = """input: {shard_size: 400KB}
steps:
  - step: normalize
  - step: langid
  - step: exact_dedup
  - step: minhash_dedup
  - step: quality
  - step: filter
    preset: [bilingual]
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("raycorpus")
    en = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))
    zh = read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))[:200]
    near = read_jsonl(shared("neardup/dolma_fixture_paragraph_dups_en.jsonl"))
    rows = [{"id": r["id"], "text": r["text"]} for r in en + zh + near]
    rows += [{"id": f"copy-{i}", "text": rows[i * 7]["text"]} for i in range(15)]
    rows += [{"id": f"edit-{i}", "text": rows[i * 5]["text"] + " (edited copy)"} for i in range(15)]
    write_jsonl(d / "a.jsonl", rows[::2])
    write_jsonl(d / "b.jsonl", rows[1::2])
    (d / "r.yaml").write_text(RECIPE)
    local = run(str(d / "r.yaml"), inputs=[str(d / "a.jsonl"), str(d / "b.jsonl")], output=str(d / "local"),
                workers=2, quiet=True)
    assert local["shards"] >= 4 and local["global_steps"]["minhash_dedup"]["duplicates"] >= 10
    return d, local


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _descends_from_us(pid: int) -> bool:
    me = os.getpid()
    for _ in range(64):
        pid = _parent(pid)
        if pid in (0, 1):
            return False
        if pid == me:
            return True
    return False


def _worker_pids() -> list[int]:
    """Ray worker processes of this test's Ray running a gristmill task (Ray titles them ray::FUNCTION)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if cmd.startswith((b"ray::_run_task_shipped", b"ray::run_task")) and _descends_from_us(int(pid)):
            out.append(int(pid))
    return out


def test_ray_gives_the_same_bytes_as_local(corpus):
    d, local = corpus
    m = run(str(d / "r.yaml"), inputs=[str(d / "a.jsonl"), str(d / "b.jsonl")], output=str(d / "ray"), workers=2,
            quiet=True, executor="ray")
    assert m["executor"]["kind"] == "ray" and m["executor"]["cpus"] == 2
    assert tree_bytes(d / "ray") == tree_bytes(d / "local")
    assert m["counts"] == local["counts"] and m["reconciled"]
    for label in ("exact_dedup", "minhash_dedup"):
        assert m["global_steps"][label]["duplicates"] == local["global_steps"][label]["duplicates"]
        assert m["global_steps"][label]["cluster_sizes"] == local["global_steps"][label]["cluster_sizes"]


def test_a_killed_worker_is_retried_without_loss_or_duplication(corpus):
    d, local = corpus
    killed = []

    def killer():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            for pid in _worker_pids():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.02)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    m = run(str(d / "r.yaml"), inputs=[str(d / "a.jsonl"), str(d / "b.jsonl")], output=str(d / "ray-kill"),
            workers=2, quiet=True, executor="ray")
    t.join()
    assert killed, "no worker was running a task to kill"
    assert tree_bytes(d / "ray-kill") == tree_bytes(d / "local") and m["counts"] == local["counts"]


def test_a_killed_driver_resumes_from_completed_shards(corpus):
    d, local = corpus
    out = d / "ray-driver"
    args = [sys.executable, "-m", "gristmill", "run", str(d / "r.yaml"), "-i", str(d / "a.jsonl"), "-i",
            str(d / "b.jsonl"), "-o", str(out), "-w", "2", "--executor", "ray", "--quiet"]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    done = out / "_work" / "done"
    deadline = time.time() + 180
    while time.time() < deadline and p.poll() is None:
        if done.exists() and len(list(done.glob("s1-*.json"))) >= 2:
            break
        time.sleep(0.05)
    assert p.poll() is None, "the run finished before the driver could be killed"
    os.killpg(p.pid, signal.SIGKILL)  # the driver and the local Ray it started
    p.wait()
    before = len(list(done.glob("*.json")))
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert tree_bytes(out) == tree_bytes(d / "local") and m["counts"] == local["counts"]
    assert 0 < m["tasks_run"] < len(list(done.glob("s*.json"))) and before >= 2


def test_files_steps_read_are_broadcast_to_workers(corpus, tmp_path):
    from gristmill.decontam.index import build_index
    from gristmill.exec.ray import SCHEME, _materialise, broadcast
    from gristmill.recipe import load_recipe

    d, _ = corpus
    build_index([("gsm8k", str(shared("decontam/gsm8k_test.jsonl")), ["question"])], str(tmp_path / "idx"), n=13)
    q = read_jsonl(shared("decontam/gsm8k_test.jsonl"))[3]["question"]
    rows = read_jsonl(d / "a.jsonl")[:40]
    rows[4] = dict(rows[4], text=rows[4]["text"] + "\n" + q)
    write_jsonl(tmp_path / "in.jsonl", rows)
    (tmp_path / "r.yaml").write_text(f"steps:\n  - step: decontaminate\n    index: {tmp_path / 'idx'}\n")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        recipe = load_recipe(str(tmp_path / "r.yaml"))
        shipped, refs = broadcast(ray, recipe)
        assert shipped.steps[0].params.index.startswith(SCHEME) and len(refs) == 1
        local = _materialise(ray, shipped, refs).steps[0].params.index
        assert set(os.listdir(local)) == set(os.listdir(tmp_path / "idx")) | {".complete"}
        from pathlib import Path

        for f in os.listdir(tmp_path / "idx"):
            assert (tmp_path / "idx" / f).read_bytes() == (Path(local) / f).read_bytes()
        m = run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "ray"),
                workers=2, quiet=True, executor="ray")
    finally:
        ray.shutdown()
    loc = run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "loc"),
              workers=1, quiet=True)
    assert tree_bytes(tmp_path / "ray") == tree_bytes(tmp_path / "loc") and m["counts"]["rejected"] == 1
    assert loc["recipe"]["steps"][0]["index"] == m["recipe"]["steps"][0]["index"] == str(tmp_path / "idx")
