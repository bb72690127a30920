"""``gristmill analyze``: the report of any dataset, without a run.

Each shard is read, measured (language ID, quality signals, PII counts; any numeric fields already in the
data are signals too) and profiled in a process pool; exact-duplicate text hashes are counted as well. Nothing is
written but the report, ``analysis.json`` and ``profile.json``.

>>> import tempfile, json, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.jsonl").write_text("".join(json.dumps({"text": t}) + "\\n" for t in ["Hello there.", "Hello there.", "再见。"]))
>>> a = analyze([str(d / "a.jsonl")], str(d / "rep"), workers=1, quality=False)
>>> a["summary"]["docs_in"], a["duplicates"]["steps"]["exact duplicates (text hash)"]["duplicates"]
(3, 1)
"""

from __future__ import annotations

import datetime as dt
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import xxhash

from gristmill.errors import GristmillError
from gristmill.io.paths import plan_shards
from gristmill.io.readers import ReadOptions, read_shard
from gristmill.report.profile import Profile
from gristmill.report.run_report import _write, write_report


def _steps(lang: bool, quality: bool, pii: bool):
    from gristmill.recipe import parse_recipe

    steps = []
    if lang:
        steps.append({"step": "langid"})
    if quality:
        steps.append({"step": "quality"})
    if pii:
        steps.append({"step": "pii", "action": "keep"})
    recipe = parse_recipe({"name": "analyze", "steps": steps}, "<analyze>")
    built = []
    for spec in recipe.steps:
        s = spec.build()
        s.setup()
        built.append(s)
    return built


def _shard(args) -> tuple[dict, np.ndarray, dict]:
    shard, opts, n_shards, flags = args
    steps = _steps(*flags)
    profile = Profile(n_shards)
    hashes = []
    counts = {"records": 0, "quarantined": 0, "problems": []}
    for rb in read_shard(shard, opts):
        counts["quarantined"] += len(rb.quarantine)
        if rb.problem:
            counts["problems"].append(rb.problem)
        table = rb.table
        if table is None or table.num_rows == 0:
            continue
        counts["records"] += table.num_rows
        for step in steps:
            table = step.process(table).table
        texts = table.column("text").to_pylist()
        hashes.append(np.array([xxhash.xxh3_64_intdigest(" ".join(t.split()).encode()) for t in texts],
                               dtype=np.uint64))
        profile.add(table, "kept", source=shard.path)
    return profile.to_dict(), (np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)), counts


def exact_clusters(hashes: np.ndarray) -> dict:
    """Duplicates and the histogram of cluster sizes (clusters of two or more) from text hashes.

    >>> exact_clusters(np.array([1, 1, 2, 3, 3, 3], dtype=np.uint64))
    {'duplicates': 3, 'clusters': 2, 'cluster_sizes': {'2': 1, '3': 1}}
    """
    if not len(hashes):
        return {"duplicates": 0, "clusters": 0, "cluster_sizes": {}}
    _, sizes = np.unique(hashes, return_counts=True)
    big = sizes[sizes > 1]
    hist = np.bincount(big) if len(big) else np.zeros(0, int)
    return {"duplicates": int((big - 1).sum()), "clusters": int(len(big)),
            "cluster_sizes": {str(k): int(v) for k, v in enumerate(hist) if v}}


def analyze(paths: list[str], output: str, *, fmt: str = "auto", text_field: str = "text", id_field: str = "id",
            workers: int = 1, lang: bool = True, quality: bool = True, pii: bool = True,
            recipe: str | None = None) -> dict:
    """Profile ``paths`` and write ``output/report.html``; returns the analysis. The signal histograms show the
    thresholds of ``recipe`` (default: the default recipe's, i.e. what ``gristmill run`` would cut)."""
    from gristmill.report.thresholds import thresholds

    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    shards = plan_shards(paths, fmt)
    if not shards:
        raise GristmillError(f"no readable input in {', '.join(paths)}", hint="pass JSONL, Parquet or text files")
    opts = ReadOptions(text_field=text_field, id_field=id_field)
    jobs = [(sh, opts, len(shards), (lang, quality, pii)) for sh in shards]
    if workers <= 1 or len(shards) == 1:
        results = [_shard(j) for j in jobs]
    else:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=min(workers, len(shards)), mp_context=mp.get_context("forkserver")) as ex:
            results = list(ex.map(_shard, jobs))
    profile = Profile.merge([r[0] for r in results])
    hashes = np.concatenate([r[1] for r in results])
    read = {"records": sum(r[2]["records"] for r in results), "quarantined": sum(r[2]["quarantined"] for r in results)}
    os.makedirs(output, exist_ok=True)
    import orjson

    from gristmill.report.analysis import finite
    from gristmill.version import versions

    _write(os.path.join(output, "profile.json"), orjson.dumps(finite(profile.to_dict())))
    measured = [n for n, on in (("language", lang), ("quality signals", quality), ("PII", pii)) if on]
    extra = {"inputs": sorted({s.path for s in shards}), "measured": measured, "started": started,
             "wall_seconds": round(time.perf_counter() - t0, 3), "versions": versions(),
             "quarantined": read["quarantined"],
             "input_problems": [p for r in results for p in r[2]["problems"]]}
    from gristmill.recipe import load_recipe

    th = thresholds(load_recipe(recipe).to_dict()) if quality or recipe else None  # default: the default recipe's
    title = "analysis of " + ", ".join(os.path.basename(p.rstrip("/")) or p for p in paths[:3])
    write_report(output, None, profile, title=title, thresholds=th, extra_summary=extra,
                 extra_duplicates={"exact duplicates (text hash)": exact_clusters(hashes)})
    with open(os.path.join(output, "analysis.json"), "rb") as f:
        return orjson.loads(f.read())

