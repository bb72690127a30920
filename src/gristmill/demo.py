"""The bundled demo sample: small real English and Chinese texts (see resources/NOTICE.md for sources).

>>> len(sample_paths()) >= 2
True
"""

from __future__ import annotations

from importlib import resources


def sample_paths() -> list[str]:
    root = resources.files("gristmill") / "resources" / "sample"
    return sorted(str(p) for p in root.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
