"""Toxicity models: one per language, each giving two scores, ``toxicity`` (offensive or abusive, hate
included) and ``hate`` (attacks on people for who they are), trained from labelled files described by a
spec (``recipes/toxicity-shared.yaml``). The models trained from the permissively licensed shared sets ship
inside the package (``resources/toxicity-en.npz``, ``-zh.npz``).

A model has three classes, ``hate``, ``offensive`` and ``neutral``: ``toxicity = 1 - P(neutral)``,
``hate = P(hate)``. A labelled set maps its labels to these classes, or to ``not_hate`` (offensive or
neutral) and ``toxic`` (hate or offensive) when the data does not say which; annotators' vote counts, where
a set has them, become soft targets. Documents go to the held-out split by a hash of their text (or of the
pair, for sets of minimal pairs), so the held-out rows are never trained on and the split is stable.

>>> sorted(bundled_models())
['en', 'zh']
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import xxhash
import yaml

from gristmill.classify.bag_model import BagModel
from gristmill.classify.fasttext_model import roc_auc
from gristmill.classify.hashed_features import features
from gristmill.classify.toxicity_templates import template_cases
from gristmill.errors import GristmillError

CLASSES = ["hate", "offensive", "neutral"]
ALLOWED = {"hate": [1, 0, 0], "offensive": [0, 1, 0], "neutral": [0, 0, 1], "not_hate": [0, 1, 1],
           "toxic": [1, 1, 0]}


def bundled_models() -> dict[str, str]:
    root = resources.files("gristmill") / "resources"
    return {lang: str(root / f"toxicity-{lang}.npz") for lang in ("en", "zh")
            if (root / f"toxicity-{lang}.npz").is_file()}


@dataclass
class Example:
    text: str
    label: str                        # a key of ALLOWED
    soft: list[float] | None = None   # vote shares over CLASSES
    key: str = ""                     # what the split hashes
    source: str = ""
    weight: float = 1.0


def held_out(key: str, seed: int, share: float) -> bool:
    return xxhash.xxh64_intdigest(key.encode("utf-8", "surrogatepass"), seed=seed) / 2**64 < share


def read_set(path: Path, s: dict) -> list[Example]:
    """Examples of one labelled JSONL(.gz) file as a spec entry describes it: ``label_field`` + ``labels``
    (+ ``other`` for labels not listed), or one ``label`` for every row (e.g. neutral web text, cut into
    ``chunk_chars`` pieces as the step reads long documents); ``votes``, ``pair_field``, ``weight``; ``where``
    (field → value or list of values) keeps only the rows that match, e.g. a data set's own train split."""
    op = gzip.open if path.suffix == ".gz" else open
    labels = {str(k): v for k, v in s.get("labels", {}).items()}
    for v in [*labels.values(), *[s[k] for k in ("other", "label") if s.get(k)]]:
        if v not in ALLOWED:
            raise GristmillError(f"unknown class {v!r} in the spec for {path.name}",
                                 hint=f"use one of {', '.join(ALLOWED)}")
    votes, tf, lf, pf = s.get("votes"), s.get("text_field", "text"), s.get("label_field"), s.get("pair_field")
    chunk, w = int(s.get("chunk_chars", 0)), float(s.get("weight", 1.0))
    where = {k: {str(x) for x in (v if isinstance(v, list) else [v])} for k, v in (s.get("where") or {}).items()}
    out = []
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if any(str(r.get(k)) not in vs for k, vs in where.items()):
                continue
            lab = s["label"] if s.get("label") else labels.get(str(r[lf]), s.get("other"))
            if lab is None or not isinstance(r.get(tf), str):
                continue
            soft = None
            if votes:
                v = r[votes["field"]]
                total = sum(v[votes[c]] for c in CLASSES)
                soft = [v[votes[c]] / total for c in CLASSES] if total else None
            key = r[tf]
            if pf and r.get(pf):
                key = min(str(r.get("id", "")), str(r[pf]))
            texts = pieces(r[tf], chunk) if chunk else [r[tf]]
            out += [Example(t, lab, soft, key, path.name, w) for t in texts if t.strip()]
    return out


def pieces(text: str, most: int) -> list[str]:
    """``text`` cut at spaces into pieces of 1/8, 1/4, 1/2 and all of ``most`` characters in turn, so that
    length alone does not tell neutral web text from short toxic posts."""
    out, i, k = [], 0, 0
    while i < len(text):
        j = min(len(text), i + max(most >> (3 - k % 4), 20))
        sp = text.rfind(" ", i + 1, j) if j < len(text) else -1
        j = sp if sp > i else j
        out.append(text[i:j].strip())
        i, k = j, k + 1
    return [p for p in out if p]


