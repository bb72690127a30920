"""Helpers shared by the benchmark scripts: timing a command under /usr/bin/time -v."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def timed(cmd: list[str]) -> dict:
    """Run ``cmd`` under ``/usr/bin/time -v``: wall seconds, peak RSS (MB) and its stdout."""
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", r.stderr)
    h, m, s = (float(x) if x else 0.0 for x in wall.groups())
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    return {"wall_s": round(h * 3600 + m * 60 + s, 2), "peak_rss_mb": round(rss / 1024, 1), "stdout": r.stdout}


def count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)
