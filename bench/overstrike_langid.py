#!/usr/bin/env python3
"""Language ID of English man pages as ``man`` writes them to a terminal (backspace overstrike for bold and
underline), after ``normalize`` with and without ``terminal`` (the removal of overstrike and escapes).

    python bench/overstrike_langid.py [--pages 120] [--seed 7]

Takes a random sample of /usr/share/man/man1 pages, renders each with ``MAN_KEEP_FORMATTING=1 man -P cat``
(80 columns) and runs normalize + langid from the default recipe's steps on them.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import subprocess

import pyarrow as pa

from gristmill.recipe import load_recipe


def _step(yaml: str):
    s = load_recipe(text=yaml).steps[0].build()
    s.setup()
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=120)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    names = sorted(f.split(".")[0] for f in os.listdir("/usr/share/man/man1") if f.endswith(".1.gz"))
    pick = random.Random(a.seed).sample(names, min(a.pages, len(names)))
    env = {**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "1"}
    pages = [(n, subprocess.run(["man", "-P", "cat", n], capture_output=True, text=True, env=env).stdout)
             for n in pick]
    pages = [(n, t) for n, t in pages if "\b" in t]
    table = pa.table({"id": [n for n, _ in pages], "text": [t for _, t in pages]})
    lid = _step("steps:\n  - step: langid\n")
    for label, yaml in (("terminal: false", "steps:\n  - step: normalize\n    terminal: false\n"),
                        ("terminal: true ", "steps:\n  - step: normalize\n")):
        langs = lid.process(_step(yaml).process(table).table).table.column("lang").to_pylist()
        other = [n for (n, _), lg in zip(pages, langs, strict=True) if lg != "en"]
        print(f"{label}: {len(pages)} pages, {dict(collections.Counter(langs))}; not en: {other[:8]}")


if __name__ == "__main__":
    main()
