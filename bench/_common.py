"""Helpers shared by the benchmark scripts: timing a command under /usr/bin/time -v."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def timed(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd`` under ``/usr/bin/time -v``: wall seconds, peak RSS (MB) and its stdout."""
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", r.stderr)
    h, m, s = (float(x) if x else 0.0 for x in wall.groups())
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    return {"wall_s": round(h * 3600 + m * 60 + s, 2), "peak_rss_mb": round(rss / 1024, 1), "stdout": r.stdout}


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
