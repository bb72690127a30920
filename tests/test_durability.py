"""Durable output (issue #19, item 4): a crash between any two steps of a task's or a run's commit sequence
leaves an output that is either complete (``_SUCCESS`` and everything reconciles) or clearly incomplete
(no ``_SUCCESS``), and ``--resume`` then ends with the bytes of a run that never stopped. Every file is
fsynced before the marker that claims it, and the folders after their renames."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gristmill import run
from gristmill.exec import durable
from gristmill.exec.lock import LOCK_NAME
from gristmill.recipe import default_recipe_path
from tests.conftest import read_jsonl, shared, tree_bytes, write_jsonl

LOCAL_POINTS = [p for p in durable.POINTS if not p.startswith("publish")]
FAST = {"kept-rename", "success"}  # the others run in CI's slow suite


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """English web pages and Chinese man pages (different fields, so the schema is unified at the end),
    exact copies (a global step, two stages), a broken line (quarantine); the default recipe, small shards;
    and the output of a run that never stopped."""
    d = tmp_path_factory.mktemp("durable")
    en = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:120]
    zh = read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))[:80]
    write_jsonl(d / "in" / "en.jsonl", en + en[:10])
    write_jsonl(d / "in" / "zh.jsonl", [{"id": r["id"], "text": r["text"], "source": r["source"]} for r in zh])
    with open(d / "in" / "zh.jsonl", "a", encoding="utf-8") as f:
        f.write('{"text": "断开的一行\n')
    recipe = d / "r.yaml"
    recipe.write_text(Path(default_recipe_path()).read_text().replace("input:\n", "input:\n  shard_size: 64KB\n", 1))
    ref = d / "ref"
    m = run(str(recipe), inputs=[str(d / "in")], output=str(ref), workers=1, quiet=True)
    assert m["shards"] >= 3 and m["counts"]["quarantined"] == 1 and m["counts"]["rejected"] > 0
    return {"recipe": str(recipe), "input": str(d / "in"), "ref": ref, "manifest": m}


def _cli(args: list[str], fault: str | None = None, **env):
    e = {**os.environ, **env}
    e.pop(durable.ENV_FAULT, None)
    if fault:
        e[durable.ENV_FAULT] = fault
    return subprocess.run([sys.executable, "-m", "gristmill", *args], capture_output=True, text=True, env=e,
                          timeout=300)


def _assert_complete_or_clearly_incomplete(out: Path, case) -> None:
    assert not any(p.name.endswith(".tmp") for part in ("kept", "rejected", "quarantine")
                   for p in (out / part).glob("*"))  # a half-written file is never visible under its name
    for part in ("kept", "rejected", "quarantine"):
        for p in (out / part).glob("*.jsonl"):
            read_jsonl(p)  # every visible file is whole: each line parses
    if (out / "_SUCCESS").exists():
        m = json.loads((out / "manifest.json").read_text())
        assert m["reconciled"] and m["counts"] == case["manifest"]["counts"]
        assert tree_bytes(out) == tree_bytes(case["ref"])


@pytest.mark.parametrize("point", [p if p in FAST else pytest.param(p, marks=pytest.mark.slow)
                                   for p in LOCAL_POINTS])
def test_a_crash_at_each_commit_step_is_complete_or_clearly_incomplete_and_resumes(tmp_path, case, point):
    out = tmp_path / "out"
    args = ["run", case["recipe"], "--input", case["input"], "--output", str(out), "--workers", "1", "--quiet",
            "--allow-input-problems"]
    crashed = _cli(args, fault=f"after:{point}")
    assert crashed.returncode == 137, crashed.stderr  # the point was reached and the process died there
    _assert_complete_or_clearly_incomplete(out, case)
    if point in ("kept-rename", "marker"):  # mid-run: clearly incomplete
        assert not (out / "_SUCCESS").exists() and not (out / "manifest.json").exists()
    if point in ("success", "cleanup"):
        assert (out / "_SUCCESS").exists()
    resumed = _cli(args)
    assert resumed.returncode == 0, resumed.stderr
    assert tree_bytes(out) == tree_bytes(case["ref"])
    m = json.loads((out / "manifest.json").read_text())
    assert m["counts"] == case["manifest"]["counts"] and m["reconciled"] and (out / "_SUCCESS").exists()
    assert not (out / LOCK_NAME).exists()


@pytest.mark.slow
def test_remote_output_publishes_data_then_manifest_then_marker(tmp_path, case):
    """A non-local fsspec output (``dir://`` over a folder: it outlives the process, like a bucket) is
    staged, then published; a crash at each publish step leaves no marker before the whole data, and an
    earlier run's marker is removed before any file of a new run goes up."""
    remote = tmp_path / "bucket"
    remote.mkdir()
    recipe = tmp_path / "remote.yaml"
    opts = f"{{path: '{remote}', target_protocol: file, target_options: {{auto_mkdir: true}}}}"
    recipe.write_text(Path(case["recipe"]).read_text().replace("output:\n", f"output:\n  storage_options: {opts}\n", 1))
    args = ["run", str(recipe), "--input", case["input"], "--output", "dir://out", "--workers", "1", "--quiet",
            "--allow-input-problems"]
    env = {"GRISTMILL_STAGING": str(tmp_path / "staging")}
    for point in ("publish-data", "publish-manifest", "publish-success"):
        crashed = _cli(args, fault=f"after:{point}", **env)
        assert crashed.returncode == 137, crashed.stderr
        _assert_complete_or_clearly_incomplete(remote / "out", case)
        assert (remote / "out" / "_SUCCESS").exists() == (point == "publish-success")
        assert (remote / "out" / "manifest.json").exists() == (point != "publish-data")
        resumed = _cli(args, **env)
        assert resumed.returncode == 0, resumed.stderr
        assert tree_bytes(remote / "out") == tree_bytes(case["ref"]) and (remote / "out" / "_SUCCESS").exists()
        assert not os.listdir(tmp_path / "staging")  # published, then the staging folder removed
    again = _cli([*args, "--no-resume"], fault="after:publish-data", **env)  # over a published output
    assert again.returncode == 137 and not (remote / "out" / "_SUCCESS").exists()


def test_every_file_is_fsynced_before_the_marker_that_claims_it(tmp_path, case, monkeypatch):
    """Watch every rename and fsync of a run: when a completion marker (a task's, a reduce's,
    ``manifest.json``, ``_SUCCESS``) takes its name, every file renamed before it has its data and its
    folder entry on disk; at the end nothing is left unsynced."""
    real_replace, real_fsync = os.replace, os.fsync
    synced: set[str] = set()  # paths fsynced since they were last renamed
    pending_files: set[str] = set()
    pending_dirs: set[str] = set()
    markers_checked = []

    def fsync(fd):
        real_fsync(fd)
        p = os.readlink(f"/proc/self/fd/{fd}")
        synced.add(p)
        (pending_dirs if os.path.isdir(p) else pending_files).discard(p)

    def replace(src, dst):
        src, dst = os.path.abspath(src), os.path.abspath(dst)
        if os.path.basename(dst) in ("_SUCCESS", "manifest.json") or os.sep + "done" + os.sep in dst:
            assert not (pending_files | pending_dirs), f"{dst} renamed before {pending_files | pending_dirs}"
            markers_checked.append(dst)
        real_replace(src, dst)
        if src in synced:
            synced.discard(src)
        else:
            pending_files.add(dst)
        pending_dirs.add(os.path.dirname(dst))

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", fsync)
    run(case["recipe"], inputs=[case["input"]], output=str(tmp_path / "o"), workers=1, quiet=True)
    assert not pending_files and not pending_dirs
    names = [os.path.basename(p) for p in markers_checked]
    assert names[-1] == "_SUCCESS" and "manifest.json" in names and any(n.startswith("reduce-") for n in names)
    assert tree_bytes(tmp_path / "o") == tree_bytes(case["ref"])


def test_fsync_can_be_turned_off_for_scratch_runs(tmp_path, case, monkeypatch):
    """``output.fsync: false`` makes no fsync and the same bytes; it is not part of the plan, so a run
    started without it resumes with it."""
    calls = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    scratch = tmp_path / "scratch.yaml"
    scratch.write_text(Path(case["recipe"]).read_text().replace("output:\n", "output:\n  fsync: false\n", 1))
    m = run(str(scratch), inputs=[case["input"]], output=str(tmp_path / "o"), workers=1, quiet=True)
    assert calls == [] and tree_bytes(tmp_path / "o") == tree_bytes(case["ref"])
    again = run(case["recipe"], inputs=[case["input"]], output=str(tmp_path / "o"), workers=1, quiet=True)
    assert again["tasks_run"] == 0 and again["counts"] == m["counts"] and calls  # resumed, now with fsync
