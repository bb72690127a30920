"""The code reader's speed per core beside a plain baseline, and the code preset's keep rate per language.

Samples source files from this machine (the venv's site-packages, Debian's /usr/lib/python3*, /usr/include,
/usr/share/javascript), packs them into one .tar.gz, then in one process: (1) the baseline, Python's tarfile
reading and UTF-8-decoding every member; (2) gristmill's code reader on the same archive (two passes: licence
files first, then documents; binary skip, decoding, language, licence); (3) a folder of the same files read as a
source tree. Then code_signals + the code preset on the documents: keep rate per language and examples of what
each rule removed. Timings are one run on a shared machine: read the ratio, not the absolute figures.

    .venv/bin/python bench/code.py [--files 3000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tarfile
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa

from gristmill.code.reader import read_code
from gristmill.io.batch import ReadOptions
from gristmill.io.paths import plan_shards
from gristmill.steps.code_signals import CodeSignals, CodeSignalsParams
from gristmill.steps.filter import Filter, FilterParams

ROOTS = [Path(sys.prefix) / "lib", Path("/usr/lib/python3"), *Path("/usr/lib").glob("python3.*"),
         Path("/usr/include"), Path("/usr/share/javascript")]
SUFFIXES = {".py", ".pyi", ".c", ".h", ".hpp", ".cc", ".js", ".css", ".json", ".yaml", ".yml", ".toml", ".txt",
            ".md", ".rst", ".html", ".xml", ".sh", ".pyx", ".cfg", ".ini"}


def sample(n: int, seed: int) -> list[tuple[Path, str]]:
    files = []
    for root in ROOTS:
        if root.exists():
            files += [(p, f"{root.name}/{p.relative_to(root)}") for p in root.rglob("*")
                      if p.suffix in SUFFIXES and p.is_file() and not p.is_symlink()]
    random.Random(seed).shuffle(files)
    return sorted(files[:n], key=lambda x: x[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    files = sample(a.files, a.seed)
    tmp = Path(tempfile.mkdtemp())
    arc = tmp / "sample-main.tar.gz"
    tree = tmp / "sample"
    with tarfile.open(arc, "w:gz") as tar:
        for p, name in files:
            tar.add(p, f"sample-main/{name}")
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, tree / name)
    mb = sum(p.stat().st_size for p, _ in files) / 1e6

    pa.array(["warm-up"], pa.string())  # pyarrow imports pandas on its first conversion: once per process, any reader
    t0 = time.perf_counter()
    n_base = 0
    with tarfile.open(arc, "r|gz") as tar:
        for m in tar:
            if m.isfile():
                tar.extractfile(m).read().decode("utf-8", "replace")
                n_base += 1
    base = time.perf_counter() - t0

    def read(path: Path) -> tuple[list[pa.Table], Counter, float]:
        t0 = time.perf_counter()
        tables, acc = [], Counter()
        for sh in plan_shards([str(path)], "code"):
            for b in read_code(sh, ReadOptions()):
                acc["quarantined"] += len(b.quarantine)
                acc["skipped"] += b.skipped
                acc["blank"] += b.blank
                if b.table is not None:
                    tables.append(b.table)
                    acc["docs"] += b.table.num_rows
        return tables, acc, time.perf_counter() - t0

    tables, acc, t_arc = read(arc)
    _, acc_tree, t_tree = read(tree)
    print(f"{len(files)} files, {mb:.1f} MB (one process; shared 2-core machine)")
    print(f"  baseline tarfile+decode : {n_base / base:8.0f} files/s {mb / base:6.1f} MB/s")
    print(f"  gristmill archive       : {len(files) / t_arc:8.0f} files/s {mb / t_arc:6.1f} MB/s  "
          f"(x{base / t_arc:.2f} of baseline speed)  {dict(acc)}")
    print(f"  gristmill tree          : {len(files) / t_tree:8.0f} files/s {mb / t_tree:6.1f} MB/s  {dict(acc_tree)}")

    t = pa.concat_tables(tables)
    t0 = time.perf_counter()
    t = CodeSignals(CodeSignalsParams()).process(t).table
    t_sig = time.perf_counter() - t0
    res = Filter(FilterParams(preset=["code"], rules={"vendored": None})).process(t)  # installed copies live in
    # site-packages/, which the vendored rule rightly flags: measure the other rules
    print(f"  code_signals            : {t.num_rows / t_sig:8.0f} files/s {mb / t_sig:6.1f} MB/s")
    langs = t.column("language").to_pylist()
    paths = t.column("path").to_pylist()
    rej = res.reject.tolist()
    reasons = iter(res.reason or [])
    per = defaultdict(lambda: [0, 0])
    why = defaultdict(Counter)
    examples = defaultdict(list)
    for lang, path, r in zip(langs, paths, rej, strict=True):
        per[lang][0] += 1
        if r:
            reason = next(reasons)
            per[lang][1] += 1
            why[lang][reason] += 1
            if len(examples[reason]) < 3:
                examples[reason].append(path)
    print("\nkeep rate per language (code preset without its vendored rule)")
    for lang, (n, r) in sorted(per.items(), key=lambda x: -x[1][0]):
        print(f"  {lang:18} {n:5} files  kept {100 * (n - r) / n:5.1f}%  removed by {dict(why[lang].most_common(3))}")
    print("\nexamples removed, per rule")
    for reason, ex in sorted(examples.items()):
        print(f"  {reason:22} {', '.join(ex)}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
