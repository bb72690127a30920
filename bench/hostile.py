"""Time and peak RSS of each hostile case of tests/test_hostile.py (generated on the fly, run in a subprocess
under the same address-space limit), with a plain run of the same good file as the baseline.

    .venv/bin/python bench/hostile.py            # every case, the 200 MB line included
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import test_hostile as T  # noqa: E402


def baseline(d: Path) -> T.Case:
    T._good(d)
    return T._run(d, T._recipe(d), expect={"kept": 5})


def baseline_validate(d: Path) -> T.Case:
    (d / "ok.yaml").write_text("steps:\n  - step: langid\n    keep: [en, zh]\n")
    return T.Case(["validate", str(d / "ok.yaml")])


def gzip_1gb_no_limit(d: Path) -> T.Case:
    """The 1 GiB gzip bomb read to its end (max_expansion: 0): one 1 GiB line, quarantined with 4 KiB."""
    case = T.gzip_bomb(d)
    (d / "r.yaml").write_text((d / "r.yaml").read_text().replace("max_expansion: 20", "max_expansion: 0"))
    case.expect = {"kept": 5, "quarantined": 1, "quarantine_max": 30_000}  # NULs: 6 B each in JSON
    case.timeout = 300
    return case


def measure(case: T.Case) -> tuple[float, float, int, str]:
    env = {**os.environ, "HOSTILE_AS": str(case.mem), "HOSTILE_PRELUDE": case.prelude}
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "@@%M", sys.executable, "-c", T.DRIVER, *case.args],
                       capture_output=True, text=True, timeout=case.timeout, env=env)
    wall = time.perf_counter() - t
    rss = int(re.findall(r"@@(\d+)", r.stderr)[-1]) / 1024
    if case.expect:
        T.check(case, r)
    if case.out is not None:
        m = json.loads((case.out / "manifest.json").read_text())
        c = m["counts"]
        q = sum(p.stat().st_size for p in (case.out / "quarantine").glob("*")) if (
            case.out / "quarantine").exists() else 0
        what = f"in {c['input']} kept {c['kept']} quar {c['quarantined']}; quarantine {q:,} B"
    else:
        msg = [x for x in (r.stdout + r.stderr).splitlines() if x.strip() and not x.startswith(("@@", "Command exited"))]
        what = msg[-1][:90]
    return wall, rss, r.returncode, what


def main() -> None:
    print(f"{'case':<24} {'wall s':>7} {'peak MB':>8} {'exit':>4}  outcome")
    for make in [baseline, baseline_validate, *T.RECIPES, *T.INPUTS, *T.SLOW, gzip_1gb_no_limit]:
        with tempfile.TemporaryDirectory() as tmp:
            case = make(Path(tmp))
            wall, rss, rc, what = measure(case)
            print(f"{make.__name__:<24} {wall:7.2f} {rss:8.0f} {rc:4d}  {what}", flush=True)


if __name__ == "__main__":
    main()
