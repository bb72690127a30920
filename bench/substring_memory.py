"""Peak memory and CPU of ``substring_dedup``'s reduce, this version beside a previous one (``git show REF:...``),
on the same real text, each in its own process; the cuts they decide must be identical.

    python bench/substring_memory.py [--source peers-en|zh|shared] [--mb 22] [--ref 7edb7a0] [--repeats 3]

Sources: ``peers-en`` the first ``--mb`` MB of the peer-bench corpus (/work/peers/corpus/plain.jsonl, English with
real duplicates); ``zh`` its Chinese documents and the shared Chinese files (up to ``--mb``); ``shared`` the shared
English and Chinese files, documents repeated with light changes until ``--mb`` MB. The text is split into 8
shards; each version writes its own map state (its own ``map_state`` and ``save_state``, in a process of its own), then its reduce
runs in a fresh process with default parameters. Printed: peak RSS of the reduce process (VmHWM, imports
included; not ru_maxrss, which a child starts at its parent's RSS at the fork) and its ratio to the text's UTF-8 size, and the reduce's CPU seconds (user + system; median of
``--repeats``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PEERS = ROOT.parent / "peers" / "corpus" / "plain.jsonl"
FILES = ["text_en/python311_doc_shared.jsonl.gz", "text_en/c4_sample_shared.jsonl", "text_en/dolma_cc_samples.jsonl",
         "text_zh/manpages_zh_cn_shared.jsonl.gz", "text_zh/chinesewebtext_cc2021_43_shared.jsonl",
         "text_zh/debian_reference_zh_cn_shared.jsonl.gz", "text_en/debian_reference_en_shared.jsonl.gz"]
ZH_FILES = ["text_zh/manpages_zh_cn_shared.jsonl.gz", "text_zh/manpages_zh_tw_shared_subset.jsonl.gz",
            "text_zh/debian_reference_zh_cn_shared.jsonl.gz", "text_zh/chinesewebtext_cc2021_43_shared.jsonl",
            "text_zh/chinese_poetry_shared.jsonl", "text_zh/fortunes_zh_shared.jsonl.gz",
            "text_zh/chnsenticorp_hotel_reviews.jsonl.gz"]

CHILD = r"""
import importlib.util, json, os, sys, time
spec = importlib.util.spec_from_file_location("substring_under_test", sys.argv[1])
mod = importlib.util.module_from_spec(spec); sys.modules[spec.name] = mod; spec.loader.exec_module(mod)
step = mod.SubstringDedup(mod.SubstringParams(), "substring_dedup")
state, out = sys.argv[2], sys.argv[3]
if sys.argv[4] == "save":
    import pyarrow as pa
    texts = [json.loads(line) for line in open(sys.argv[5], encoding="utf-8")]
    per = (len(texts) + 7) // 8
    for i in range(8):
        batch = pa.table({"text": texts[i * per:(i + 1) * per]})
        step.save_state(os.path.join(state, f"{i:05d}"), [step.map_state(batch, None)])
    sys.exit(0)
t0 = time.process_time()
info = step.reduce([os.path.join(state, d) for d in sorted(os.listdir(state))], out)
peak = [x for x in open("/proc/self/status") if x.startswith("VmHWM")][0].split()[1]  # not ru_maxrss: see below
print(json.dumps({"cpu": time.process_time() - t0, "peak_kb": int(peak), **info}))
"""


def _jsonl(p: Path):
    op = gzip.open if p.suffix == ".gz" else open
    with op(p, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def texts(source: str, mb: float) -> list[str]:
    """Documents of ``source`` up to ``mb`` MB of UTF-8 (see the module docstring)."""
    if source == "peers-en":
        docs = (d["text"] for d in _jsonl(PEERS))
    elif source == "zh":
        docs = (d["text"] for src in [PEERS] + [SHARED / f for f in ZH_FILES] for d in _jsonl(src)
                if src != PEERS or d["id"].startswith("zh-"))
    else:
        pool = [d["text"] for f in FILES for d in _jsonl(SHARED / f)]
        docs = (pool[k % len(pool)] if k < len(pool) else f"copy {k}\n" + pool[k % len(pool)][len(pool[k % len(pool)]) // 3:]
                for k in range(10**9))
    out, size = [], 0
    for d in docs:
        if size >= mb * 1e6:
            break
        out.append(d)
        size += len(d.encode("utf-8", "surrogatepass"))
    return out


def run_version(path: Path, work: Path, name: str, data: Path, repeats: int) -> dict:
    """Save state with the version's own ``save_state``, then time its reduce ``repeats`` times."""
    state = work / f"state-{name}"
    subprocess.run([sys.executable, "-c", CHILD, str(path), str(state), "-", "save", str(data)], check=True)
    rows = []
    for k in range(repeats):
        out = work / f"dec-{name}-{k}"
        r = subprocess.run([sys.executable, "-c", CHILD, str(path), str(state), str(out), "reduce"],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"{name}: {r.stderr[-1500:]}")
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
    import numpy as np
    row = dict(rows[0], cpu=statistics.median(r["cpu"] for r in rows), peak_kb=max(r["peak_kb"] for r in rows))
    row["cuts"] = [np.load(out / f"{i:05d}.npy").tolist() for i in range(8)]
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", choices=["peers-en", "zh", "shared"], default="peers-en")
    ap.add_argument("--mb", type=float, default=22.0)
    ap.add_argument("--ref", default="7edb7a0")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    docs = texts(a.source, a.mb)
    text_mb = sum(len(d.encode("utf-8", "surrogatepass")) for d in docs) / 1e6
    work = Path(tempfile.mkdtemp(prefix="gm-substr-"))
    data = work / "texts.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(d) + "\n" for d in docs)
    old = work / "old_substring.py"
    old.write_text(subprocess.run(["git", "-C", str(ROOT), "show", f"{a.ref}:src/gristmill/dedup/substring.py"],
                                  capture_output=True, text=True, check=True).stdout)
    new = ROOT / "src" / "gristmill" / "dedup" / "substring.py"
    try:
        rows = {name: run_version(path, work, name, data, a.repeats)
                for name, path in (("previous", old), ("this", new))}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    same = rows["previous"]["cuts"] == rows["this"]["cuts"]
    print(f"{a.source}: {len(docs):,} documents, {text_mb:.1f} MB UTF-8, {sum(map(len, docs)) / 1e6:.1f} M characters;"
          f" load {os.getloadavg()[0]:.2f}; CPU = median of {a.repeats}")
    print("| version | CPU s | peak RSS MB | peak / text | removed chars | pairs |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        peak = r["peak_kb"] * 1024 / 1e6
        print(f"| {name} | {r['cpu']:.1f} | {peak:.0f} | {peak / text_mb:.1f}× | {r['removed_chars']:,} "
              f"| {r['matching_suffix_pairs']:,} |")
    print(f"identical cuts: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
