"""Train a scorer from graded annotations (``gristmill annotate`` output, or any JSONL with a text and a
number) and report it on held-out documents.

Model types and targets:

- ``fasttext`` with ``ordinal`` (default): one fastText class per whole score level, scored as the expected
  level ``sum(p(level) * level)``; with ``binary``: the probability of ``score >= threshold``.
- ``linear`` with ``regression`` (default) or ``binary``: ridge regression over hashed word shares
  (:mod:`gristmill.classify.linear_model`); binary regresses the 0/1 target.
- ``embed`` with ``regression`` (default) or ``binary``: ridge regression over the mean hidden states of a
  local model folder (:mod:`gristmill.classify.embed_model`).

Documents are held out by a hash of their id (``test_share``), so a document is on the same side in every
run. The report (also written as ``MODEL.report.json``) has, overall and per language: Spearman, Pearson,
MAE, precision/recall/F1 of ``score >= threshold``, and the confusion of rounded levels
(:func:`gristmill.classify.metrics.report`).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path

import numpy as np
import xxhash

from gristmill.classify.metrics import report
from gristmill.errors import GristmillError

TARGETS = {"fasttext": ("ordinal", "binary"), "linear": ("regression", "binary"), "embed": ("regression", "binary")}
ZIP_MAGIC = b"PK"  # an .npz (embedding scorer); fastText files start otherwise


def read_annotations(paths: list[str], *, score_field: str = "score", text_field: str = "text",
                     lang_field: str = "lang") -> tuple[list[dict], int, tuple[float, float] | None]:
    """(rows ``{id, text, lang, score}`` with a score, rows without one, the scale the files state or None).
    A folder stands for its ``records.jsonl``."""
    rows, unscored, scale = [], 0, None
    for p in paths:
        f = os.path.join(p, "records.jsonl") if os.path.isdir(p) else p
        if not os.path.exists(f):
            raise GristmillError(f"no annotation file {f}", hint="the output of gristmill annotate, or JSONL with "
                                 f"{text_field!r} and {score_field!r}")
        import gzip

        op = gzip.open if f.endswith(".gz") else open
        with op(f, "rt", encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    raise GristmillError(f"{f}:{n}: invalid JSON ({e})") from None
                s, t = r.get(score_field), r.get(text_field)
                if isinstance(s, bool) or not isinstance(s, int | float) or not isinstance(t, str):
                    unscored += 1
                    continue
                if scale is None and isinstance(r.get("scale"), list) and len(r["scale"]) == 2:
                    scale = (float(r["scale"][0]), float(r["scale"][1]))
                rows.append({"id": str(r.get("id", xxhash.xxh64_hexdigest(t.encode("utf-8", "surrogatepass")))),
                             "text": t, "lang": str(r.get(lang_field) or "und"), "score": float(s)})
    return rows, unscored, scale


def held_out(doc_id: str, test_share: float, seed: int = 0) -> bool:
    """Whether the document is held out: by a salted hash of its id, independent of the hash that chose the
    annotation sample (:func:`gristmill.annotate.sample.rank`), which would otherwise hold out its lowest ranks.

    >>> sum(held_out(f"doc-{i}", 0.3) for i in range(1000))
    330
    """
    return xxhash.xxh64_intdigest(b"held-out\0" + doc_id.encode("utf-8", "surrogatepass"), seed=seed) / 2**64 < test_share


def _fasttext(train_rows: list[dict], model_path: str, *, target: str, threshold: float, seed: int, epoch: int,
              lr: float, dim: int, word_ngrams: int, minn: int, maxn: int, max_chars: int) -> None:
    from gristmill.classify.fasttext_model import fit_file, prepare_num

    if target == "ordinal":
        levels = {r["id"]: int(round(r["score"])) for r in train_rows}
        label = lambda r: f"s{levels[r['id']]}"  # noqa: E731
    else:
        label = lambda r: "pos" if r["score"] >= threshold else "neg"  # noqa: E731
    rows = list(train_rows)
    random.Random(seed).shuffle(rows)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        for r in rows:
            f.write(f"__label__{label(r)} {prepare_num(r['text'], max_chars)}\n")
    try:
        model = fit_file(f.name, epoch=epoch, lr=lr, wordNgrams=word_ngrams, dim=dim, bucket=200_000,
                         minCount=1, minn=minn, maxn=maxn, seed=seed)
    finally:
        os.remove(f.name)
    Path(model_path).parent.mkdir(parents=True, exist_ok=True)
    model.save_model(model_path)
    labels = [lab.removeprefix("__label__") for lab in model.get_labels()]
    meta = {"prepare": "words-lower-num", "labels": labels, "max_chars": max_chars, "target": target}
    if target == "ordinal":
        meta |= {"positive": None, "values": {lab: int(lab[1:]) for lab in labels}}
    else:
        meta |= {"positive": "pos", "threshold": threshold}
    Path(model_path + ".json").write_text(json.dumps(meta, indent=2))


def train_scorer(rows: list[dict], model_path: str, *, model_type: str = "fasttext", target: str | None = None,
                 threshold: float = 3.0, scale: tuple[float, float] = (0.0, 5.0), test_share: float = 0.2,
                 seed: int = 0, encoder: str | None = None, epoch: int = 10, lr: float = 0.5, dim: int = 16,
                 word_ngrams: int = 2, minn: int = 0, maxn: int = 0, max_tokens: int = 256,
                 max_chars: int = 10_000) -> dict:
    """Train on ``rows`` (``{id, text, lang, score}``) into ``model_path``; returns the held-out report.
    ``max_chars``: fastText and linear models read (in training and scoring) the first this many characters
    of a document; ``max_tokens``: embed models read the first this many tokens."""
    if model_type not in TARGETS:
        raise GristmillError(f"unknown model type {model_type!r}", hint=" or ".join(TARGETS))
    target = target or TARGETS[model_type][0]
    if target not in TARGETS[model_type]:
        raise GristmillError(f"a {model_type} model takes the targets {', '.join(TARGETS[model_type])}, "
                             f"not {target!r}")
    train_rows = [r for r in rows if not held_out(r["id"], test_share, seed)]
    test_rows = [r for r in rows if held_out(r["id"], test_share, seed)]
    if len(train_rows) < 10 or len({round(r["score"]) for r in train_rows}) < 2:
        raise GristmillError(f"too few annotations to train on ({len(train_rows)} training documents, "
                             f"{len({round(r['score']) for r in train_rows})} score levels)",
                             hint="annotate more documents (gristmill annotate -n …)")
    if model_type == "fasttext":
        _fasttext(train_rows, model_path, target=target, threshold=threshold, seed=seed, epoch=epoch, lr=lr,
                  dim=dim, word_ngrams=word_ngrams, minn=minn, maxn=maxn, max_chars=max_chars)
    elif model_type == "linear":
        from gristmill.classify.linear_model import LinearScorer

        y = np.array([r["score"] >= threshold if target == "binary" else r["score"] for r in train_rows], float)
        clip = (0.0, 1.0) if target == "binary" else scale
        m = LinearScorer.fit([r["text"] for r in train_rows], y, seed=seed, max_chars=max_chars,
                             meta={"target": target, "threshold": threshold, "scale": list(clip)})
        Path(model_path).parent.mkdir(parents=True, exist_ok=True)
        m.save(model_path)
    else:
        if not encoder:
            raise GristmillError("an embed model needs an encoder folder",
                                 hint="--encoder MODEL_DIR (a gristmill train folder or a local Hugging Face folder)")
        from gristmill.classify.embed_model import EmbedScorer

        y = np.array([r["score"] >= threshold if target == "binary" else r["score"] for r in train_rows], float)
        clip = (0.0, 1.0) if target == "binary" else scale
        s = EmbedScorer.fit([r["text"] for r in train_rows], y, encoder, max_tokens=max_tokens,
                            meta={"target": target, "threshold": threshold, "scale": list(clip)})
        Path(model_path).parent.mkdir(parents=True, exist_ok=True)
        s.save(model_path)
    rep = {"model": model_path, "model_type": model_type, "target": target, "scale": list(scale),
           "max_chars": max_chars if model_type != "embed" else None,
           "train_docs": len(train_rows), "test_docs": len(test_rows), "test_share": test_share, "seed": seed}
    if test_rows:
        scorer = load_scorer(model_path)
        pred = scorer.scores([r["text"] for r in test_rows])
        truth = np.array([r["score"] for r in test_rows])
        if target == "binary":  # the report compares probabilities with the 0/1 labels at 0.5
            truth_b = (truth >= threshold).astype(float)
            rep["held_out"] = {"all": report(pred, truth_b, threshold=0.5, scale=(0, 1))}
            groups = {g: report(pred[m], truth_b[m], threshold=0.5, scale=(0, 1)) for g, m in _langs(test_rows)}
        else:
            rep["held_out"] = {"all": report(pred, truth, threshold=threshold, scale=scale)}
            groups = {g: report(pred[m], truth[m], threshold=threshold, scale=scale) for g, m in _langs(test_rows)}
        rep["held_out"] |= groups
    Path(model_path + ".report.json").write_text(json.dumps(rep, indent=2, ensure_ascii=False))
    return rep


def _langs(rows: list[dict]):
    langs = np.array([r["lang"] for r in rows])
    for g in sorted(set(langs)):
        yield g, langs == g


def load_scorer(path: str, encoder: str | None = None):
    """A trained scorer with ``scores(texts) -> np.ndarray``: a fastText model (``.bin``/``.ftz``) or an
    embedding scorer (``.npz``), told apart by the file's first bytes."""
    from gristmill.classify.fasttext_model import Classifier

    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise GristmillError(f"cannot read model {path}: {e.strerror or e}",
                             hint="train one with: gristmill train-classifier") from None
    if head[:2] == ZIP_MAGIC:
        from gristmill.classify.embed_model import EmbedScorer
        from gristmill.classify.linear_model import FORMAT, LinearScorer

        try:
            fmt = json.loads(np.load(path)["meta"].tobytes().decode()).get("format")
        except (OSError, ValueError, KeyError) as e:
            raise GristmillError(f"not a gristmill scorer: {path} ({e})") from None
        return LinearScorer.load(path) if fmt == FORMAT else EmbedScorer.load(path, encoder)
    return Classifier(path)
