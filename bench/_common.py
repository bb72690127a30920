"""Helpers shared by the benchmark scripts: timing a command under /usr/bin/time -v, repeats summarised as
median (min-max) with the machine's load average, so a table says how noisy its figures are.

>>> s = spread([3.0, 1.0, 2.0]); (s["median"], s["min"], s["max"], fmt(s))
(2.0, 1.0, 3.0, '2.0 (1.0-3.0)')
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path


def timed(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd`` under ``/usr/bin/time -v``: wall seconds, CPU seconds (user + system, its children
    included), peak RSS (MB) and its stdout."""
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", r.stderr)
    h, m, s = (float(x) if x else 0.0 for x in wall.groups())
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", r.stderr).group(1)) for k in ("User", "System"))
    return {"wall_s": round(h * 3600 + m * 60 + s, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": round(rss / 1024, 1),
            "stdout": r.stdout}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages of the machine (runnable processes; > the core count: contention)."""
    return [round(x, 2) for x in os.getloadavg()]


def spread(values: list[float]) -> dict:
    """Median, min and max of repeated measurements."""
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def fmt(s: dict, digits: int = 1) -> str:
    """``median (min-max)`` of a :func:`spread`."""
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def repeat_timed(cmd: list[str], n: int = 3, env: dict | None = None,
                 before: Callable[[], None] | None = None) -> dict:
    """Run ``cmd`` ``n`` times with :func:`timed` (``before()`` untimed ahead of each run, e.g. clearing an
    output folder): wall and CPU seconds and peak RSS as :func:`spread`, the load average before each run,
    every run's figures, and the last run's stdout (its output folder is left as the last run wrote it)."""
    return interleaved({"": (cmd, env, before)}, n)[""]


def interleaved(jobs: dict[str, tuple], n: int = 3) -> dict[str, dict]:
    """:func:`repeat_timed` for several commands ``{label: (cmd, env, before)}``, run in rounds (each command
    once per round) so that a change in the machine's load affects every command alike: the ratios between
    them stay meaningful on a shared machine. CPU seconds vary less than wall seconds under contention."""
    runs: dict[str, list] = {k: [] for k in jobs}
    loads: dict[str, list] = {k: [] for k in jobs}
    out: dict[str, str] = {}
    for _ in range(n):
        for label, (cmd, env, before) in jobs.items():
            if before:
                before()
            loads[label].append(load_average()[0])
            r = timed(cmd, env=env)
            out[label] = r.pop("stdout")
            runs[label].append(r)
    return {k: {**{m: spread([r[m] for r in runs[k]]) for m in ("wall_s", "cpu_s", "peak_rss_mb")},
                "load1": spread(loads[k]), "runs": runs[k], "stdout": out[k]} for k in jobs}


def count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def run_speed(recipe_yaml: str, corpus: Path) -> dict:
    """Run ``gristmill run`` with one worker on ``corpus``: docs/s and MB/s per core, and each step's seconds."""
    import json
    import sys
    import tempfile
    import time

    tmp = Path(tempfile.mkdtemp())
    (tmp / "r.yaml").write_text(recipe_yaml)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gristmill", "run", str(tmp / "r.yaml"), "-i", str(corpus), "-o",
                    str(tmp / "o"), "-w", "1", "--quiet"], check=True)
    wall = time.perf_counter() - t0
    m = json.loads((tmp / "o" / "manifest.json").read_text())
    mb = corpus.stat().st_size / 1e6
    return {"docs": m["counts"]["input"], "mb": round(mb, 1), "wall_s": round(wall, 2),
            "docs_per_s": round(m["counts"]["input"] / wall), "mb_per_s": round(mb / wall, 2),
            "step_seconds": {st["name"]: st["seconds"] for st in m["steps"]}}


SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_text_corpus(out: Path, n: int | None = None) -> Path:
    """The real English and Chinese texts of ../shared/data (text_en, then text_zh) as one JSONL file of
    ``{"id": "FILE:LINE", "text": …}``, at most ``n`` documents."""
    import gzip
    import json

    rows = []
    for p in sorted((SHARED / "text_en").glob("*.jsonl*")) + sorted((SHARED / "text_zh").glob("*.jsonl*")):
        with (gzip.open(p, "rt", encoding="utf-8") if p.suffix == ".gz" else open(p, encoding="utf-8")) as f:
            for i, line in enumerate(f):
                d = json.loads(line)
                if isinstance(d.get("text"), str):
                    rows.append({"id": f"{p.name}:{i}", "text": d["text"]})
    with open(out, "w", encoding="utf-8") as f:
        for r in rows[:n]:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return out
