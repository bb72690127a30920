"""The bundled demo sample: small real English and Chinese texts (see resources/NOTICE.md for sources).

>>> len(sample_paths()) >= 2
True
>>> print(describe())  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
gristmill demo: the default recipe on the bundled sample, 180 English web documents (C4, Common Crawl) and
445 Chinese texts (classical poems and passages from 唐诗三百首, 论语, 诗经 and 宋词三百首, and web pages).
357 of the Chinese texts are shorter than 200 characters, ...
"""

from __future__ import annotations

import gzip
import json
from importlib import resources


def sample_paths() -> list[str]:
    root = resources.files("gristmill") / "resources" / "sample"
    return sorted(str(p) for p in root.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))


def _texts(path: str) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def describe(min_zh_chars: int = 200) -> str:
    """What the demo runs on, and why most of its Chinese is rejected (``min_zh_chars``: the zh-web length
    rule of the default recipe)."""
    texts = {p.rsplit("/", 1)[-1].split(".")[0]: _texts(p) for p in sample_paths()}
    en, zh = texts.get("en_web", []), texts.get("zh_mixed", [])
    short = sum(len(t) < min_zh_chars for t in zh)
    return (f"gristmill demo: the default recipe on the bundled sample, {len(en)} English web documents (C4, "
            f"Common Crawl) and {len(zh)} Chinese texts (classical poems and passages from 唐诗三百首, 论语, 诗经 and "
            f"宋词三百首, and web pages). {short} of the Chinese texts are shorter than {min_zh_chars} characters, the "
            "least the default recipe asks of a Chinese document, so expect most of them to be rejected: the "
            "table after the run says, per language, how many and why (docs/quality.md, \"Why a length rule\").")
