#!/usr/bin/env python3
"""Throughput per core of the default recipe beside the orjson floor, in one run: time per step, 1 and 2
workers, the Chinese part, a 4x input of distinct documents, and peak RSS per process.

    python bench/io.py --input /work/peers/corpus/plain.jsonl [--repeat 3] [--scale 4] [--results out.json]

Rows (each measurement in its own process, repeated ``--repeat`` times: median, min and max wall seconds):

- ``orjson``: read, parse, dump and write every line with orjson (the floor: no step does less);
- ``identity`` / ``identity-raw``: gristmill with no steps, JSONL -> Parquet (zstd / uncompressed);
- ``default w1`` / ``default w2``: the default recipe with one and two workers, its shards as the recipe
  plans them (``input.shard_size: auto``; ``--shard-size`` sets one instead); one worker runs the same
  shards in turn, and both write the same files;
- ``default w1 x2``: two ``default w1`` runs started together (separate processes and outputs): the same
  work with nothing serial and no stage tails, so 2 x its 1-worker wall over its wall is the ceiling this
  machine gives ``default w2`` (a shared or throttled 2-core host gives less than 2x);
- ``zh: orjson`` / ``zh: default w1``: the same on the Chinese documents of the input (when a
  ``plain.meta.jsonl`` with a ``lang`` per line lies beside it, as the peer-bench corpus has);
- ``zh x4: orjson`` / ``zh x4: default w1`` (``--scale``): the Chinese part 4 times over, built the same
  way as the ``x4`` rows, where the run's start-up (imports, models, report) weighs 4 times less;
- ``x4: identity`` / ``x4: default w1`` (``--scale``): a file 4 times the input built from distinct documents,
  so that exact dedup keeps them and every step sees 4 times the work: copy k > 0 of each document gets a new
  id and k-dependent character substitutions (about one character in 200, each replaced by another
  non-space character of the same document), enough that no two copies are equal.

Each measurement's process ends as the ``gristmill`` command's does (``gristmill.exec.exit``: no interpreter
teardown; it does not import the command line's typer). MB/s per core is input MB / wall / workers. Step seconds are the manifest's (CPU-bound, summed over workers).
Peak RSS is sampled from /proc every 0.1 s: the run's own process and the largest pool worker. The 1-minute
load average is printed before and after each row: the machine may be shared, so compare ratios within a run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

IDENTITY = "output:\n  format: parquet\n  compression: {comp}\nsteps: []\n"


def child(mode: str, inp: str, out: str, workers: int, shard_size: str) -> None:
    """Run one measurement in this process (called via --child)."""
    if mode == "orjson":
        import orjson

        n = 0
        with open(inp, "rb") as f, open(os.path.join(out, "copy.jsonl"), "wb") as g:
            for line in f:
                g.write(orjson.dumps(orjson.loads(line)) + b"\n")
                n += 1
        print(json.dumps({"docs": n}))
        return
    from gristmill.exec.owned import arrow_without_pandas

    arrow_without_pandas()  # this process runs gristmill only, as `gristmill run`'s does
    import gristmill
    from gristmill.params import Size
    from gristmill.recipe import load_recipe

    if mode.startswith("identity"):
        recipe = load_recipe(text=IDENTITY.format(comp="none" if mode.endswith("-raw") else "zstd"))
    else:
        recipe = load_recipe(path=str(Path(gristmill.__file__).parent / "recipes" / "default.yaml"))
        recipe.input.shard_size = shard_size if shard_size == "auto" else Size.parse(shard_size)
    step_cpu = _time_steps() if workers == 1 else {}
    m = gristmill.run(recipe, inputs=[inp], output=os.path.join(out, "run"), workers=workers, quiet=True,
                      resume=False)
    print(json.dumps({"docs": m["counts"]["input"], "kept": m["counts"]["kept"], "shards": m["shards"],
                      "steps": {s["name"]: s["seconds"] for s in m["steps"]},
                      "step_cpu": {k: round(v, 3) for k, v in step_cpu.items()}}))


def _time_steps() -> dict[str, float]:
    """CPU seconds per step kind, filled in as steps run in this process (one worker): each step class's
    ``process``, ``map_state`` and ``apply`` wrapped with a CPU clock (the manifest's seconds are wall
    seconds, which a shared machine inflates)."""
    import functools

    from gristmill.steps import REGISTRY

    out: dict[str, float] = {}
    for name, cls in REGISTRY.items():
        for meth in ("process", "map_state", "apply"):
            fn = cls.__dict__.get(meth)
            if fn is None:
                continue

            @functools.wraps(fn)
            def timed(*a, _fn=fn, _name=name, **kw):
                t0 = time.process_time()
                try:
                    return _fn(*a, **kw)
                finally:
                    out[_name] = out.get(_name, 0.0) + time.process_time() - t0

            setattr(cls, meth, timed)
    return out


def _tree(root: int) -> list[int]:
    """``root`` and its descendants (from /proc)."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def once(mode: str, inp: str, workers: int, shard_size: str) -> dict:
    """Wall seconds, the child's answer, peak RSS MB and CPU seconds of the run's own process and of its
    other processes (pool workers; RSS: the largest one, CPU: all of them)."""
    import resource

    out = tempfile.mkdtemp(prefix=f"bench-io-{mode.replace(' ', '_')}-")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, __file__, "--child", mode, "--input", inp, "--out", out,
                              "--workers", str(workers), "--shard-size", str(shard_size)],
                             stdout=subprocess.PIPE, text=True)
        peak: dict[int, float] = {}
        cpu: dict[int, float] = {}
        while p.poll() is None:
            for pid in _tree(p.pid):
                peak[pid] = max(peak.get(pid, 0.0), _rss_mb(pid))
                cpu[pid] = max(cpu.get(pid, 0.0), _cpu_s(pid))
            time.sleep(0.1)
        stdout = p.stdout.read()
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"{mode} failed")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the run and what it reaped, to its end
        reaped = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        own, own_cpu = peak.pop(p.pid, 0.0), cpu.pop(p.pid, 0.0)
        workers_cpu = sum(cpu.values())
        return {"wall": wall, "info": json.loads(stdout.strip().splitlines()[-1]), "rss_main": own,
                "rss_worker": max(peak.values(), default=0.0), "cpu_workers": workers_cpu,
                "cpu_main": max(own_cpu, reaped - workers_cpu), "cpu_own": own_cpu}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def measure(label: str, mode: str, inp: str, repeat: int, workers: int = 1, shard_size: str = "auto") -> dict:
    load0 = os.getloadavg()[0]
    runs = [once(mode, inp, workers, shard_size) for _ in range(repeat)]
    walls = [r["wall"] for r in runs]
    cpus = [r["cpu_main"] + r["cpu_workers"] for r in runs]
    info = runs[-1]["info"]
    size = os.path.getsize(inp)
    w, c = statistics.median(walls), statistics.median(cpus)
    return {"run": label, "workers": workers, "input_mb": round(size / 1e6, 1), "docs": info["docs"],
            "wall_s": round(w, 2), "wall_min": round(min(walls), 2), "wall_max": round(max(walls), 2),
            "cpu_s": round(c, 2), "cpu_min": round(min(cpus), 2), "cpu_max": round(max(cpus), 2),
            "cpu_main_s": round(statistics.median(r["cpu_main"] for r in runs), 2),
            "mb_per_s_core": round(size / 1e6 / w / workers, 2), "mb_per_cpu_s": round(size / 1e6 / c, 2),
            "docs_per_s": round(info["docs"] / w), "rss_main_mb": round(max(r["rss_main"] for r in runs)),
            "rss_worker_mb": round(max(r["rss_worker"] for r in runs)),
            "load": [round(load0, 2), round(os.getloadavg()[0], 2)],
            **{k: v for k, v in info.items() if k != "docs"}}


