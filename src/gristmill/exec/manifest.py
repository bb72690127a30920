"""The run manifest: recipe and hash, versions, inputs, per-step counts, timings and the reconciliation
``input = kept + rejected + quarantined``, built from the tasks' completion markers."""

from __future__ import annotations

import platform
import sys
from collections import Counter

from gristmill.version import PACKAGES, __version__, versions  # noqa: F401 - their old home


def build(recipe, shards, stages, markers: dict[tuple[int, int], dict], *, started: str, finished: str,
          wall: float, workers: int, output: str) -> dict:
    steps: dict[str, dict] = {}
    order = []
    for st in stages:
        for spec in ([st.apply] if st.apply else []) + st.maps:
            order.append(spec.label)
            steps[spec.label] = {"step": spec.step, "in": 0, "kept": 0, "rejected": Counter(), "seconds": 0.0,
                                 "bytes_in": 0, "bytes_kept": 0}
    read = {"records": 0, "blank_lines": 0, "skipped": 0, "bytes": 0, "quarantined": 0}
    problems = []
    encodings: dict[str, dict] = {}   # how each text/JSONL/CSV file was decoded (the same for all its shards)
    files: dict[str, list[str]] = {"kept": [], "rejected": [], "quarantine": []}
    last = len(stages) - 1
    kept = 0
    bytes_in = bytes_kept = 0
    chain_ok = True
    for (s, i), m in sorted(markers.items()):
        for label, v in m["steps"].items():
            d = steps[label]
            d["in"] += v["in"]
            d["kept"] += v["kept"]
            d["rejected"].update(v["rejected"])
            d["seconds"] += v["seconds"]
            d["bytes_in"] += v.get("bytes_in", 0)
            d["bytes_kept"] += v.get("bytes_kept", 0)
            if v.get("notes"):  # counts a step reports (e.g. toxicity: where each document's language came from)
                d.setdefault("notes", Counter()).update(v["notes"])
        for f in m["files"]:
            files[f.split("/", 1)[0]].append(f)
        if s == 0:
            r = m["read"]
            for k in read:
                read[k] += r.get(k, 0)
            problems += [{"shard": i, "path": shards[i].path, "problem": p} for p in r["problems"]]
            if r.get("encoding"):
                encodings.setdefault(shards[i].path, r["encoding"])
            bytes_in += m["text_bytes_in"]
            chain_ok &= r["records"] == m["in"]
        else:
            chain_ok &= markers[(s - 1, i)]["out"] == m["in"]
        if s == last:
            kept += m["out"]
            bytes_kept += m["text_bytes_out"]
    rejected = sum(sum(v["rejected"].values()) for v in steps.values())
    total_in = read["records"] + read["quarantined"]
    for v in steps.values():
        chain_ok &= v["in"] == v["kept"] + sum(v["rejected"].values())
        v["rejected"] = dict(sorted(v["rejected"].items()))
        if "notes" in v:
            v["notes"] = dict(sorted(v["notes"].items()))
        v["seconds"] = round(v["seconds"], 3)
    reconciled = chain_ok and total_in == kept + rejected + read["quarantined"]
    by_file: dict[str, dict] = {}
    for sh in shards:
        e = by_file.setdefault(sh.path, {"path": sh.path, "format": sh.format, "compression": sh.compression,
                                         "shards": 0, "bytes": 0})
        e["shards"] += 1
        e["bytes"] += sh.size
        if sh.path in encodings:
            e["encoding"] = encodings[sh.path]
    return {
        "gristmill_version": __version__,
        "recipe": recipe.to_dict(),
        "recipe_file": recipe.file,
        "recipe_hash": recipe.plan_hash(),
        "versions": versions(),
        "platform": {"system": platform.system(), "machine": platform.machine(), "argv": sys.argv[1:]},
        "inputs": list(by_file.values()),
        "input_problems": problems,
        "shards": len(shards),
        "workers": workers,
        "started": started,
        "finished": finished,
        "wall_seconds": round(wall, 3),
        "steps": [{"name": k, **steps[k]} for k in order],
        "read": read,
        "counts": {"input": total_in, "kept": kept, "rejected": rejected, "quarantined": read["quarantined"]},
        "bytes": {"input_file_bytes": read["bytes"], "input_text": bytes_in, "kept_text": bytes_kept},
        "reconciled": reconciled,
        "output": output,
        "files": {k: sorted(v) for k, v in files.items()},
    }