def _spec(spec_path: str) -> dict:
    spec = yaml.safe_load(Path(spec_path).read_text(encoding="utf-8")) or {}
    if "models" in spec and "languages" not in spec:  # the first spec format: one binary set per language
        spec["languages"] = {lang: {"sets": [{"path": m["path"], "label_field": m["label_field"],
                                              "text_field": m.get("text_field", "text"),
                                              "labels": {str(p): "toxic" for p in m["positive"]},
                                              "other": "neutral"}]}
                             for lang, m in spec["models"].items()}
    if not isinstance(spec.get("languages"), dict):
        raise GristmillError(f"{spec_path}: no `languages:` mapping", hint="see recipes/toxicity-shared.yaml")
    return spec


def _targets(exs: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    soft = np.zeros((len(exs), 3))
    allowed = np.zeros((len(exs), 3))
    for i, e in enumerate(exs):
        a = ALLOWED[e.label]
        if e.soft is not None:
            soft[i] = e.soft
        elif sum(a) == 1:
            soft[i] = a
        else:
            allowed[i] = a
    return soft, allowed


def evaluate(scores: np.ndarray, labels: list[str]) -> dict:
    """ROC AUCs of ``scores`` (docs × [toxicity, hate]) against hard labels: toxic vs neutral, hate vs
    everything else, hate vs offensive (where the data has those labels)."""
    lab = np.array(labels)
    tox, hate = scores[:, 0], scores[:, 1]
    res = {"docs": len(lab), "hate": int((lab == "hate").sum()), "offensive": int((lab == "offensive").sum()),
           "neutral": int((lab == "neutral").sum())}
    m = np.isin(lab, ["hate", "offensive", "toxic", "neutral"])
    res["toxicity_auc"] = _auc(tox[m], lab[m] != "neutral")
    res["neutral_flagged"] = round(float((tox[lab == "neutral"] >= 0.5).mean()), 4) if (lab == "neutral").any() else None
    res["hate_auc"] = _auc(hate, lab == "hate")
    m = np.isin(lab, ["hate", "offensive"])
    res["hate_vs_offensive_auc"] = _auc(hate[m], lab[m] == "hate")
    return res


def _auc(s: np.ndarray, y: np.ndarray) -> float | None:
    a = roc_auc(np.asarray(s, float), np.asarray(y, bool)) if len(y) else float("nan")
    return None if a != a else round(a, 4)


def scores_of(model: BagModel, texts: list[str]) -> np.ndarray:
    p = model.proba(texts)
    return np.stack([1 - p[:, CLASSES.index("neutral")], p[:, CLASSES.index("hate")]], 1)


def train_language(lang: str, cfg: dict, root: Path, seed: int, share: float) -> tuple[BagModel, dict]:
    """Train one language's model; returns it and its report (held-out AUCs per set)."""
    train, held = [], {}
    for s in cfg["sets"]:
        path = root / s["path"]
        if not path.exists():
            raise GristmillError(f"training file not found: {path}", hint="pass --root pointing at the data")
        for e in read_set(path, s):
            (held.setdefault(path.name, []) if held_out(e.key, seed, share) else train).append(e)
    n_real = len(train)
    if cfg.get("templates", True):
        quotes = [e.text for e in train if e.label == "hate"]
        w = float(cfg.get("template_weight", 1.0))
        train += [Example(c.text, c.label, key=c.text, source=f"template:{c.category}", weight=w)
                  for c in template_cases(lang, quotes, seed)]
    soft, allowed = _targets(train)
    weight = np.array([e.weight for e in train])
    hp = {k: cfg[k] for k in ("dim", "epochs", "lr", "min_count") if k in cfg}
    model = BagModel.fit([features(e.text, lang) for e in train], soft, allowed, weight, classes=CLASSES,
                         lang=lang, seed=seed, **hp)
    report = {"train_docs": n_real, "template_docs": len(train) - n_real, "rows": int(len(model.ids)),
              "held_out": {name: evaluate(scores_of(model, [e.text for e in exs]), [e.label for e in exs])
                           for name, exs in held.items()}}
    return model, report


def train_from_spec(spec_path: str, root: str, out_dir: str) -> dict:
    """Train every language of a spec; write ``toxicity-<lang>.npz`` and ``toxicity-report.json``."""
    spec = _spec(spec_path)
    seed, share = spec.get("seed", 0), spec.get("test_share", 0.2)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    reports = {}
    for lang, cfg in spec["languages"].items():
        model, rep = train_language(lang, cfg, Path(root), seed, share)
        out = str(Path(out_dir) / f"toxicity-{lang}.npz")
        model.meta["trained_on"] = [s["path"] for s in cfg["sets"]]
        model.save(out)
        reports[lang] = rep | {"model": Path(out).name, "sources": [s["path"] for s in cfg["sets"]]}
    Path(out_dir, "toxicity-report.json").write_text(json.dumps(reports, indent=2) + "\n")
    return reports
