#!/usr/bin/env python3
"""Quality signals + selection, side by side with datatrove's four-filter chain, one core, per language.

    python bench/quality.py --corpus $PEERS/corpus --datatrove-python $PEERS/venv/bin/python \\
        [--peer-bench ../shared/peer-bench] [--sample 8] [--repeats 3] [--results bench/results/quality.json]

Splits ``plain.jsonl`` into English and Chinese files (by ``plain.meta.jsonl``; English sampled to the ids whose
CRC32 is divisible by ``--sample``, default 8, about 4,000 documents, because datatrove takes ~6 minutes a run
on all 32,000; ``--sample 1``: everything), then runs every configuration once per round for ``--repeats`` rounds
(so that a change of load on a shared machine hits all alike), each in its own process with one worker under
``/usr/bin/time -v``: median wall and CPU seconds with min-max, peak RSS, load average.

- ``datatrove``: 0.10.1, JsonlReader -> GopherRepetition -> GopherQuality -> C4 -> FineWeb -> JsonlWriter (the
  peer-bench runner). Each filter sees only the survivors of the ones before it (the table's note gives how many).
- ``gristmill like-for-like``: the same four rule sets (``filter: preset: [fineweb]``, datatrove's thresholds and
  reason names) over the signal families they need (``quality: families: [gopher, repetition, c4, fineweb]``),
  every document treated as English as datatrove treats it (``lang: en`` in the input), no language ID,
  normalisation or dedup. The difference that remains: gristmill computes all those signals for every
  document (none is skipped for an earlier rejection), writes the rejected documents with their reasons and
  the data report. The table gives the share of documents on which both tools decide the same way.
- ``gristmill default recipe``: ``gristmill run`` without a recipe (``recipes/default.yaml``: normalize NFC,
  langid, exact dedup, all 49 signals, the bilingual preset: the FineWeb chain for English, zh-web for Chinese):
  more work than datatrove's chain, on the same file.
- ``gristmill default, no C core``: the same with ``GRISTMILL_PURE_PYTHON=1`` (the Python reference of the
  signals); it must keep the same documents. ``--skip-python`` leaves it out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import count_lines, fmt, interleaved, load_average  # noqa: E402

LIKE_FOR_LIKE = """
output:
  format: jsonl
steps:
  - step: quality
    families: [gopher, repetition, c4, fineweb]
  - step: filter
    preset: [fineweb]
