#!/usr/bin/env python3
"""Split the Python docs for ``target-domain.yaml`` into three disjoint thirds (every third document by id):
the target sample DSIR is fitted on, the held-out eval set, and the part planted into the raw pool.

    python ablations/target_domain_split.py      # writes ablations/.data/target-domain/{target,eval,pool}.jsonl
"""

from __future__ import annotations

import gzip
import os
import sys

import orjson

SRC = "/work/shared/data/text_en/python311_doc_shared.jsonl.gz"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".data", "target-domain")
EVAL_DOCS, EVAL_CHARS = 25, 6000   # the eval set: bounded so that scoring stays quick on a CPU


def main() -> None:
    src = sys.argv[1] if len(sys.argv) > 1 else SRC
    with gzip.open(src, "rb") as f:
        docs = sorted((orjson.loads(line) for line in f), key=lambda r: r["id"])
    parts = {"target": docs[0::3], "eval": docs[1::3][:EVAL_DOCS], "pool": docs[2::3]}
    os.makedirs(OUT, exist_ok=True)
    for name, rows in parts.items():
        with open(os.path.join(OUT, f"{name}.jsonl"), "wb") as f:
            for r in rows:
                text = r["text"][:EVAL_CHARS] if name == "eval" else r["text"]
                f.write(orjson.dumps({"id": r["id"], "text": text, "lang": "en", "source": "python311_doc"}) + b"\n")
        print(f"{OUT}/{name}.jsonl: {len(rows)} documents")


if __name__ == "__main__":
    main()
