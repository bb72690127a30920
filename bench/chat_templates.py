"""Chat templates: gristmill's built-in renderer against transformers' own, on every template TRL ships.

For each template and the shared instruction sets (Alpaca en/zh, FastChat, Glaive tool calls; N records each):
how many records render identically, how many both reject, how many gristmill quarantines for loss spans (a
template without ``{% generation %}`` that is not prefix-stable), and the time to render the text with each
backend, side by side (ratio built-in / transformers; both in this process, same records).

    .venv/bin/python bench/chat_templates.py [-n 25]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gristmill.sft.chat import Template, render, template_messages, template_tools  # noqa: E402
from gristmill.sft.formats import parse  # noqa: E402
from gristmill.sft.jinja_env import TemplateRejected  # noqa: E402

FILES = ["alpaca_en_demo.jsonl", "alpaca_zh_demo.jsonl", "fastchat_dummy_conversation.jsonl",
         "glaive_toolcall_en_demo.jsonl"]
SPECIAL = {"bos_token": "<bos>", "eos_token": "<eos>"}


def main() -> None:
    import trl

    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=25, help="records per file")
    n = ap.parse_args().n
    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "instruct"
    rng = random.Random(3)  # not the test's sample (seed 17)
    samples = []
    for name in FILES:
        recs = [json.loads(line) for line in (data / name).read_text(encoding="utf-8").splitlines()]
        samples += [parse(r) for r in rng.sample(recs, n)]
    tdir = Path(trl.__file__).parent / "chat_templates"
    rows, tb, th = [], 0.0, 0.0
    for path in sorted(tdir.glob("*.jinja")):
        b = Template(str(path), backend="builtin", variables=SPECIAL)
        h = Template(str(path), backend="transformers", variables=SPECIAL)
        same = both = differ = spans_refused = 0
        for s in samples:
            args = (template_messages(s.messages), template_tools(s.tools))
            out = []
            for t in (b, h):
                t0 = time.perf_counter()
                try:
                    out.append(t.render_dicts(*args)[0])
                except TemplateRejected as e:
                    out.append(e)
                dt = time.perf_counter() - t0
                tb, th = (tb + dt, th) if t is b else (tb, th + dt)
            if all(isinstance(o, TemplateRejected) for o in out):
                both += 1
                continue
            if out[0] != out[1] if all(isinstance(o, str) for o in out) else True:
                differ += 1
                continue
            same += 1
            try:
                render(s, b)
            except TemplateRejected:
                spans_refused += 1
        rows.append((path.stem, same, both, differ, spans_refused))
    total = len(samples)
    print(f"{len(rows)} templates x {total} records ({n} per file: {', '.join(FILES)})")
    print(f"{'template':34} {'identical':>9} {'both reject':>11} {'differ':>6} {'no spans':>8}")
    for name, *c in rows:
        print(f"{name:34} {c[0]:9} {c[1]:11} {c[2]:6} {c[3]:8}")
    print(f"totals: identical {sum(r[1] for r in rows)}, both reject {sum(r[2] for r in rows)}, differ "
          f"{sum(r[3] for r in rows)}, loss spans refused {sum(r[4] for r in rows)} of {len(rows) * total}")
    print(f"text rendering: built-in {tb:.2f} s, transformers {th:.2f} s, ratio built-in/transformers "
          f"{tb / th:.2f} (same process, same records; CPUs: {os.cpu_count()})")


if __name__ == "__main__":
    main()
