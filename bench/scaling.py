#!/usr/bin/env python3
"""How the local executor scales from 1 to N workers: where the run process spends CPU, and when workers idle.

    python bench/scaling.py --input /work/peers/corpus/plain.jsonl [--shards 8] [--workers 1,2] [--repeat 3]

Each run is the default recipe (started and checked from its YAML as ``gristmill run`` does,
its shards as the recipe plans them (``input.shard_size: auto``), or ``--shards`` of them) in a fresh process. Runs of different worker counts are interleaved
(one of each per round) so a change in the machine's load hits them alike. Per run:

- **run process CPU** (``getrusage(RUSAGE_SELF)``) and its phases (recipe check, planning, exact-dedup
  reduce, unify, manifest, report, card): wall and CPU seconds each;
- **worker CPU**: the tasks' own CPU seconds (the run process runs tasks too) and each pool process's
  total (both from the task markers' ``timing``), so start-up and set-up outside tasks show too; the run
  process's CPU is given without the tasks it ran;
- **timeline**: per stage, its span (first task start to last task end) and the idle worker-seconds in it
  (``workers x span - task seconds``): the tail of a stage where fewer tasks than workers remain; and the
  serial wall time when no task runs at all (start-up, reduce, between stages, the end of the run);
- **Amdahl bound**: ``cpu(1 worker) / (run-process CPU with N + worker CPU with 1 / N)``, what N free cores
  could give for the same work (the workers' CPU of the 1-worker run: a loaded machine inflates CPU seconds
  when more processes share the cores).

The wall ratio 1 -> N is printed with the 1-minute load average before each run: it means something only
when the load stays well below the core count minus N (a shared machine's other processes take cores).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PHASES = {  # module -> functions of the run process timed as phases
    "gristmill.recipe_check": ["check_recipe"],
    "gristmill.exec.local": ["plan_shards", "_prepare", "_reduce", "unify", "write_card"],
    "gristmill.exec.manifest": ["build"],
    "gristmill.report": ["write_run_report"],
}


def _instrument(log: list) -> None:
    """Wrap the run process's phases with wall and CPU clocks (generators: their whole iteration)."""
    import functools
    import importlib
    import inspect

    for mod_name, names in PHASES.items():
        mod = importlib.import_module(mod_name)
        for name in names:
            fn = getattr(mod, name)

            if inspect.isgeneratorfunction(fn):
                @functools.wraps(fn)
                def gen(*a, _fn=fn, _name=name, **kw):
                    t0, c0 = time.time(), time.process_time()
                    try:
                        yield from _fn(*a, **kw)
                    finally:
                        log.append((_name, t0, time.time(), time.process_time() - c0))
                setattr(mod, name, gen)
            else:
                @functools.wraps(fn)
                def call(*a, _fn=fn, _name=name, **kw):
                    t0, c0 = time.time(), time.process_time()
                    try:
                        return _fn(*a, **kw)
                    finally:
                        log.append((_name, t0, time.time(), time.process_time() - c0))
                setattr(mod, name, call)


def child(inp: str, out: str, workers: int, shard_size: str) -> None:
    """One run in this process; prints its figures as JSON."""
    t_start = time.time()
    try:
        from gristmill.exec.pool import prestart
    except ImportError:  # an older gristmill (PYTHONPATH), for a before/after comparison
        pass
    else:
        prestart(workers)  # as `gristmill run` does, before its heavy imports
    import gristmill

    log: list = []
    _instrument(log)
    recipe = Path(out) / "recipe.yaml"
    text = (Path(gristmill.__file__).parent / "recipes" / "default.yaml").read_text()
    recipe.write_text(text.replace("input:\n", f"input:\n  shard_size: {shard_size}\n", 1))
    t0 = time.time()
    m = gristmill.run(str(recipe), inputs=[inp], output=os.path.join(out, "run"), workers=workers, quiet=True,
                      resume=False)
    t1 = time.time()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    tasks = []
    for p in sorted(glob.glob(os.path.join(out, "run", "_work", "done", "s*.json"))):
        with open(p) as f:
            d = json.load(f)
        tasks.append({"stage": d["stage"], "shard": d["shard"], **d["timing"]})
    print(json.dumps({"docs": m["counts"]["input"], "kept": m["counts"]["kept"], "shards": m["shards"],
                      "pid": os.getpid(), "t_start": t_start, "t_run": t0, "t_end": t1, "main_cpu": ru.ru_utime + ru.ru_stime,
                      "phases": log, "tasks": tasks}))


