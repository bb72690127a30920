"""What a task holds: the report's merge reads one part at a time, the previous stage is read (not mapped), the
id look-up of kept copies, the C heap's setting (issue #20, peak RSS per process)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from gristmill.exec import task
from gristmill.exec.task import Layout, _IdLookup
from gristmill.report.profile import EXAMPLES, Profile


def _part(rng: random.Random, n_shards: int) -> dict:
    p = Profile(n_shards)
    rows = 300
    ids = [f"d{rng.randrange(400)}" for _ in range(rows)]  # repeated ids: equal hashes across parts
    t = pa.table({"id": ids, "text": [f"text {i} " * rng.randint(1, 30) for i in range(rows)],
                  "lang": rng.choices(["en", "zh", "und"], k=rows), "gq_words": [rng.random() for _ in range(rows)]})
    p.add(t.slice(0, 200), "kept", source="a.jsonl")
    rej = t.slice(200)
    p.add(rej, "rejected", step="f", reasons=rng.choices(["short", "long"], k=rej.num_rows),
          details=["x"] * rej.num_rows)
    return p.to_dict()


def _all_at_once(parts: list[dict]) -> list:
    """The examples as one sort of every part's (what the merge did before it read parts one at a time)."""
    out = {}
    for d in parts:
        for g, lst in d["examples"].items():
            out.setdefault(g, []).extend(tuple(x) for x in lst)
    return {g: sorted(lst, key=lambda x: x[0])[:EXAMPLES] for g, lst in out.items()}


def test_merge_reads_parts_one_at_a_time_and_equals_the_merge_of_all():
    rng = random.Random(5)
    parts = [_part(rng, 6) for _ in range(6)]
    whole = Profile.merge(parts)
    seen = []

    def one_at_a_time():
        for d in parts:
            seen.append(d)
            yield d

    streamed = Profile.merge(one_at_a_time())
    assert len(seen) == len(parts)
    assert streamed.to_dict() == whole.to_dict()
    assert whole.examples == _all_at_once(parts)
    tau = min(d["sample"]["tau"] for d in parts)
    want = [tuple(x) for d in parts for x in d["sample"]["items"] if x[0] < tau]
    assert sorted(x[0] for x in whole.sample.items) == sorted(x[0] for x in want)[: whole.sample.k]
    assert Profile.merge(iter([])).to_dict() == Profile.merge([]).to_dict()


def test_a_later_stage_reads_its_input_without_mapping_it(tmp_path):
    layout = Layout(str(tmp_path))
    path = layout.intermediate(0, 0)
    os.makedirs(os.path.dirname(path))
    t = pa.table({"id": [f"r{i}" for i in range(50)], "text": ["x" * 100] * 50})
    with pa.OSFile(path, "wb") as f, pa.ipc.new_file(f, t.schema) as w:
        w.write_table(t, max_chunksize=20)
    stage = type("S", (), {"index": 1})()
    shard = type("Sh", (), {"index": 0})()
    got = []
    for table in task._source(stage, shard, layout, None, {}, []):
        if sys.platform.startswith("linux"):
            with open("/proc/self/maps") as maps:
                assert path not in maps.read()
        got.append(table)
    assert pa.concat_tables(got).equals(t)


def test_id_lookup_names_rows_of_every_shard_whatever_it_keeps(tmp_path, monkeypatch):
    layout = Layout(str(tmp_path))
    os.makedirs(os.path.dirname(layout.intermediate(0, 0)))
    for s in range(3):
        t = pa.table({"id": [f"s{s}-{i}" for i in range(40)], "text": ["t"] * 40})
        with pa.OSFile(layout.intermediate(0, s), "wb") as f, pa.ipc.new_file(f, t.schema) as w:
            w.write_table(t, max_chunksize=15)
    monkeypatch.setattr(task, "ID_CACHE_BYTES", 1)  # every new shard drops the others: one held at a time
    lookup = _IdLookup(layout, 0)
    for s, r in [(0, 0), (2, 39), (1, 17), (0, 16), (2, 3)]:
        assert lookup(s, r) == f"s{s}-{r}"
        assert len(lookup.cache) == 1 and lookup.held == lookup.cache[s].nbytes


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
@pytest.mark.parametrize(("env", "want"), [({}, "False"), ({"GRISTMILL_MMAP_THRESHOLD": "1048576"}, "True"),
                                          ({"GRISTMILL_MMAP_THRESHOLD": "0"}, "False"),
                                          ({"GRISTMILL_MMAP_THRESHOLD": "1048576", "MALLOC_MMAP_THRESHOLD_": "65536"},
                                           "False")])
def test_heap_setting(env, want):
    code = "from gristmill.exec import heap; a = heap.configure(); heap.release(); print(a == heap.configure() and a)"
    full = {k: v for k, v in os.environ.items() if k not in ("GRISTMILL_MMAP_THRESHOLD", "MALLOC_MMAP_THRESHOLD_")}
    out = subprocess.run([sys.executable, "-c", code], env={**full, **env}, capture_output=True, text=True)
    assert out.stdout.strip() == want, out.stderr


@pytest.mark.parametrize("small", [False, True])  # small: samples of 40 and 15, so that parts overflow them
def test_pruned_parts_merge_as_the_whole_parts(monkeypatch, small):
    from gristmill.report import profile
    from gristmill.sampling import ThresholdSample

    if small:
        monkeypatch.setattr(profile, "SAMPLE_DOCS", 40)
        monkeypatch.setattr(profile, "SAMPLE_TEXTS", 15)
        monkeypatch.setattr(profile, "SAMPLE_KEEP", {"sample": 40, "texts": 15})
    rng = random.Random(9)
    parts = [_part(rng, 8) for _ in range(8)]
    want = Profile.merge(parts).to_dict()
    for key, k in profile.SAMPLE_KEEP.items():  # the merge of every part's items at once, as before
        assert want[key] == ThresholdSample.merge([d[key] for d in parts], k).to_dict()
    held = []
    for d in parts:  # as the run reads its tasks' profiles, one at a time
        held.append(orjson.loads(orjson.dumps(d)))
        profile.prune_parts(held)

    def size(ps, key):
        return sum(len(lst) for d in ps for lst in d[key].values()) if key == "examples" else sum(
            len(d[key]["items"]) for d in ps)

    assert size(held, "examples") < size(parts, "examples")
    if small:
        assert size(held, "sample") < size(parts, "sample") and size(held, "texts") < size(parts, "texts")
    assert Profile.merge(held).to_dict() == want
    assert Profile.merge(held[::-1]).to_dict() == Profile.merge(parts[::-1]).to_dict()  # whatever the order


def test_profile_parts_read_one_by_one_merge_as_all_at_once(tmp_path):
    """The run reads its tasks' profiles as they finish and prunes them each time the parts it holds double;
    the merged profile equals the merge of every part read at the end (synthetic parts: 37 of them, so prunes
    happen between reads)."""
    from gristmill.report.run_report import ProfileParts

    rng = random.Random(5)
    paths = []
    for i in range(37):
        p = tmp_path / f"s0-{i:05d}.json"
        p.write_bytes(orjson.dumps(_part(rng, 37)))
        paths.append(str(p))
    held = ProfileParts()
    for p in paths:
        held.read(p)
    assert 0 < held.pruned_at < len(paths)
    whole = Profile.merge(orjson.loads(Path(p).read_bytes()) for p in paths).to_dict()
    assert Profile.merge(held.parts[p] for p in paths).to_dict() == whole
