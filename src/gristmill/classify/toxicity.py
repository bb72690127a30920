"""Toxicity models: trained from labelled files with the fastText machinery, one model per language; the
models trained from the shared sets ship inside the package (``resources/toxicity-en.ftz``, ``-zh.ftz``).

>>> sorted(bundled_models())
['en', 'zh']
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path

import yaml

from gristmill.classify.fasttext_model import train
from gristmill.errors import GristmillError


def bundled_models() -> dict[str, str]:
    root = resources.files("gristmill") / "resources"
    return {lang: str(root / f"toxicity-{lang}.ftz") for lang in ("en", "zh") if (root / f"toxicity-{lang}.ftz").is_file()}


def _labelled(path: Path, text_field: str, label_field: str, positive: list) -> tuple[list[str], list[str]]:
    op = gzip.open if path.suffix == ".gz" else open
    pos, neg = [], []
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                (pos if r[label_field] in positive else neg).append(r[text_field])
    return pos, neg


def train_from_spec(spec_path: str, root: str, out_dir: str) -> dict:
    """Train every model of a spec (see recipes/toxicity-shared.yaml); returns the held-out reports."""
    spec = yaml.safe_load(Path(spec_path).read_text(encoding="utf-8"))
    reports = {}
    for lang, m in spec["models"].items():
        path = Path(root) / m["path"]
        if not path.exists():
            raise GristmillError(f"training file not found: {path}", hint="pass --root pointing at the data")
        pos, neg = _labelled(path, m.get("text_field", "text"), m["label_field"], m["positive"])
        out = str(Path(out_dir) / f"toxicity-{lang}.ftz")
        rep = train(pos, neg, out, positive_label="toxic", negative_label="clean",
                    test_share=spec.get("test_share", 0.2), seed=spec.get("seed", 0), quantize=True)
        reports[lang] = rep.to_dict() | {"positives": len(pos), "negatives": len(neg), "source": m["path"]}
    Path(out_dir, "toxicity-report.json").write_text(json.dumps(reports, indent=2))
    return reports