def analyse(r: dict, workers: int) -> dict:
    """Serial time, idle worker-seconds per stage and CPU split of one run's figures."""
    tasks = r["tasks"]
    wall = r["t_end"] - r["t_start"]
    own = sum(t["cpu"] for t in tasks if t["pid"] == r["pid"])  # tasks the run process ran itself
    pool = {t["pid"] for t in tasks} - {r["pid"]}
    worker_cpu = own + sum(max(t["process_cpu"] for t in tasks if t["pid"] == pid) for pid in pool)
    task_cpu = sum(t["cpu"] for t in tasks)
    main_cpu = r["main_cpu"] - own
    stages = {}
    for s in sorted({t["stage"] for t in tasks}):
        ts = [t for t in tasks if t["stage"] == s]
        lo, hi = min(t["start"] for t in ts), max(t["end"] for t in ts)
        busy = sum(t["end"] - t["start"] for t in ts)
        stages[s] = {"tasks": len(ts), "span": hi - lo, "busy": busy,
                     "idle": workers * (hi - lo) - busy, "start": lo - r["t_start"], "end": hi - r["t_start"]}
    covered = sum(v["span"] for v in stages.values())
    phases: dict[str, list[float]] = {}
    for name, a, b, cpu in r["phases"]:
        e = phases.setdefault(name, [0.0, 0.0])
        e[0] += b - a
        e[1] += cpu
    return {"wall": wall, "main_cpu": main_cpu, "worker_cpu": worker_cpu, "task_cpu": task_cpu,
            "serial_wall": wall - covered, "tail_idle": sum(v["idle"] for v in stages.values()),
            "stages": stages, "phases": {k: [round(x, 3) for x in v] for k, v in phases.items()},
            "timeline": [{"stage": t["stage"], "shard": t["shard"], "own": t["pid"] == r["pid"], "pid": t["pid"],
                          "start": round(t["start"] - r["t_start"], 3), "end": round(t["end"] - r["t_start"], 3)}
                         for t in sorted(tasks, key=lambda t: t["start"])]}


def once(inp: str, workers: int, shard_size: str) -> dict:
    out = tempfile.mkdtemp(prefix=f"bench-scaling-w{workers}-")
    try:
        load = os.getloadavg()[0]
        p = subprocess.run([sys.executable, __file__, "--child", "--input", inp, "--out", out,
                            "--workers", str(workers), "--shard-size", str(shard_size)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(p.stderr[-3000:])
        r = json.loads(p.stdout.strip().splitlines()[-1])
        return {"load": load, **analyse(r, workers), "docs": r["docs"], "shards": r["shards"]}
    finally:
        import shutil

        shutil.rmtree(out, ignore_errors=True)


def median(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def summary(by_w: dict[int, list[dict]]) -> str:
    w1 = by_w.get(1)
    lines = ["| workers | wall s | run-process CPU s | worker CPU s (tasks) | serial wall s | idle worker-s in "
             "stages | Amdahl bound vs 1 | wall ratio vs 1 | load |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for w, runs in sorted(by_w.items()):
        cpu1 = (median(w1, "main_cpu") + median(w1, "worker_cpu")) if w1 else None
        bound = cpu1 / (median(runs, "main_cpu") + median(w1, "worker_cpu") / w) if cpu1 else None
        ratio = median(w1, "wall") / median(runs, "wall") if w1 else None
        lines.append(f"| {w} | {median(runs, 'wall')} | {median(runs, 'main_cpu')} | {median(runs, 'worker_cpu')} "
                     f"({median(runs, 'task_cpu')}) | {median(runs, 'serial_wall')} | {median(runs, 'tail_idle')} | "
                     f"{bound and f'{bound:.2f}x'} | {ratio and f'{ratio:.2f}x'} | "
                     f"{min(r['load'] for r in runs):.2f}-{max(r['load'] for r in runs):.2f} |")
    lines.append("\nrun-process phases (median wall s / CPU s):")
    for w, runs in sorted(by_w.items()):
        names = list(runs[0]["phases"])
        cells = ", ".join(f"{n} {statistics.median(r['phases'][n][0] for r in runs):.2f}/"
                          f"{statistics.median(r['phases'][n][1] for r in runs):.2f}" for n in names)
        lines.append(f"- {w} worker(s): {cells}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True)
    ap.add_argument("--shards", type=int, help="cut the input into this many shards (default: input.shard_size: "
                    "auto, the recipe's default)")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--results", help="write every run's figures here (JSON)")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--shard-size")
    a = ap.parse_args()
    if a.child:
        child(a.input, a.out, int(a.workers), a.shard_size)
        return
    shard_size = str(-(-os.path.getsize(a.input) // a.shards)) if a.shards else "auto"
    counts = [int(w) for w in a.workers.split(",")]
    by_w: dict[int, list[dict]] = {w: [] for w in counts}
    for _ in range(a.repeat):
        for w in counts:
            by_w[w].append(once(a.input, w, shard_size))
            print(json.dumps({"workers": w, **{k: v for k, v in by_w[w][-1].items()
                                                if k not in ("phases", "timeline")}},
                             default=lambda x: round(x, 3)), flush=True)
    print(summary(by_w))
    if a.results:
        Path(a.results).write_text(json.dumps({str(w): r for w, r in by_w.items()}, indent=1))


if __name__ == "__main__":
    main()
