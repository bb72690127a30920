"""Peak memory of ``substring_dedup``'s reduce, this version beside the previous one (``git show REF:...``),
on the same real text, each in its own process; the cuts they decide must be identical.

    python bench/substring_memory.py [--mb 22] [--ref e5365e7]

Text: the shared English and Chinese files (documents repeated with light changes until ``--mb`` MB of text,
so there are cross-document repeats to find). Prints MB of text, peak RSS of each reduce process, and the
ratio of peak RSS to the text's UTF-8 size.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
FILES = ["text_en/python311_doc_shared.jsonl.gz", "text_en/c4_sample_shared.jsonl", "text_en/dolma_cc_samples.jsonl",
         "text_zh/manpages_zh_cn_shared.jsonl.gz", "text_zh/chinesewebtext_cc2021_43_shared.jsonl",
         "text_zh/debian_reference_zh_cn_shared.jsonl.gz", "text_en/debian_reference_en_shared.jsonl.gz"]

CHILD = r"""
import importlib.util, json, os, resource, sys, time
import numpy as np
spec = importlib.util.spec_from_file_location("substring_under_test", sys.argv[1])
mod = importlib.util.module_from_spec(spec); sys.modules[spec.name] = mod; spec.loader.exec_module(mod)
from gristmill.dedup.substring import SubstringParams
step = mod.SubstringDedup(SubstringParams(min_length=100, group_chars=10**9), "substring_dedup")
state, out = sys.argv[2], sys.argv[3]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
info = step.reduce([os.path.join(state, d) for d in sorted(os.listdir(state))], out)
print(json.dumps({"seconds": time.perf_counter() - t0, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "before_kb": base, **info}))
"""


def texts(mb: float) -> list[str]:
    docs = []
    for f in FILES:
        p = SHARED / f
        op = gzip.open if p.suffix == ".gz" else open
        with op(p, "rt", encoding="utf-8") as fh:
            docs += [json.loads(line)["text"] for line in fh if line.strip()]
    out, size, k = [], 0, 0
    while size < mb * 1e6:
        d = docs[k % len(docs)]
        if k >= len(docs):  # a later copy: cut in half and a marker line, so repeats are partial
            d = f"copy {k}\n" + d[len(d) // 3:]
        out.append(d)
        size += len(d.encode())
        k += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=22.0)
    ap.add_argument("--ref", default="e5365e7")
    a = ap.parse_args()
    import numpy as np

    from gristmill.dedup.substring import SubstringDedup, SubstringParams

    docs = texts(a.mb)
    text_mb = sum(len(d.encode()) for d in docs) / 1e6
    work = Path(tempfile.mkdtemp(prefix="gm-substr-"))
    step = SubstringDedup(SubstringParams(), "substring_dedup")
    per = (len(docs) + 7) // 8
    for i in range(8):
        step.save_state(str(work / "state" / f"{i:05d}"), [docs[i * per:(i + 1) * per]])
    old = work / "old_substring.py"
    old.write_text(subprocess.run(["git", "-C", str(ROOT), "show", f"{a.ref}:src/gristmill/dedup/substring.py"],
                                  capture_output=True, text=True, check=True).stdout)
    new = ROOT / "src" / "gristmill" / "dedup" / "substring.py"
    rows = {}
    for name, path in (("previous", old), ("this", new)):
        out = work / f"dec-{name}"
        r = subprocess.run([sys.executable, "-c", CHILD, str(path), str(work / "state"), str(out)],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"{name}: {r.stderr[-1500:]}")
        rows[name] = json.loads(r.stdout.strip().splitlines()[-1])
        rows[name]["cuts"] = [np.load(out / f"{i:05d}.npy").tolist() for i in range(8)]
    same = rows["previous"]["cuts"] == rows["this"]["cuts"]
    print(f"text: {len(docs):,} documents, {text_mb:.1f} MB UTF-8; load {os.getloadavg()[0]:.2f}")
    print("| version | seconds | peak RSS MB | peak / text | removed chars |")
    print("|---|---:|---:|---:|---:|")
    for name, r in rows.items():
        peak = r["peak_kb"] / 1024
        print(f"| {name} | {r['seconds']:.1f} | {peak:.0f} | {peak / text_mb:.1f}× | {r['removed_chars']:,} |")
    print(f"identical cuts: {same}")
    if not same:
        sys.exit(1)
    _ = resource


if __name__ == "__main__":
    main()
