"""Shared fixtures: real data from ../shared/data and small helpers to write inputs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def shared(rel: str) -> Path:
    p = SHARED / rel
    if not p.exists():
        pytest.fail(f"shared test data missing: {p} (the tests expect ../shared/data beside the repository)")
    return p


def read_jsonl(path: Path | str) -> list[dict]:
    path = Path(path)
    op = gzip.open if path.suffix == ".gz" else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_texts(pattern: str, limit: int = 400) -> list[dict]:
    """At most ``limit`` records with a string ``text`` from each shared file matching ``pattern``."""
    import orjson

    out = []
    for p in sorted(SHARED.glob(pattern)):
        with gzip.open(p, "rb") if p.suffix == ".gz" else open(p, "rb") as f:
            n = 0
            for line in f:
                r = orjson.loads(line)
                if isinstance(r.get("text"), str):
                    out.append(r)
                    n += 1
                if n >= limit:
                    break
    return out


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def output_rows(out: Path, part: str = "kept") -> list[dict]:
    rows = []
    for p in sorted((out / part).glob("*.jsonl*")):
        rows += read_jsonl(p)
    return rows


def tree_bytes(out: Path, parts=("kept", "rejected", "quarantine")) -> dict[str, bytes]:
    """Every output data file's bytes, keyed by relative path (for byte-identity checks)."""
    res = {}
    for part in parts:
        for p in sorted((out / part).rglob("*")):
            if p.is_file():
                res[str(p.relative_to(out))] = p.read_bytes()
    return res


@pytest.fixture(scope="session")
def en_docs() -> list[dict]:
    return read_jsonl(shared("text_en/c4_sample_shared.jsonl"))


@pytest.fixture(scope="session")
def zh_docs() -> list[dict]:
    return read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> str:
    """A tiny proxy GPT (``gristmill train`` folder) trained on rendered Alpaca conversations (session-wide:
    selection, synthesis and serving tests share it)."""
    pytest.importorskip("torch")
    from gristmill.sft.chat import render
    from gristmill.sft.formats import parse
    from gristmill.tokenize.pack import pack
    from gristmill.tokenize.tokenizer import train_tokenizer
    from gristmill.train.trainer import train

    d = tmp_path_factory.mktemp("model")
    recs = read_jsonl(shared("instruct/alpaca_en_demo.jsonl"))[:400]
    rows = [{"id": r["id"], "text": render(parse(r)).text} for r in recs]
    write_jsonl(d / "t.jsonl", rows)
    train_tokenizer([r["text"] for r in rows], vocab_size=1500).save(str(d / "tok.json"))
    pack([str(d / "t.jsonl")], str(d / "tok.json"), str(d / "shards"))
    train(str(d / "shards"), preset="cpu-tiny", tokens=60_000, out=str(d / "model"))
    return str(d / "model")


def kill_after_batches(cmd: list[str], state: Path, batches: int = 2, timeout: float = 300, poll: float = 0.05) -> None:
    """Start ``cmd``, and once its journal ``state`` (state.json of synth/annotate) counts ``batches`` finished
    batches, kill it with SIGKILL; fails when it finished before it could be killed."""
    import signal
    import subprocess
    import time

    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None:
        if state.exists() and json.loads(state.read_text())["batches"] >= batches:
            break
        time.sleep(poll)
    assert p.poll() is None, "finished before it could be killed"
    p.send_signal(signal.SIGKILL)
    p.wait()