"""


def split(corpus: Path, tmp: Path, sample: int) -> dict[str, Path]:
    """English (sampled) and Chinese files, and copies in ``in-LANG-as-en/`` that carry ``lang: en`` for the
    like-for-like run."""
    langs = {}
    with open(corpus / "plain.meta.jsonl") as f:
        for line in f:
            m = json.loads(line)
            langs[m["id"]] = m["lang"]
    # one folder per file: datatrove's JsonlReader takes every file whose name ends with the glob given
    files = {lang: tmp / f"in-{lang}" / f"{lang}.jsonl" for lang in ("en", "zh")}
    for lang, p in files.items():
        p.parent.mkdir()
        (tmp / f"in-{lang}-as-en").mkdir()
    outs = {lang: open(p, "w") for lang, p in files.items()}  # noqa: SIM115
    as_en = {lang: open(tmp / f"in-{lang}-as-en" / f"{lang}.jsonl", "w") for lang in files}  # noqa: SIM115
    with open(corpus / "plain.jsonl") as f:
        for line in f:
            rec = json.loads(line)
            lang = langs[rec["id"]]
            if lang == "en" and sample > 1 and zlib.crc32(rec["id"].encode()) % sample:
                continue
            outs[lang].write(line)
            as_en[lang].write(json.dumps({**rec, "lang": "en"}, ensure_ascii=False) + "\n")
    for o in (*outs.values(), *as_en.values()):
        o.close()
    return files


def ids(folder: Path) -> set[str]:
    out = set()
    for f in folder.rglob("*.jsonl*"):
        with open(f) as g:
            out.update(json.loads(line)["id"] for line in g)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, type=Path)
    ap.add_argument("--datatrove-python", required=True)
    ap.add_argument("--peer-bench", default=str(HERE.parent.parent / "shared" / "peer-bench"))
    ap.add_argument("--sample", type=int, default=8, help="English: keep ids with CRC32 %% K == 0 (1: all)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--results", default=str(HERE / "results" / "quality.json"))
    ap.add_argument("--skip-datatrove", action="store_true")
    ap.add_argument("--skip-python", action="store_true", help="no run without the C core")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    rows = []
    load_start = load_average()
    try:
        files = split(a.corpus, tmp, a.sample)
        (tmp / "like.yaml").write_text(LIKE_FOR_LIKE)
        base_env = {k: v for k, v in os.environ.items() if k != "GRISTMILL_PURE_PYTHON"}
        for lang, path in files.items():
            docs = count_lines(path)
            mb = os.path.getsize(path) / 1e6
            as_en = tmp / f"in-{lang}-as-en" / f"{lang}.jsonl"
            gm = [sys.executable, "-m", "gristmill", "run"]
            tail = ["--workers", "1", "--quiet", "--no-resume"]
            configs = {
                "gristmill like-for-like": (gm + [str(tmp / "like.yaml"), "-i", str(as_en), "-o",
                                                  str(tmp / f"like-{lang}")] + tail, base_env, tmp / f"like-{lang}"),
                "gristmill default recipe": (gm + ["-i", str(path), "-o", str(tmp / f"default-{lang}")] + tail,
                                             base_env, tmp / f"default-{lang}"),
            }
            if not a.skip_python:
                configs["gristmill default, no C core"] = (
                    gm + ["-i", str(path), "-o", str(tmp / f"python-{lang}")] + tail,
                    base_env | {"GRISTMILL_PURE_PYTHON": "1"}, tmp / f"python-{lang}")
            if not a.skip_datatrove:
                out = tmp / f"dt-{lang}"
                configs = {"datatrove": ([a.datatrove_python, f"{a.peer_bench}/bench_filters_datatrove.py", "--input",
                                          str(path), "--out", str(out), "--workers", "1"], None, out)} | configs
            timings = interleaved({tool: (cmd, env, lambda o=out: shutil.rmtree(o, ignore_errors=True))
                                   for tool, (cmd, env, out) in configs.items()}, a.repeats)
            for tool, (_, _, out) in configs.items():
                r = timings[tool]
                r.pop("stdout")
                row = {"tool": tool, "lang": lang, "docs": docs, "mb": round(mb, 1), **r}
                if tool == "datatrove":
                    row["kept_ids"] = ids(out / "kept")
                    summ = json.loads((out / "summary.json").read_text())
                    row["docs_seen_per_step"] = {s["name"]: s["stats"].get("total") for s in summ["steps"]
                                                 if isinstance(s["stats"], dict)}
                else:
                    row["kept_ids"] = ids(out / "kept")
                row["kept"] = len(row["kept_ids"])
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "kept_ids"}), flush=True)
            by = {r["tool"]: r for r in rows if r["lang"] == lang}
            if "gristmill default, no C core" in by and (by["gristmill default, no C core"]["kept_ids"]
                                                          != by["gristmill default recipe"]["kept_ids"]):
                raise SystemExit(f"{lang}: the C core and the Python reference kept different documents")
            if "datatrove" in by:
                dt = by["datatrove"]["kept_ids"]
                for r in by.values():
                    if r["tool"] != "datatrove":
                        r["same_decision_as_datatrove"] = round(1 - len(dt ^ r["kept_ids"]) / docs, 4)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_end = load_average()
    for r in rows:
        r.pop("kept_ids")
    print(f"\n{a.repeats} rounds of every configuration in turn, one worker; English: 1/{a.sample} sample of "
          f"plain.jsonl; load average (1/5/15 min) {load_start} at the start, {load_end} at the end, on a shared "
          "machine\n")
    print("| tool | lang | docs | MB | wall s median (min-max) | CPU s median (min-max) | docs per CPU s | "
          "MB per CPU s | peak RSS MB | kept | same decision as datatrove | x datatrove (wall / CPU) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        base = next((x for x in rows if x["tool"] == "datatrove" and x["lang"] == r["lang"]), None)
        w, c = r["wall_s"]["median"], r["cpu_s"]["median"]
        ratio = f"{base['wall_s']['median'] / w:.1f}x / {base['cpu_s']['median'] / c:.1f}x" if base else "-"
        same = f"{r['same_decision_as_datatrove']:.1%}" if "same_decision_as_datatrove" in r else "-"
        print(f"| {r['tool']} | {r['lang']} | {r['docs']:,} | {r['mb']} | {fmt(r['wall_s'])} | {fmt(r['cpu_s'])} | "
              f"{r['docs'] / c:,.0f} | {r['mb'] / c:.2f} | {r['peak_rss_mb']['median']:.0f} | {r['kept']:,} | "
              f"{same} | {ratio} |")
    for r in rows:
        if "docs_seen_per_step" in r:
            print(f"\ndatatrove {r['lang']}: documents each step saw: {r['docs_seen_per_step']}")
    os.makedirs(os.path.dirname(a.results), exist_ok=True)
    Path(a.results).write_text(json.dumps({"sample": a.sample, "repeats": a.repeats, "load_start": load_start,
                                           "load_end": load_end, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