def measure_pair(label: str, inp: str, repeat: int, shard_size: str = "auto") -> dict:
    """Two 1-worker runs of the default recipe on ``inp`` started together, each in its own process and
    output: the same work as ``default w1`` twice, with no serial part and no stage tails, so
    ``2 x wall(default w1) / wall(this)`` is what this machine's 2 cores give a perfectly parallel job, the
    ceiling for ``default w2`` (a shared or throttled host gives less than 2)."""
    import threading

    load0 = os.getloadavg()[0]
    walls, cpus, rss = [], [], []
    for _ in range(repeat):
        res: list = [None, None]

        def one(i: int, res: list = res) -> None:
            res[i] = once("default", inp, 1, shard_size)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        walls.append(max(r["wall"] for r in res))
        cpus.append(sum(r["cpu_own"] + r["cpu_workers"] for r in res))  # from /proc: both runs are children here
        rss.append(max(r["rss_main"] for r in res))
    size = os.path.getsize(inp)
    w, c = statistics.median(walls), statistics.median(cpus)
    return {"run": label, "workers": 2, "input_mb": round(2 * size / 1e6, 1), "docs": 2 * res[0]["info"]["docs"],
            "wall_s": round(w, 2), "wall_min": round(min(walls), 2), "wall_max": round(max(walls), 2),
            "cpu_s": round(c, 2), "cpu_min": round(min(cpus), 2), "cpu_max": round(max(cpus), 2),
            "mb_per_s_core": round(size / 1e6 / w, 2), "mb_per_cpu_s": round(2 * size / 1e6 / c, 2),
            "rss_main_mb": round(max(rss)), "rss_worker_mb": 0, "load": [round(load0, 2), round(os.getloadavg()[0], 2)]}


