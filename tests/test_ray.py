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


def _worker_pids() -> list[int]:
    """Ray worker processes running a gristmill task (Ray titles them ray::run_task)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if cmd.startswith(b"ray::run_task"):
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
