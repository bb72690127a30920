"""Show a near-duplicate cluster's members side by side (``gristmill dedup --explain ID``)."""

from __future__ import annotations

import glob
import os

import orjson
import pyarrow.parquet as pq

from gristmill.errors import GristmillError


def _rows(out_dir: str):
    for part in ("kept", "rejected"):
        for f in sorted(glob.glob(os.path.join(out_dir, part, "*"))):
            if f.endswith(".parquet"):
                yield from pq.read_table(f).to_pylist()
            elif ".jsonl" in f:
                import gzip

                op = gzip.open if f.endswith(".gz") else open
                with op(f, "rb") as fh:
                    for line in fh:
                        yield orjson.loads(line)


def cluster_of(out_dir: str, doc_id: str) -> list[dict]:
    """All members of the cluster holding ``doc_id`` (kept first), from a run's kept/ and rejected/."""
    rows = [r for r in _rows(out_dir) if r.get("dup_cluster") is not None or r.get("id") == doc_id]
    me = next((r for r in rows if r.get("id") == doc_id), None)
    if me is None:
        raise GristmillError(f"no document {doc_id!r} in {out_dir}", hint="pass an id from kept/ or rejected/")
    cluster = me.get("dup_cluster")
    if cluster is None:
        return [me]
    members = [r for r in rows if r.get("dup_cluster") == cluster]
    return sorted(members, key=lambda r: (r.get("id") != cluster, str(r.get("id"))))
