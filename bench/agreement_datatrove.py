#!/usr/bin/env python3
"""Decision agreement between gristmill's ``fineweb`` preset and datatrove 0.10.1's chain
(GopherRepetition -> GopherQuality -> C4Quality -> FineWebQuality), document by document.

    python bench/agreement_datatrove.py --datatrove-python $PEERS/venv/bin/python \\
        --input ../shared/data/text_en/c4_sample_shared.jsonl [--input more.jsonl ...] [--json out.json]

datatrove runs in its own virtual environment (it is not a gristmill dependency); this script calls it
with --datatrove-python to write its decisions, computes gristmill's in-process, and compares.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

DT_CODE = r"""
import json, sys, gzip
from datatrove.data import Document
from datatrove.pipeline.filters import GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter
chain = [("gopher_rep", GopherRepetitionFilter()), ("gopher_qual", GopherQualityFilter()),
         ("c4", C4QualityFilter()), ("fineweb", FineWebQualityFilter())]
out = open(sys.argv[2], "w")
for path in sys.argv[3:]:
    op = gzip.open if path.endswith(".gz") else open
    for i, line in enumerate(op(path, "rt", encoding="utf-8")):
        r = json.loads(line)
        doc = Document(text=r[sys.argv[1]], id=str(r.get("id", f"{path}:{i}")))
        reason = None
        for name, f in chain:
            res = f.filter(doc)
            ok, why = (res, None) if isinstance(res, bool) else res
            if not ok:
                reason = why
                break
        out.write(json.dumps({"id": doc.id, "keep": reason is None, "reason": reason}) + "\n")
"""


def read(path: str, field: str):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            r = json.loads(line)
            yield str(r.get("id", f"{path}:{i}")), r[field]


def gristmill_decisions(paths: list[str], field: str) -> dict[str, tuple[bool, str | None]]:
    import pyarrow as pa

    from gristmill.steps.filter import Filter, FilterParams
    from gristmill.steps.quality import Quality, QualityParams

    q, f = Quality(QualityParams()), Filter(FilterParams(preset=["fineweb"]))
    out = {}
    for p in paths:
        rows = list(read(p, field))
        t = pa.table({"id": [r[0] for r in rows], "text": [r[1] for r in rows], "lang": ["en"] * len(rows)})
        res = f.process(q.process(t).table)
        reasons = iter(res.reason)
        for (rid, _), rej in zip(rows, res.reject, strict=True):
            out[rid] = (False, next(reasons)) if rej else (True, None)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datatrove-python", required=True)
    ap.add_argument("--input", action="append", required=True)
    ap.add_argument("--field", default="text")
    ap.add_argument("--json")
    ap.add_argument("--show", type=int, default=5, help="print this many disagreements")
    a = ap.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as code:
        code.write(DT_CODE)
    dt_out = tempfile.mktemp(suffix=".jsonl")
    subprocess.run([a.datatrove_python, code.name, a.field, dt_out, *a.input], check=True)
    dt = {r["id"]: (r["keep"], r["reason"]) for r in map(json.loads, Path(dt_out).read_text().splitlines())}
    gm = gristmill_decisions(a.input, a.field)
    agree = sum(dt[k][0] == gm[k][0] for k in dt)
    same_reason = sum(dt[k] == gm[k] for k in dt)
    confusion = collections.Counter((("keep" if dt[k][0] else "drop"), ("keep" if gm[k][0] else "drop")) for k in dt)
    flips = collections.Counter((dt[k][1], gm[k][1]) for k in dt if dt[k][0] != gm[k][0])
    res = {"docs": len(dt), "agree": agree, "agreement": round(agree / len(dt), 4),
           "same_first_reason": round(same_reason / len(dt), 4),
           "datatrove_kept": sum(v[0] for v in dt.values()), "gristmill_kept": sum(v[0] for v in gm.values()),
           "confusion": {f"{a}->{b}": n for (a, b), n in confusion.items()},
           "disagreements_by_reason (datatrove, gristmill)": {f"{a} | {b}": n for (a, b), n in flips.most_common()}}
    print(json.dumps(res, indent=2, ensure_ascii=False))
    shown = 0
    texts = {rid: t for p in a.input for rid, t in read(p, a.field)}
    for k in dt:
        if dt[k][0] != gm[k][0] and shown < a.show:
            shown += 1
            print(f"--- {k}: datatrove {dt[k]} gristmill {gm[k]}\n{texts[k][:300]!r}", file=sys.stderr)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
