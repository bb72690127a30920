"""One run per output folder, and no worker outlives its run (issue #19, item 5)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from gristmill import GristmillError, run
from gristmill.exec.lock import LOCK_NAME, FolderLock
from gristmill.recipe import default_recipe_path
from tests.conftest import read_jsonl, shared, tree_bytes, write_jsonl


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """Real English and Chinese documents, the default recipe in small shards (many tasks)."""
    d = tmp_path_factory.mktemp("lock")
    en = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))
    zh = read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))[:150]
    write_jsonl(d / "in" / "en.jsonl", en)
    write_jsonl(d / "in" / "zh.jsonl", [{"id": r["id"], "text": r["text"]} for r in zh])
    recipe = d / "r.yaml"
    recipe.write_text(Path(default_recipe_path()).read_text().replace("input:\n", "input:\n  shard_size: 48KB\n", 1))
    return {"recipe": str(recipe), "input": str(d / "in")}


def _args(case, out) -> list[str]:
    return ["run", case["recipe"], "--input", case["input"], "--output", str(out), "--quiet",
            "--allow-input-problems"]


def _wait(cond, timeout=60.0, proc=None) -> bool:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.01)
    return False


@pytest.mark.slow
def test_two_runs_into_one_folder_the_second_exits_at_once_the_first_completes(tmp_path, case):
    out = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-m", "gristmill", *_args(case, out), "--workers", "2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert _wait(lambda: (out / "_work" / "done").is_dir() and os.listdir(out / "_work" / "done"), proc=first)
        os.killpg(first.pid, signal.SIGSTOP)  # hold the first run mid-way while the second one tries
        t0 = time.time()
        second = subprocess.run([sys.executable, "-m", "gristmill", *_args(case, out), "--workers", "2"],
                                capture_output=True, text=True, timeout=120)
        took = time.time() - t0
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    assert second.returncode == 2 and "Traceback" not in second.stderr
    line = second.stderr.splitlines()[0]
    assert f"output folder {out} is in use by another gristmill run (PID {first.pid} on {socket.gethostname()}" \
        in line, second.stderr
    assert took < 60  # at once: it did not wait for the first run
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    ref = run(case["recipe"], inputs=[case["input"]], output=str(tmp_path / "ref"), workers=1, quiet=True)
    m = json.loads((out / "manifest.json").read_text())
    assert m["counts"] == ref["counts"] and m["reconciled"] and (out / "_SUCCESS").exists()
    assert tree_bytes(out) == tree_bytes(tmp_path / "ref")
    assert not list(out.rglob("*.tmp")) and not (out / LOCK_NAME).exists()


def test_a_run_into_a_folder_locked_in_this_process_is_refused(tmp_path, case):
    out = tmp_path / "out"
    with FolderLock(str(out)), pytest.raises(GristmillError, match=rf"in use by another gristmill run \(PID "
                                                                   rf"{os.getpid()} on "):
        run(case["recipe"], inputs=[case["input"]], output=str(out), workers=1, quiet=True)
    m = run(case["recipe"], inputs=[case["input"]], output=str(out), workers=1, quiet=True)  # released: runs
    assert m["reconciled"] and not (out / LOCK_NAME).exists()


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_a_stale_lock_on_this_host_is_taken_over_with_a_warning(tmp_path, case, capsys):
    out = tmp_path / "out"
    out.mkdir()
    pid = _dead_pid()
    (out / LOCK_NAME).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": "2026-01-01"}))
    m = run(case["recipe"], inputs=[case["input"]], output=str(out), workers=1, quiet=True)
    assert m["reconciled"] and (out / "_SUCCESS").exists() and not (out / LOCK_NAME).exists()
    err = capsys.readouterr().err
    assert f"warning: taking over the lock of an earlier run that is no longer running (PID {pid} on " in err


def test_a_lock_left_by_another_host_is_refused_with_how_to_clear_it(tmp_path, case):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).write_text(json.dumps({"pid": 4242, "host": "builder-7", "started": "2026-01-01"}))
    res = subprocess.run([sys.executable, "-m", "gristmill", *_args(case, out), "--workers", "1"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "lock of a gristmill run on another host (PID 4242 on builder-7" in res.stderr
    assert f"delete {out / LOCK_NAME}" in res.stderr
    assert sorted(os.listdir(out)) == [LOCK_NAME]  # nothing else touched


def test_a_failed_run_releases_the_lock_and_touches_no_user_file(tmp_path, case):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("x")
    with pytest.raises(GristmillError, match="holds files gristmill did not write"):
        run(case["recipe"], inputs=[case["input"]], output=str(mine), workers=1, quiet=True)
    assert sorted(os.listdir(mine)) == ["thesis.tex"]


def _tagged(tag: str) -> list[int]:
    """PIDs of live processes whose environment holds ``tag``."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    env = f.read()
                with open(f"/proc/{d}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except OSError:
                continue
            if tag.encode() in env and state != b"Z":
                pids.append(int(d))
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_only_the_parent_takes_the_forkserver_and_the_workers_down(tmp_path, case):
    tag = f"GRISTMILL_TEST_TAG={uuid.uuid4().hex}"
    k, v = tag.split("=")
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "gristmill", *_args(case, out), "--workers", "2"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, k: v},
                         start_new_session=True)
    try:
        # the run, its forkserver and two workers are up, and tasks are being done
        assert _wait(lambda: len(_tagged(tag)) >= 4 and (out / "_work" / "done").is_dir(), proc=p)
        others = [x for x in _tagged(tag) if x != p.pid]
        assert len(others) >= 3
        os.kill(p.pid, signal.SIGKILL)  # only the parent
        p.wait()
        assert _wait(lambda: not _tagged(tag), timeout=10.0), f"still running: {_tagged(tag)}"
        done = sorted(os.listdir(out / "_work" / "done"))
        time.sleep(1.0)
        assert sorted(os.listdir(out / "_work" / "done")) == done  # nobody finishes tasks any more
    finally:
        for x in _tagged(tag):
            os.kill(x, signal.SIGKILL)
