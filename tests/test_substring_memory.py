"""substring_dedup's lean reduce (UTF-8 bytes, one int32 array beside the text) cuts exactly what the suffix
array of code points with kasai's LCP array cut before, on real English and Chinese text, with less memory."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from gristmill.dedup import substring
from gristmill.dedup.substring import SubstringDedup, SubstringParams
from tests.conftest import read_jsonl, shared

pytest.importorskip("pydivsufsort")


def reference(texts: list[str], min_length: int) -> tuple[list[tuple[int, int, int]], int]:
    """The previous reduce (before the lean one), as a slow specification: documents as code points with a
    distinct separator after each, suffix array, kasai's LCP; each neighbour pair that shares
    ``min_length`` or more code points across documents covers that many from its later suffix; the covered
    runs of each document are cut. Returns (rows (document, start, end), matching pairs)."""
    from pydivsufsort import divsufsort, kasai

    seq, starts, pos = [], [], 0
    top = 0x110000
    for d, t in enumerate(texts):
        starts.append(pos)
        seq += [ord(c) for c in t] + [top + d]
        pos += len(t) + 1
    if len(seq) < 2:
        return [], 0
    seq = np.array(seq, np.int64)
    sa = divsufsort(seq)
    lcp = kasai(seq, sa)
    i = np.nonzero(lcp[:len(seq) - 1] >= min_length)[0]
    a, b = sa[i].astype(np.int64), sa[i + 1].astype(np.int64)
    cross = np.searchsorted(starts, a, side="right") != np.searchsorted(starts, b, side="right")
    later = np.maximum(a, b)[cross]
    diff = np.zeros(len(seq) + 1, np.int64)
    np.add.at(diff, later, 1)
    np.add.at(diff, later + lcp[i][cross], -1)
    pairs = len(later)
    covered = np.cumsum(diff[:-1]) > 0
    rows = []
    for d, t in enumerate(texts):
        cov = np.concatenate([[0], covered[starts[d]:starts[d] + len(t)].astype(np.int8), [0]])
        edges = np.diff(cov)
        rows += [(d, int(x), int(y)) for x, y in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0],
                                                      strict=True)]
    return rows, pairs


def lean(tmp_path, texts: list[str], min_length: int, shards: int = 3, **params) -> tuple[list, dict]:
    """The step's own save_state and reduce over ``shards`` shards; rows renumbered over all documents."""
    step = SubstringDedup(SubstringParams(), "substring_dedup")
    for k, v in {"min_length": min_length, **params}.items():  # below the recipe minimums where a test says
        setattr(step.params, k, v)
    per = -(-len(texts) // shards) if texts else 1
    paths = []
    for i in range(shards):
        paths.append(str(tmp_path / "state" / f"{i:05d}"))
        step.save_state(paths[-1], [step.map_state(pa.table({"text": texts[i * per:(i + 1) * per]}), None)])
    info = step.reduce(paths, str(tmp_path / "dec"))
    rows = []
    for i in range(shards):
        rows += [(r + i * per, a, b) for r, a, b in SubstringDedup.load_decision(str(tmp_path / "dec"), i).tolist()]
    return rows, info


def corpus(lang: str, limit: int) -> list[str]:
    """Real documents, then later partial copies of some (a marker line, the last two thirds), as the bench."""
    files = {"en": ["text_en/c4_sample_shared.jsonl", "text_en/dolma_cc_samples.jsonl"],
             "zh": ["text_zh/manpages_zh_cn_shared.jsonl.gz", "text_zh/chinesewebtext_cc2021_43_shared.jsonl"]}
    docs = [d["text"] for f in files[lang] for d in read_jsonl(shared(f))]
    docs = docs[:limit]
    return docs + [f"copy {k}\n" + d[len(d) // 3:] for k, d in enumerate(docs[::7])]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_same_cuts_as_the_code_point_suffix_array_on_real_text(tmp_path, lang):
    texts = corpus(lang, 400)
    for min_length in (100, 30):
        rows, info = lean(tmp_path / str(min_length), texts, min_length)
        want, pairs = reference(texts, min_length)
        assert rows == want and info["matching_suffix_pairs"] == pairs
        assert info["removed_chars"] == sum(b - a for _, a, b in want) > 1000


ALPHABET = ["a", "b", "é", "è", "ē", "中", "丁", "\U0001f600", "\U0001f601", "\n"]  # 1-4 UTF-8 bytes


def test_same_cuts_on_adversarial_text(tmp_path):
    """Characters sharing UTF-8 lead bytes, 4-byte ones, empty and identical documents."""
    rnd = random.Random(7)
    for case in range(30):
        base = "".join(rnd.choice(ALPHABET[:rnd.randint(2, len(ALPHABET))]) for _ in range(rnd.randint(0, 60)))
        texts = []
        for _ in range(rnd.randint(1, 9)):
            a, b = sorted(rnd.randint(0, len(base)) for _ in range(2))
            noise = "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 5)))
            texts.append(rnd.choice([base[a:b] + noise, noise + base[a:b], "", base]))
        rows, info = lean(tmp_path / str(case), texts, 3, shards=rnd.randint(1, 3))
        assert (rows, info["matching_suffix_pairs"]) == reference(texts, 3), texts


def test_python_scan_matches_the_c_scan(tmp_path, monkeypatch):
    if substring._substring is None:
        pytest.skip("gristmill.dedup._substring not built")
    texts = corpus("zh", 60) + corpus("en", 60)
    with_c = lean(tmp_path / "c", texts, 50)
    monkeypatch.setattr(substring, "_substring", None)
    assert lean(tmp_path / "py", texts, 50) == with_c and with_c[1]["removed_chars"] > 0


def test_state_of_the_previous_format_is_read(tmp_path):
    """State written as uint32 code points (text.npy, lens.npy) before the UTF-8 format still reduces."""
    texts = corpus("zh", 40)
    want, _ = lean(tmp_path / "new", texts, 50, shards=1)
    old = tmp_path / "old" / "00000"
    old.mkdir(parents=True)
    np.save(old / "lens.npy", np.array([len(t) for t in texts], np.int64))
    np.save(old / "text.npy", np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32))
    step = SubstringDedup(SubstringParams(min_length=50), "substring_dedup")
    step.reduce([str(old)], str(tmp_path / "old-dec"))
    assert [tuple(r) for r in SubstringDedup.load_decision(str(tmp_path / "old-dec"), 0).tolist()] == want


def test_groups_bounded_by_memory(tmp_path):
    """max_memory_mb closes a group like group_chars does: a span repeated across groups is not cut."""
    texts = corpus("en", 300)
    nbytes = sum(len(t.encode()) + 6 for t in texts)
    one = lean(tmp_path / "one", texts, 100)
    split = lean(tmp_path / "two", texts, 100, max_memory_mb=1)  # groups of 1 MiB / 5 bytes per byte
    assert one[1]["groups"] == 1 and split[1]["groups"] == 3 and nbytes > 2**20 // 5
    assert split[1]["removed_chars"] < one[1]["removed_chars"]  # the copies at the end lost their originals


CHILD = r"""
import json, os, sys
from gristmill.dedup.substring import SubstringDedup, SubstringParams
import pydivsufsort  # noqa: F401 - imported before the baseline is taken
def hwm():  # this process's peak RSS (ru_maxrss would count the parent's at the fork)
    return int([x for x in open("/proc/self/status") if x.startswith("VmHWM")][0].split()[1])
state = sys.argv[1]
base = hwm()
SubstringDedup(SubstringParams(), "substring_dedup").reduce(
    [os.path.join(state, d) for d in sorted(os.listdir(state))], sys.argv[2])
print(json.dumps({"base_kb": base, "peak_kb": hwm()}))
"""


def test_reduce_memory_is_about_five_bytes_per_byte_of_text(tmp_path):
    texts = corpus("en", 10**6) + corpus("zh", 10**6)
    step = SubstringDedup(SubstringParams(), "substring_dedup")
    for i in range(4):
        step.save_state(str(tmp_path / "state" / f"{i:05d}"), [step.map_state(pa.table({"text": texts[i::4]}), None)])
    nbytes = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)
    r = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "state"), str(tmp_path / "dec")],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert (m["peak_kb"] - m["base_kb"]) * 1024 <= 7 * nbytes  # was about 20 bytes per byte of English


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_map_state_is_the_batch_utf8_without_python_strings(kind):
    texts = ["前言", None, "", "naïve \U0001f600", "第二篇"] * 3
    col = pa.chunked_array([pa.array(texts[:7], kind), pa.array(texts[7:], kind)])
    table = pa.table({"text": col}).slice(2, 11)  # an offset into the first chunk, across both
    data, lens, blens = SubstringDedup(SubstringParams(), "substring_dedup").map_state(table, None)
    want = [t or "" for t in texts[2:13]]
    assert data.tobytes() == "".join(want).encode() and lens.tolist() == [len(t) for t in want]
    assert blens.tolist() == [len(t.encode()) for t in want]


def test_64_bit_suffix_array_gives_the_same_cuts(tmp_path, monkeypatch):
    """Groups over 2 GiB of text get an int64 suffix array (libdivsufsort64) and the 64-bit scan."""
    import pydivsufsort

    texts = corpus("zh", 60) + corpus("en", 60)
    narrow = lean(tmp_path / "32", texts, 50)
    real = pydivsufsort.divsufsort
    monkeypatch.setattr(pydivsufsort, "divsufsort", lambda s: real(s, force64=True))
    assert lean(tmp_path / "64", texts, 50) == narrow and narrow[1]["removed_chars"] > 0
