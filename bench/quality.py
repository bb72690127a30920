#!/usr/bin/env python3
"""Quality signals + selection, side by side with datatrove's four-filter chain, one core, per language.

    python bench/quality.py --corpus $PEERS/corpus --datatrove-python $PEERS/venv/bin/python \\
        --peer-bench ../shared/peer-bench [--results bench/results/quality.json]

Splits ``plain.jsonl`` into English and Chinese files (by ``plain.meta.jsonl``), then times, each in its own
process under ``/usr/bin/time -v`` (wall time, peak RSS): datatrove 0.10.1 (GopherRepetition -> GopherQuality
-> C4 -> FineWeb, the peer-bench runner) and ``gristmill run`` with langid + the full quality signal set +
the bilingual preset, both with one worker; and the same gristmill run without its C core
(``GRISTMILL_PURE_PYTHON=1``: the Python reference of the signals), the baseline the C core is measured against.
``--skip-python`` leaves that run out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import count_lines, timed  # noqa: E402

RECIPE = """
output:
  format: jsonl
steps:
  - step: langid
  - step: quality
  - step: filter
    preset: [bilingual]
"""


def split(corpus: Path, tmp: Path) -> dict[str, Path]:
    langs = {}
    with open(corpus / "plain.meta.jsonl") as f:
        for line in f:
            m = json.loads(line)
            langs[m["id"]] = m["lang"]
    outs = {lang: open(tmp / f"{lang}.jsonl", "w") for lang in ("en", "zh")}  # noqa: SIM115
    with open(corpus / "plain.jsonl") as f:
        for line in f:
            outs[langs[json.loads(line)["id"]]].write(line)
    for o in outs.values():
        o.close()
    return {lang: tmp / f"{lang}.jsonl" for lang in outs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, type=Path)
    ap.add_argument("--datatrove-python", required=True)
    ap.add_argument("--peer-bench", default=str(HERE.parent.parent / "shared" / "peer-bench"))
    ap.add_argument("--results", default=str(HERE / "results" / "quality.json"))
    ap.add_argument("--skip-datatrove", action="store_true")
    ap.add_argument("--skip-python", action="store_true", help="no run without the C core")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    rows = []
    try:
        files = split(a.corpus, tmp)
        (tmp / "recipe.yaml").write_text(RECIPE)
        for lang, path in files.items():
            docs = count_lines(path)
            mb = os.path.getsize(path) / 1e6
            runs = {}
            if not a.skip_datatrove:
                runs["datatrove"] = timed([a.datatrove_python, f"{a.peer_bench}/bench_filters_datatrove.py",
                                           "--input", str(path), "--out", str(tmp / f"dt-{lang}"), "--workers", "1"])
                runs["datatrove"]["kept"] = sum(count_lines(f) for f in (tmp / f"dt-{lang}" / "kept").rglob("*")
                                                if f.is_file())
            variants = {"gristmill": {}} if a.skip_python else {"gristmill": {}, "gristmill-python":
                                                                   {"GRISTMILL_PURE_PYTHON": "1"}}
            for tool, extra in variants.items():
                env = {k: v for k, v in os.environ.items() if k != "GRISTMILL_PURE_PYTHON"} | extra
                out = tmp / f"{tool}-{lang}"
                runs[tool] = timed([sys.executable, "-m", "gristmill", "run", str(tmp / "recipe.yaml"), "--input",
                                    str(path), "--output", str(out), "--workers", "1", "--quiet"], env=env)
                runs[tool]["kept"] = json.loads((out / "manifest.json").read_text())["counts"]["kept"]
            if "gristmill-python" in runs and runs["gristmill-python"]["kept"] != runs["gristmill"]["kept"]:
                raise SystemExit(f"{lang}: the C core and the Python reference kept different documents")
            for tool, r in runs.items():
                r.pop("stdout", None)
                rows.append({"tool": tool, "lang": lang, "docs": docs, "mb": round(mb, 1), **r,
                             "docs_per_s": round(docs / r["wall_s"], 1), "mb_per_s": round(mb / r["wall_s"], 2)})
                print(json.dumps(rows[-1]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n| tool | lang | docs | MB | wall s | docs/s per core | MB/s per core | peak RSS MB | kept | speed-up |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        base = next((x for x in rows if x["tool"] == "datatrove" and x["lang"] == r["lang"]), None)
        ratio = f"{base['wall_s'] / r['wall_s']:.1f}x" if base else "-"
        print(f"| {r['tool']} | {r['lang']} | {r['docs']:,} | {r['mb']} | {r['wall_s']} | {r['docs_per_s']:,} | "
              f"{r['mb_per_s']} | {r['peak_rss_mb']} | {r['kept']:,} | {ratio} |")
    os.makedirs(os.path.dirname(a.results), exist_ok=True)
    Path(a.results).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
