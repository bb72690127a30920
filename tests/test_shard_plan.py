"""input.shard_size "auto": how many shards the inputs make depends on their total size only, files are cut into
equal parts, the plan's last part into a tail of smaller pieces, and every record is read exactly once across
the parts."""

from __future__ import annotations

import json

import pytest

import gristmill
from gristmill.io import SHARD_MIN, SHARD_SIZE, SHARD_TAIL, SHARD_TAIL_MIN, SHARD_TARGET, auto_shard_size
from gristmill.io.paths import plan_shards
from gristmill.io.readers import ReadOptions, read_shard
from gristmill.recipe import load_recipe
from tests.conftest import output_rows


def test_auto_size_is_bounded_and_follows_the_total():
    assert auto_shard_size(0) == SHARD_MIN
    assert auto_shard_size(SHARD_MIN * SHARD_TARGET) == SHARD_MIN
    assert auto_shard_size(SHARD_MIN * SHARD_TARGET * 2) == SHARD_MIN * 2  # 256 shards in between
    assert auto_shard_size(SHARD_SIZE * SHARD_TARGET * 10) == SHARD_SIZE
    sizes = [auto_shard_size(t) for t in range(0, 10**11, 10**9)]
    assert sizes == sorted(sizes)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory, en_docs, zh_docs):
    """A JSONL file of real English and Chinese documents, just over 2.5 auto shards (about 40 MB)."""
    p = tmp_path_factory.mktemp("plan") / "big.jsonl"
    docs = [d["text"] for d in en_docs + zh_docs]
    n, size = 0, 0
    with open(p, "w", encoding="utf-8") as f:
        while size < SHARD_MIN * 5 // 2:
            line = json.dumps({"id": f"d{n}", "text": docs[n % len(docs)]}, ensure_ascii=False) + "\n"
            f.write(line)
            size += len(line.encode())
            n += 1
    return p, n


def test_a_file_is_cut_into_equal_parts_and_read_once(big_file):
    p, n = big_file
    size = p.stat().st_size
    shards = plan_shards([str(p)])
    parts = -(-size // SHARD_MIN)
    assert parts == 3 and len(shards) == parts - 1 + len(SHARD_TAIL)
    assert shards[0].start == 0 and shards[-1].end == size
    assert all(a.end == b.start for a, b in zip(shards, shards[1:], strict=False))  # contiguous
    assert [s.index for s in shards] == list(range(len(shards)))
    full, tail = shards[:parts - 1], shards[parts - 1:]
    assert max(s.size for s in full) <= SHARD_MIN
    last = size - sum(s.size for s in full)
    assert max(s.size for s in full) - last <= 1  # equal parts, not two full and a stub
    # the last part in pieces of 1/2, 1/4, 1/8 and 1/8: they start last in every stage (largest first)
    assert [round(s.size * sum(SHARD_TAIL) / last) for s in tail] == list(SHARD_TAIL)
    ids = [i for sh in shards for b in read_shard(sh, ReadOptions()) for i in b.table.column("id").to_pylist()]
    assert ids == [f"d{i}" for i in range(n)]


def test_the_tail_is_cut_only_from_a_large_enough_byte_range_at_the_end(big_file, tmp_path):
    """A small last file stays whole (the big file before it keeps its equal parts); so does a compressed one;
    a fixed shard_size never gets a tail; a file of 8 MB or more alone gets the tail."""
    import gzip

    p, _ = big_file
    small = tmp_path / "small.jsonl"
    small.write_text(json.dumps({"text": "一个很小的文件。"}, ensure_ascii=False) + "\n", encoding="utf-8")
    both = plan_shards([str(p), str(small)])
    assert len(both) == 4 and both[-1].path.endswith("small.jsonl") and both[-1].end is None
    assert len({s.size for s in both[:3]}) <= 2 and min(s.size for s in both[:3]) > SHARD_MIN * 3 // 4
    gz = tmp_path / "z.jsonl.gz"
    gz.write_bytes(gzip.compress(p.read_bytes()[:SHARD_TAIL_MIN * 2], compresslevel=1))
    assert len(plan_shards([str(p), str(gz)])) == 4
    assert all(s.size in (SHARD_MIN, p.stat().st_size - 2 * SHARD_MIN) for s in plan_shards([str(p)], shard_size=SHARD_MIN))
    head = tmp_path / "head.jsonl"
    with open(p, "rb") as f, open(head, "wb") as g:
        g.write(f.read(SHARD_TAIL_MIN + 4096))
        g.write(f.readline())  # to a line's end
    assert len(plan_shards([str(head)])) == len(SHARD_TAIL)
    assert len(plan_shards([str(small)])) == 1


def test_the_plan_depends_on_the_inputs_not_on_a_setting_of_the_machine(big_file, tmp_path):
    """The total of all inputs decides the size: a small second file does not change how the big one is cut,
    and a number given as input.shard_size still cuts fixed ranges from each file's start."""
    p, _ = big_file
    small = tmp_path / "small.jsonl"
    small.write_text(json.dumps({"text": "一个很小的文件。"}, ensure_ascii=False) + "\n", encoding="utf-8")
    both = plan_shards([str(p), str(small)])
    alone = plan_shards([str(p)])
    assert [s.size for s in both[:2]] == [s.size for s in alone[:2]] and both[3].path.endswith("small.jsonl")
    assert both[2].size == sum(s.size for s in alone[2:])  # alone, its last part is the plan's tail
    fixed = plan_shards([str(p)], shard_size=SHARD_MIN)
    assert [s.size for s in fixed[:2]] == [SHARD_MIN, SHARD_MIN] and fixed[2].size == p.stat().st_size - 2 * SHARD_MIN


def test_a_run_with_the_default_shard_size_keeps_every_record(big_file, tmp_path):
    p, n = big_file
    recipe = load_recipe(text="steps: []\n")
    assert recipe.input.shard_size == "auto"
    m = gristmill.run(recipe, inputs=[str(p)], output=str(tmp_path / "out"), workers=1, quiet=True)
    assert m["shards"] == 2 + len(SHARD_TAIL) and m["counts"]["kept"] == n
    assert [r["id"] for r in output_rows(tmp_path / "out")] == [f"d{i}" for i in range(n)]


@pytest.mark.parametrize("bad", ["0", "12", "-5MB", "lots"])
def test_a_shard_size_below_a_kilobyte_or_not_a_size_is_a_recipe_error(bad):
    from gristmill.errors import RecipeError

    with pytest.raises(RecipeError, match="input.shard_size: expected one of 'auto' or a size"):
        load_recipe(text=f"input:\n  shard_size: {bad}\nsteps: []\n")
    assert load_recipe(text="input:\n  shard_size: 1KiB\nsteps: []\n").input.shard_size == 1024
