"""Read just the texts of some inputs (for training classifiers), through the normal readers.

Plain-text files give one example per line here (the fastText training convention), unlike a recipe's
``input.text_unit`` default (``file``); the encoding is decided per file as with ``input.encoding: auto``.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "good.txt"
>>> _ = p.write_bytes("床前明月光，疑是地上霜。\\n举头望明月，低头思故乡。\\n".encode("gb18030"))
>>> read_texts([str(p)], encoding="gb18030")
['床前明月光，疑是地上霜。', '举头望明月，低头思故乡。']
"""

from __future__ import annotations

from gristmill.io.paths import plan_shards
from gristmill.io.readers import ReadOptions, read_shard


def read_texts(paths: list[str], text_field: str = "text", *, text_unit: str = "line",
               encoding: str = "auto") -> list[str]:
    out: list[str] = []
    opts = ReadOptions(text_field=text_field, text_unit=text_unit, encoding=encoding)
    for sh in plan_shards(paths):
        for rb in read_shard(sh, opts):
            if rb.table is not None:
                out.extend(rb.table.column("text").to_pylist())
    return out
