"""What the data report costs: the default recipe with ``output.report`` on vs off, same corpus, same run.

    python bench/report.py [CORPUS.jsonl] [--docs N]

CORPUS defaults to the real English and Chinese texts of ../shared/data/text_en and text_zh (at most N
documents); the peer-bench corpus (shared/peer-bench/make_corpus.py) is the larger choice. Prints wall time, peak RSS
and the on/off ratio, and the time of ``gristmill report`` (rebuilding the page from profile.json alone) and of
``gristmill analyze --no-signals`` on the same corpus.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import shared_text_corpus, timed  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    src = Path(a.corpus) if a.corpus else shared_text_corpus(tmp / "corpus.jsonl", a.docs)
    from gristmill.recipe import default_recipe_path

    base = default_recipe_path().read_text()
    res = {}
    for on in (False, True, False, True):
        r = tmp / f"r{on}.yaml"
        r.write_text(base.replace("output:\n", f"output:\n  report: {str(on).lower()}\n", 1))
        out = tmp / f"o{on}"
        t = timed([sys.executable, "-m", "gristmill", "run", str(r), "-i", str(src), "-o", str(out), "-w",
                   str(a.workers), "--quiet", "--no-resume"])
        prev = res.get(on)
        res[on] = t if prev is None or t["wall_s"] < prev["wall_s"] else prev
    rep = timed([sys.executable, "-m", "gristmill", "report", str(tmp / "oTrue"), "-o", str(tmp / "again.html")])
    ana = timed([sys.executable, "-m", "gristmill", "analyze", str(src), "-o", str(tmp / "ana"), "--no-signals",
                 "-w", str(a.workers)])
    m = json.loads((tmp / "oTrue" / "manifest.json").read_text())
    print(f"corpus: {src} ({m['counts']['input']:,} docs, {src.stat().st_size / 1e6:.1f} MB), workers {a.workers}")
    print(f"run, report off: {res[False]['wall_s']:.2f} s, peak RSS {res[False]['peak_rss_mb']:.0f} MB")
    print(f"run, report on:  {res[True]['wall_s']:.2f} s, peak RSS {res[True]['peak_rss_mb']:.0f} MB")
    print(f"ratio on/off: {res[True]['wall_s'] / res[False]['wall_s']:.3f} (best of 2 each)")
    print(f"gristmill report (from profile.json): {rep['wall_s']:.2f} s; "
          f"profile.json {(tmp / 'oTrue' / 'profile.json').stat().st_size / 1e6:.2f} MB, "
          f"report.html {(tmp / 'oTrue' / 'report.html').stat().st_size / 1e6:.2f} MB")
    print(f"gristmill analyze --no-signals: {ana['wall_s']:.2f} s, peak RSS {ana['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
