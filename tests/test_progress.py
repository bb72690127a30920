"""Live progress: a run's line advances per batch (terminal and plain lines), workers report to the parent,
and training prints and logs step, tokens/s, loss and ETA — on real English and Chinese text."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest
from rich.console import Console

from gristmill import run
from gristmill.exec.progress import Reporter
from gristmill.recipe import parse_recipe
from tests.conftest import read_jsonl, shared, write_jsonl

DOCS = re.compile(r"([\d,]+) docs  ([\d,.]+) MB")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("progress")
    en = [{"id": f"en-{i}", "text": r["text"]}
          for i, r in enumerate(read_jsonl(shared("text_en/c4_sample_shared.jsonl")))]
    zh = [{"id": f"zh-{i}", "text": r["text"]}
          for i, r in enumerate(read_jsonl(shared("text_zh/chinese_poetry_shared.jsonl")))]
    return [str(write_jsonl(d / "en.jsonl", en)), str(write_jsonl(d / "zh.jsonl", zh))], len(en) + len(zh)


def _recipe(*steps: str):
    return parse_recipe({"input": {"batch_rows": 100}, "steps": [{"step": s} for s in steps]}, "<test>")


def _values(text: str) -> list[tuple[int, float]]:
    return [(int(d.replace(",", "")), float(mb.replace(",", ""))) for d, mb in DOCS.findall(text)]


def test_the_live_line_advances_per_batch_in_a_terminal(inputs, tmp_path):
    paths, n = inputs
    buf = io.StringIO()
    rep = Reporter(console=Console(file=buf, force_terminal=True, width=200), refresh=0.0)
    m = run(_recipe("normalize"), inputs=paths, output=str(tmp_path / "o"), workers=1, reporter=rep)
    assert rep.live and m["counts"]["input"] == n
    out = buf.getvalue()
    assert "\x1b[" in out and "stage 1/1 normalize" in out  # a terminal display, named by its stage
    docs = [d for d, _ in _values(out)]
    # 1,131 documents in batches of 100 over two files: the line moves batch by batch, never backwards
    assert len(set(docs)) >= 8 and docs == sorted(docs) and docs[-1] == n
    assert "100%" in out and "docs/s" in out and "MB/s" in out and "eta" in out


def test_plain_lines_when_not_a_terminal_per_stage(inputs, tmp_path):
    paths, n = inputs
    stream = io.StringIO()
    rep = Reporter(console=Console(file=io.StringIO(), force_terminal=False), stream=stream, interval=0.0)
    m = run(_recipe("normalize", "exact_dedup"), inputs=paths, output=str(tmp_path / "o"), workers=1,
            reporter=rep)
    lines = stream.getvalue().splitlines()
    assert not rep.live and all(x.startswith("[gristmill] stage ") for x in lines)
    stages = {}
    for x in lines:
        stages.setdefault(x.split(":")[0], []).append(_values(x)[0])
    assert len(stages) == 2 and any("exact_dedup" in s for s in stages)  # one series per stage, named
    for series in stages.values():
        assert len(series) >= 3 and series == sorted(series)  # docs and MB increase within the stage
        assert series[-1][0] > series[1][0] > 0 and series[-1][1] > series[1][1]
    first, second = stages.values()
    assert first[-1][0] == n and second[-1][0] == m["steps"][0]["kept"]


def test_compressed_input_never_claims_more_than_it_knows(tmp_path):
    # bytes read are decompressed bytes, the shard's size is the .gz file's: past it, no percentage, no ETA
    stream = io.StringIO()
    rep = Reporter(console=Console(file=io.StringIO(), force_terminal=False), stream=stream, interval=0.0)
    path = shared("text_zh/debian_reference_zh_cn_shared.jsonl.gz")
    m = run(_recipe("normalize"), inputs=[str(path)], output=str(tmp_path / "o"), workers=1, reporter=rep)
    lines = stream.getvalue().splitlines()
    pcts = [int(p) for p in re.findall(r"  (\d+)%  ", stream.getvalue())]
    assert len(lines) >= 3 and all(p <= 100 for p in pcts)
    assert _values(lines[-1])[0][0] == m["counts"]["input"] and "eta -:--:--" in lines[-1]


class _Recorder(Reporter):
    def __init__(self) -> None:
        super().__init__(quiet=True)
        self.batches: list[tuple[int, int, int]] = []
        self.finished: dict[int, dict] = {}

    def batch(self, shard: int, docs: int, nbytes: int) -> None:
        self.batches.append((shard, docs, nbytes))
        super().batch(shard, docs, nbytes)

    def task_done(self, counts: dict) -> None:
        self.finished[counts["shard"]] = counts
        super().task_done(counts)


def test_worker_processes_report_their_batches_to_the_parent(inputs, tmp_path):
    paths, n = inputs
    rep = _Recorder()
    m = run(_recipe("normalize"), inputs=paths, output=str(tmp_path / "o"), workers=2, reporter=rep)
    assert m["counts"]["input"] == n and set(rep.finished) == {0, 1}
    for shard, counts in rep.finished.items():
        # what the worker wrote into the shared counters reached the parent before the task's result
        assert (shard, counts["in"], counts["read"]["bytes"]) in rep.batches
    assert rep.snapshot()["docs"] == n


def test_progress_does_not_change_the_output(inputs, tmp_path):
    paths, _ = inputs
    run(_recipe("normalize"), inputs=paths, output=str(tmp_path / "quiet"), workers=1, quiet=True)
    run(_recipe("normalize"), inputs=paths, output=str(tmp_path / "live"), workers=1,
        reporter=Reporter(console=Console(file=io.StringIO(), force_terminal=True), refresh=0.0))
    for name in ("kept/part-00000.jsonl", "kept/part-00001.jsonl"):
        assert (tmp_path / "quiet" / name).read_bytes() == (tmp_path / "live" / name).read_bytes()


# -- training ----------------------------------------------------------------------------------------------

torch = pytest.importorskip("torch", reason="the train extra (torch==2.13.0) is part of the test extra")


@pytest.fixture(scope="module")
def shards(inputs, tmp_path_factory):
    from gristmill.tokenize.pack import pack
    from gristmill.tokenize.tokenizer import train_tokenizer

    paths, _ = inputs
    d = tmp_path_factory.mktemp("lm")
    texts = [r["text"] for p in paths for r in read_jsonl(p)]
    train_tokenizer(texts, vocab_size=600).save(str(d / "tok.json"))
    pack(paths, str(d / "tok.json"), str(d / "shards"))
    return d / "shards"


def test_train_prints_and_logs_step_tokens_per_second_loss_and_eta(shards, tmp_path, capsys):
    from gristmill.train.trainer import train

    small = {"model": {"n_layer": 1, "n_head": 2, "d_model": 64, "seq_len": 64}, "batch_size": 8}
    r = train(str(shards), tokens=8 * 64 * 80, out=str(tmp_path / "m"), overrides=small, progress_every=0.0)
    log = [json.loads(x) for x in (tmp_path / "m" / "train_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log] == [1, 11, 21, 31, 41, 51, 61, 71, 80]
    assert log[-1]["tokens"] == r["tokens_trained"] and log[-1]["eta_s"] == 0
    assert log[-1]["loss"] < log[0]["loss"] - 1.0 and min(e["tokens_per_s"] for e in log) > 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == len(log) and all(re.search(r"step [\d,]+/80  [\d,]+ tokens/s  loss [\d.]+  eta ", x)
                                        for x in err)


@pytest.mark.slow
def test_train_command_shows_progress_when_not_a_terminal(shards, tmp_path):
    ev = write_jsonl(tmp_path / "ev.jsonl", [{"text": "The quick brown fox jumps over the lazy dog."},
                                             {"text": "床前明月光，疑是地上霜。"}])
    r = subprocess.run([sys.executable, "-m", "gristmill", "train", str(shards), "-o", str(tmp_path / "m"),
                        "--tokens", str(16 * 128 * 4), "--progress-every", "0", "--eval", f"tiny={ev}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "[gristmill] train: step 4/4" in r.stderr and "tokens/s" in r.stderr and "eval tiny:" in r.stdout
    assert len((tmp_path / "m" / "train_log.jsonl").read_text().splitlines()) == 2  # steps 1 and 4