def perturb(text: str, k: int, rng: random.Random) -> str:
    """Copy ``k`` of ``text``: about one character in 200 (at least one) replaced by another non-space
    character of the same text, at positions that depend on ``k``."""
    if k == 0 or not text:
        return text
    chars = [i for i in rng.sample(range(len(text)), min(len(text), max(1, len(text) // 200)))
             if not text[i].isspace()]
    pool = [c for c in text[:: max(1, len(text) // 500)] if not c.isspace()] or ["x"]
    out = list(text)
    for i in chars:
        out[i] = pool[rng.randrange(len(pool))]
        if out[i] == text[i]:
            alt = chr(ord(text[i]) ^ k)
            out[i] = alt if not alt.isspace() else "x"
    if not chars:  # all whitespace: add a mark
        out.append(str(k))
    return "".join(out)


def build_scaled(inp: str, scale: int, tmp: str) -> str:
    """The input ``scale`` times over, copy k > 0 of each document distinct (see :func:`perturb`)."""
    import orjson

    out = os.path.join(tmp, f"x{scale}.jsonl")
    with open(out, "wb") as g:
        for k in range(scale):
            with open(inp, "rb") as f:
                for n, line in enumerate(f):
                    rec = orjson.loads(line)
                    if k:
                        rec["id"] = f"{rec.get('id')}#{k}"
                        rec["text"] = perturb(rec["text"], k, random.Random(k * 1_000_003 + n))
                    g.write(orjson.dumps(rec) + b"\n")
    return out


def chinese_part(inp: str, tmp: str) -> str | None:
    """The lines of ``inp`` whose line in the ``plain.meta.jsonl`` beside it says ``lang: zh``."""
    meta = Path(inp).with_name(Path(inp).stem + ".meta.jsonl")
    if not meta.exists():
        return None
    out = os.path.join(tmp, "zh.jsonl")
    with open(inp, "rb") as f, open(meta, "rb") as m, open(out, "wb") as g:
        for line, info in zip(f, m, strict=True):
            if json.loads(info).get("lang") == "zh":
                g.write(line)
    return out


def table(rows: list[dict]) -> str:
    def floor_of(r: dict) -> dict:
        prefix = r["run"].split(":")[0] + ": " if ":" in r["run"] else ""
        return next((f for f in rows if f["run"] == prefix + "orjson"), rows[0])

    lines = ["| run | workers | input MB | docs | wall s median (min-max) | CPU s median (min-max) | MB/s per core "
             "(wall) | MB per CPU s | CPU per MB vs orjson floor | peak RSS MB main / worker | load before-after |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        fl = floor_of(r)
        lines.append(f"| {r['run']} | {r['workers']} | {r['input_mb']} | {r['docs']:,} | {r['wall_s']} "
                     f"({r['wall_min']}-{r['wall_max']}) | {r['cpu_s']} ({r['cpu_min']}-{r['cpu_max']}) | "
                     f"{r['mb_per_s_core']} | {r['mb_per_cpu_s']} | "
                     f"{r['cpu_s'] / fl['cpu_s'] * fl['input_mb'] / r['input_mb']:.1f}x | "
                     f"{r['rss_main_mb']} / {r['rss_worker_mb'] or '-'} | {r['load'][0]}-{r['load'][1]} |")
    steps = [r for r in rows if r.get("step_cpu")]
    if steps:
        names = list(steps[0]["step_cpu"])
        lines += ["", "CPU seconds per step (one worker; MB per CPU second in brackets; rest: reading, "
                  "writing, the run's set-up, exact dedup's reduce, the report):", "",
                  "| run | " + " | ".join(names) + " | rest |", "|---|" + "---:|" * (len(names) + 1)]
        for r in steps:
            cpu = r["step_cpu"]
            rest = r["cpu_s"] - sum(cpu.values())
            lines.append(f"| {r['run']} | " + " | ".join(
                f"{cpu.get(n, 0):.2f} ({r['input_mb'] / cpu[n] if cpu.get(n) else float('inf'):.0f})"
                for n in names) + f" | {rest:.2f} ({r['input_mb'] / rest if rest > 0 else float('inf'):.0f}) |")
    for prefix in sorted({r["run"][: -len("default w1")] for r in rows if r["run"].endswith("default w1")}):
        w1 = next((r for r in rows if r["run"] == prefix + "default w1"), None)
        w2 = next((r for r in rows if r["run"] == prefix + "default w2"), None)
        if w1 and w2:
            lines.append(f"\n{prefix}scaling 1 -> 2 workers: {w1['wall_s'] / w2['wall_s']:.2f}x by wall (medians; the "
                         f"load says how many other processes shared the 2 cores). CPU: 1 worker {w1['cpu_s']} s, 2 "
                         f"workers {w2['cpu_s']} s. The run's own process runs tasks too, so its CPU is not all "
                         f"serial: bench/scaling.py separates its serial phases from its tasks.")
            pair = next((r for r in rows if r["run"] == prefix + "default w1 x2"), None)
            if pair:
                ceiling = 2 * w1["wall_s"] / pair["wall_s"]
                lines.append(f"{prefix}this machine's ceiling: two 1-worker runs at once take {pair['wall_s']} s, one "
                             f"alone {w1['wall_s']} s: {ceiling:.2f}x for a perfectly parallel job; the 2-worker run "
                             f"reaches {w1['wall_s'] / w2['wall_s'] / ceiling:.0%} of it.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True)
    ap.add_argument("--child")
    ap.add_argument("--out")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--shard-size", default="auto", help="input.shard_size of the default-recipe rows "
                    "(default: auto, the recipe's default)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=int, default=4, help="0: no scaled rows")
    ap.add_argument("--scale-repeat", type=int, help="repeats of the scaled rows (default: --repeat)")
    ap.add_argument("--only", help="comma-separated run labels to measure (default: all)")
    ap.add_argument("--results", default=str(HERE / "results" / "io.json"))
    a = ap.parse_args()
    if a.child:
        child(a.child, a.input, a.out, a.workers, a.shard_size)
        try:
            from gristmill.exec.exit import exit_process
        except ImportError:  # an older gristmill (PYTHONPATH), for a before/after comparison: as it ended
            return
        exit_process(0)  # as the `gristmill` command ends: no interpreter teardown
    shard = a.shard_size
    tmp = tempfile.mkdtemp(prefix="bench-io-")
    rows = []
    only = set(a.only.split(",")) if a.only else None

    def row(label: str, *args, **kw) -> None:
        if only is None or label in only:
            rows.append(measure(label, *args, **kw))
            print(json.dumps(rows[-1]), flush=True)

    try:
        row("orjson", "orjson", a.input, a.repeat)
        row("identity", "identity", a.input, a.repeat)
        row("identity-raw", "identity-raw", a.input, a.repeat)
        row("default w1", "default", a.input, a.repeat, 1, shard)
        row("default w2", "default", a.input, a.repeat, 2, shard)
        if only is None or "default w1 x2" in only:
            rows.append(measure_pair("default w1 x2", a.input, a.repeat, shard))
            print(json.dumps(rows[-1]), flush=True)
        zh = chinese_part(a.input, tmp)
        if zh:
            row("zh: orjson", "orjson", zh, a.repeat)
            row("zh: default w1", "default", zh, a.repeat, 1, shard)
        if a.scale > 1:
            big = build_scaled(a.input, a.scale, tmp)
            rep = a.scale_repeat or a.repeat
            row(f"x{a.scale}: orjson", "orjson", big, rep)
            row(f"x{a.scale}: identity", "identity", big, rep)
            row(f"x{a.scale}: default w1", "default", big, rep, 1, shard)
            row(f"x{a.scale}: default w2", "default", big, rep, 2, shard)
            if zh:  # the Chinese part is small (~10 MB): start-up is a large share of it; x N shows the rate
                zbig = build_scaled(zh, a.scale, tmp)
                row(f"zh x{a.scale}: orjson", "orjson", zbig, rep)
                row(f"zh x{a.scale}: default w1", "default", zbig, rep, 1, shard)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nmachine: {os.cpu_count()} cores; input.shard_size of the default-recipe rows: {shard}\n")
    print(table(rows))
    os.makedirs(os.path.dirname(a.results), exist_ok=True)
    Path(a.results).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
