"""A recipe from s3:// to s3:// on a local S3-compatible server (moto, on loopback): the same bytes as a
local run, endpoint and credentials from the recipe's storage options and the environment, never written to
the manifest, and a killed run that resumes from its staged state (issue #17)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from gristmill import run
from tests.conftest import read_jsonl, shared, write_jsonl

s3fs = pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

RECIPE = """
name: s3-roundtrip
input:
  shard_size: 40KB
  storage_options:
    endpoint_url: "${GM_S3_ENDPOINT}"
    key: "${AWS_ACCESS_KEY_ID}"
    secret: "${AWS_SECRET_ACCESS_KEY}"
output:
  storage_options:
    endpoint_url: "${GM_S3_ENDPOINT}"
    key: "${AWS_ACCESS_KEY_ID}"
    secret: "${AWS_SECRET_ACCESS_KEY}"
steps:
  - step: normalize
  - step: langid
  - step: quality
  - step: filter
    preset: [bilingual]
"""


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {"GM_S3_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": "gm-test-key-id",
           "AWS_SECRET_ACCESS_KEY": "gm-test-secret", "AWS_DEFAULT_REGION": "us-east-1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint}, skip_instance_cache=True)
    fs.mkdir("gm-in")
    fs.mkdir("gm-out")
    local = tmp_path_factory.mktemp("s3in")
    write_jsonl(local / "en.jsonl", read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:120])
    write_jsonl(local / "zh.jsonl", read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl")))
    for f in ("en.jsonl", "zh.jsonl"):
        fs.put_file(str(local / f), f"gm-in/data/{f}")
    yield fs, endpoint, local
    server.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _card(data: bytes) -> bytes:  # the card names the recipe hash, which covers the input paths
    return b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"Written by gristmill"))


def _remote_files(fs, prefix: str) -> dict[str, bytes]:
    out = {}
    for p in fs.find(prefix):
        rel = p[len(prefix):].lstrip("/")
        if rel.split("/")[0] in ("kept", "rejected", "quarantine"):
            out[rel] = fs.cat_file(p)
        elif rel == "README.md":
            out[rel] = _card(fs.cat_file(p))
    return out


def _local_files(root: Path) -> dict[str, bytes]:
    out = {}
    for p in root.rglob("*"):
        rel = str(p.relative_to(root))
        if p.is_file() and p.relative_to(root).parts[0] in ("kept", "rejected", "quarantine"):
            out[rel] = p.read_bytes()
        elif rel == "README.md":
            out[rel] = _card(p.read_bytes())
    return out


def test_s3_to_s3_gives_the_bytes_of_a_local_run(tmp_path, s3, monkeypatch):
    fs, endpoint, local = s3
    monkeypatch.setenv("GRISTMILL_STAGING", str(tmp_path / "staging"))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE)
    m = run(str(recipe), inputs=["s3://gm-in/data/"], output="s3://gm-out/run1", workers=2, quiet=True)
    assert m["reconciled"] and m["counts"]["kept"] > 0 and m["shards"] > 4
    ref = run(str(recipe), inputs=[str(local)], output=str(tmp_path / "ref"), workers=1, quiet=True)
    assert ref["counts"] == m["counts"]
    remote = _remote_files(fs, "gm-out/run1")
    assert remote and remote == _local_files(tmp_path / "ref")
    # the marker is there, the manifest holds the references, never the secrets they stand for
    manifest = fs.cat_file("gm-out/run1/manifest.json")
    assert fs.exists("gm-out/run1/_SUCCESS")
    assert b"${AWS_ACCESS_KEY_ID}" in manifest and b"gm-test-key-id" not in manifest
    assert b"gm-test-secret" not in manifest and endpoint.encode() not in manifest
    assert not (tmp_path / "staging").exists() or not any((tmp_path / "staging").iterdir())


def test_a_recipe_with_a_written_secret_is_refused(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("output:\n  storage_options:\n    secret: abc123\nsteps: []\n")
    from gristmill.errors import RecipeError

    with pytest.raises(RecipeError, match="storage_options"):
        run(str(recipe), inputs=[str(tmp_path)], output=str(tmp_path / "o"), quiet=True)


@pytest.mark.slow
def test_a_killed_remote_run_resumes_from_its_staged_state(tmp_path, s3):
    fs, endpoint, local = s3
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE)
    staging = tmp_path / "staging"
    env = {**os.environ, "GRISTMILL_STAGING": str(staging)}
    cmd = [sys.executable, "-m", "gristmill", "run", str(recipe), "-i", "s3://gm-in/data/",
           "-o", "s3://gm-out/run2", "--workers", "1"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        done = list(staging.glob("*/_work/done/s0-*.json"))
        if len(done) >= 2:
            break
        time.sleep(0.02)
    assert p.poll() is None, "the run ended before it could be killed"
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert not fs.exists("gm-out/run2/_SUCCESS") and not fs.exists("gm-out/run2/manifest.json")
    r = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    manifest = orjson.loads(fs.cat_file("gm-out/run2/manifest.json"))
    # one stage (no global step): the resumed run ran only the tasks the killed one had not finished
    assert manifest["reconciled"] and 0 < manifest["tasks_run"] <= manifest["shards"] - 2
    run(str(recipe), inputs=[str(local)], output=str(tmp_path / "ref"), workers=1, quiet=True)
    assert _remote_files(fs, "gm-out/run2") == _local_files(tmp_path / "ref")
