"""Read just the texts of some inputs (for training classifiers), through the normal readers."""

from __future__ import annotations

from gristmill.io.paths import plan_shards
from gristmill.io.readers import ReadOptions, read_shard


def read_texts(paths: list[str], text_field: str = "text") -> list[str]:
    out: list[str] = []
    for sh in plan_shards(paths):
        for rb in read_shard(sh, ReadOptions(text_field=text_field)):
            if rb.table is not None:
                out.extend(rb.table.column("text").to_pylist())
    return out
