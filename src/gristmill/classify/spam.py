"""The Chinese spam classifier: trained from a spec of labelled sources (fastText on jieba words and their
characters, numbers masked: :func:`gristmill.text.spam.model_text`), evaluated on held-out sources, and the
model trained from permissively licensed data ships as ``resources/zh-spam.ftz``.

A spec (see ``recipes/zh-spam-bundled.yaml``) lists ``train`` and ``held_out`` sources. A source reads one
JSONL file: every record is ``label: spam|ham``, or ``label_field`` with the ``spam`` values; ``where``
keeps the records whose field has one of the listed values; ``part: train|test`` takes one side of a
stable hash split of the records (``share`` of them are ``test``); ``view: boilerplate`` turns extraction
pages (``html`` + ``gold_text``) into the chunks of page text that are not the main text (navigation,
footers, contact lines, ads).

>>> metrics(np.array([0.9, 0.8, 0.3, 0.1]), np.array([True, False, True, False]), 0.5)["precision"]
0.5
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path

import numpy as np
import xxhash
import yaml

from gristmill.classify.fasttext_model import Classifier, roc_auc, train
from gristmill.errors import GristmillError

MODEL_NAME = "zh-spam.ftz"


def bundled_model() -> str | None:
    p = resources.files("gristmill") / "resources" / MODEL_NAME
    return str(p) if p.is_file() else None


def _records(path: Path) -> list[dict]:
    if not path.exists():
        raise GristmillError(f"training file not found: {path}", hint="pass --root pointing at the data")
    op = gzip.open if path.suffix == ".gz" else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def in_test_part(key: str, share: float, seed: int = 0) -> bool:
    """The stable hash split: ``key`` is on the test side when its hash falls below ``share``."""
    return xxhash.xxh64_intdigest(key.encode("utf-8", "surrogatepass"), seed=seed) / 2**64 < share


def boilerplate_chunks(html: str, main_text: str, chunk_chars: int = 300, min_chars: int = 50) -> list[str]:
    """The visible lines of a page that are not in its main text, grouped into chunks of about
    ``chunk_chars`` characters (runs shorter than ``min_chars`` are dropped)."""
    try:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree
    except ImportError as e:
        raise GristmillError("view: boilerplate needs Resiliparse", hint="pip install 'gristmill[web]'") from e

    full = extract_plain_text(HTMLTree.parse(html), main_content=False, alt_texts=False, comments=False,
                              noscript=False)
    out: list[str] = []
    buf: list[str] = []
    for line in (ln.strip() for ln in full.splitlines()):
        if not line:
            continue
        if line in main_text or sum(map(len, buf)) >= chunk_chars:
            if sum(map(len, buf)) >= min_chars:
                out.append("\n".join(buf))
            buf = []
        if line not in main_text:
            buf.append(line)
    if sum(map(len, buf)) >= min_chars:
        out.append("\n".join(buf))
    return out


def load_source(src: dict, root: str | Path, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """The texts of one spec source and whether each is spam."""
    name = src.get("name", src.get("path"))
    if "path" not in src or ("label" not in src and not ("label_field" in src and "spam" in src)):
        raise GristmillError(f"spam spec source {name!r}: needs path, and label (spam|ham) or label_field + spam")
    if src.get("label", "spam") not in ("spam", "ham") or src.get("view") not in (None, "boilerplate"):
        raise GristmillError(f"spam spec source {name!r}: label is spam or ham; view is boilerplate or absent")
    rows = _records(Path(root) / src["path"])
    for field, values in (src.get("where") or {}).items():
        rows = [r for r in rows if r.get(field) in values]
    if src.get("part"):
        key, share = src.get("split_key", "id"), src.get("share", 0.5)
        rows = [r for r in rows if in_test_part(str(r.get(key, r.get("text"))), share, seed) == (src["part"] == "test")]
    texts: list[str] = []
    spam: list[bool] = []
    for r in rows:
        is_spam = src["label"] == "spam" if "label" in src else r[src["label_field"]] in src["spam"]
        if src.get("view") == "boilerplate":
            got = boilerplate_chunks(r["html"], r.get("gold_text") or "")
        else:
            got = [r[src.get("text_field", "text")]]
        texts += got
        spam += [is_spam] * len(got)
    if src.get("max_docs"):
        texts, spam = texts[: src["max_docs"]], spam[: src["max_docs"]]
    return texts, np.array(spam, dtype=bool)


def metrics(scores: np.ndarray, truth: np.ndarray, threshold: float) -> dict:
    """Precision, recall, false-positive rate at ``threshold`` and ROC AUC (None where undefined)."""
    pred = scores >= threshold
    tp, fp = int((pred & truth).sum()), int((pred & ~truth).sum())
    pos, neg = int(truth.sum()), int((~truth).sum())
    return {"docs": len(truth), "spam": pos,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / pos, 4) if pos else None,
            "fpr": round(fp / neg, 4) if neg else None,
            "auc": round(roc_auc(scores, truth), 4) if pos and neg else None}


def train_from_spec(spec_path: str, root: str, out_dir: str) -> dict:
    """Train the model of a spec into ``out_dir/zh-spam.ftz`` (quantized) and evaluate it on the spec's
    held-out sources; writes and returns the report (``zh-spam-report.json``)."""
    if not Path(spec_path).is_file():
        raise GristmillError(f"spam spec not found: {spec_path}")
    spec = yaml.safe_load(Path(spec_path).read_text(encoding="utf-8"))
    if not isinstance(spec, dict) or not spec.get("train"):
        raise GristmillError(f"{spec_path}: a spam spec needs a train: list of sources",
                             hint="see src/gristmill/recipes/zh-spam-bundled.yaml")
    seed, fit = spec.get("seed", 0), dict(spec.get("model") or {})
    threshold = spec.get("threshold", 0.5)
    pos: list[str] = []
    neg: list[str] = []
    counts = {}
    for src in spec["train"]:
        texts, spam = load_source(src, root, seed)
        pos += [t for t, s in zip(texts, spam, strict=True) if s]
        neg += [t for t, s in zip(texts, spam, strict=True) if not s]
        counts[src["name"]] = {"spam": int(spam.sum()), "ham": int((~spam).sum())}
    out = str(Path(out_dir) / MODEL_NAME)
    train(pos, neg, out, positive_label="spam", negative_label="ham", test_share=0, seed=seed,
          preparation="zh-spam", **fit)
    clf = Classifier(out)
    held = {}
    for src in spec.get("held_out", []):
        texts, spam = load_source(src, root, seed)
        held[src["name"]] = metrics(clf.scores(texts), spam, threshold)
    report = {"model": MODEL_NAME, "threshold": threshold, "train": counts, "held_out": held}
    Path(out_dir, "zh-spam-report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return report
