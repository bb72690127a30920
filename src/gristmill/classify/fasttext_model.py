"""Train and apply fastText document classifiers (quality, domain, toxicity …), fully offline.

Text is prepared the same way for training and scoring: language-aware words (jieba words for Chinese),
lower-cased, one line per document. The model file gets a ``.json`` companion holding that recipe and the
labels, so a model is never applied with different preprocessing.

>>> prepare("The Cat sat.\\n我们在北京。")
'the cat sat . 我们 在 北京 。'
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import xxhash

from gristmill.errors import GristmillError
from gristmill.text.scripts import script_counts
from gristmill.text.token_lists import join_words, mask_numbers
from gristmill.text.words import words

MAX_CHARS = 10_000
NAN_RETRIES = 5  # training runs again at half the rate when fastText stops on a NaN


@lru_cache(maxsize=1)
def _tokenizer():
    """The C core's tokenizer when it is built (the same tokens as :func:`gristmill.text.words.words` for
    non-Chinese text, ``tests/test_quality_native.py``; about nine times faster), else None."""
    from gristmill.text import native

    if not native.AVAILABLE:
        return None
    native._setup()
    return native._qsignals.tokens


def prepare(text: str, max_chars: int = MAX_CHARS) -> str:
    """The first ``max_chars`` characters of ``text`` as lower-cased words joined by spaces: jieba words when
    at least 30 % of its letters are Han, else :func:`gristmill.text.words.words` (by the C core)."""
    text = text[:max_chars]
    letters, han, _, _ = script_counts(text)
    if letters and han / letters >= 0.3:
        import rjieba

        return join_words(rjieba.cut(text)).lower()  # " ".join(words(text, "zh")), without a loop per word
    tok = _tokenizer()
    return " ".join(tok(text) if tok else words(text, "en")).lower()


def prepare_num(text: str, max_chars: int = MAX_CHARS) -> str:
    """:func:`prepare` with every word that starts with a digit written ``<num>`` (a score should not hang on
    which numbers a page holds; scorers trained on annotations use it).

    >>> prepare_num("In 1999 it cost 4.50 dollars")
    'in <num> it cost <num> dollars'
    """
    return mask_numbers(prepare(text, max_chars))


def preparer(name: str):
    """The text preparation a model was trained with (its ``.json``'s ``prepare``): ``words-lower`` (this
    module's :func:`prepare`), ``words-lower-num`` (:func:`prepare_num`) or ``zh-spam``
    (:func:`gristmill.text.spam.model_text`: numbers masked)."""
    if name == "zh-spam":
        from gristmill.text.spam import model_text

        return model_text
    if name == "words-lower-num":
        return prepare_num
    if name != "words-lower":
        raise GristmillError(f"unknown text preparation {name!r}", hint="words-lower, words-lower-num or zh-spam")
    return prepare


@dataclass
class TrainReport:
    model: str
    labels: list[str]
    train_docs: int
    test_docs: int
    accuracy: float
    roc_auc: float
    positive: str

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def roc_auc(scores: np.ndarray, truth: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with tie correction)."""
    pos, neg = scores[truth], scores[~truth]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    allv = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(allv):  # average ranks of ties
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def fit_file(path: str, **params):
    """``fasttext.train_supervised`` on a ``__label__X text`` file with one thread, each time in a fresh
    process. fastText (fasttext-numpy2 0.10.4) carries state from one training to the next in a process: the
    same file, settings and seed gave another model, or stopped on a NaN, after a few fits in one process
    (measured: 12 fits of one file in one process gave 4 different outcomes, 3 of them NaN retries; a fresh
    process gives the first one every time). When a try stops on a NaN (some inputs diverge at a rate), the
    next one runs at half the rate, at most ``NAN_RETRIES`` times. The model's ``lr_used`` is the rate that
    trained it."""
    lr = params.get("lr", 0.1)
    for _ in range(NAN_RETRIES + 1):
        try:
            return _fit_in_child(path, params | {"lr": lr})
        except _NaNError:
            lr /= 2
    raise GristmillError(f"fastText training failed: a NaN at every rate from {params.get('lr', 0.1):g} down to "
                         f"{lr * 2:g}", hint="try a lower lr or fewer epochs")


class _NaNError(Exception):
    pass


_CHILD = """import json, sys
import fasttext
fasttext.train_supervised(input=sys.argv[1], thread=1, verbose=0, **json.loads(sys.argv[3])).save_model(sys.argv[2])
"""


def _fit_in_child(path: str, params: dict):
    import signal
    import subprocess
    import sys

    import fasttext

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "model.bin")
        # -P: the working directory is not on the child's import path (a ./fasttext.py must not shadow fastText)
        r = subprocess.run([sys.executable, "-P", "-c", _CHILD, path, out,
                            json.dumps(params, default=lambda v: v.item() if hasattr(v, "item") else str(v))],
                           capture_output=True, text=True)
        if r.returncode < 0:
            name = signal.Signals(-r.returncode).name
            raise GristmillError(f"fastText training was killed ({name})",
                                 hint="out of memory? a smaller bucket or dim needs less")
        if r.returncode or not os.path.exists(out):
            last = (r.stderr.strip().splitlines() or ["no output"])[-1]
            if "NaN" in last:
                raise _NaNError(last)
            raise GristmillError(f"fastText training failed: {last}", hint="check the training file and settings")
        try:
            model = fasttext.load_model(out)
        except (ValueError, RuntimeError, OSError) as e:  # a model file cut short (a full disk)
            raise GristmillError(f"fastText training wrote an unreadable model: {e}",
                                 hint=f"free space in the temporary folder ({d})") from e
        model.lr_used = params.get("lr", 0.1)
        return model


def train(positive: list[str], negative: list[str], model_path: str, *, positive_label: str = "pos",
          negative_label: str = "neg", test_share: float = 0.1, seed: int = 0, epoch: int = 10, lr: float = 0.5,
          word_ngrams: int = 2, dim: int = 64, bucket: int = 200_000, min_count: int = 1,
          quantize: bool = False, preparation: str = "words-lower", minn: int = 0, maxn: int = 0,
          cutoff: int = 50_000) -> TrainReport:
    """Train on two lists of texts; documents go to the held-out set by a hash of their text (stable).
    ``preparation`` names the text preparation (see :func:`preparer`); ``minn``/``maxn`` > 0 add the
    character n-grams of each word (fastText sub-words); ``cutoff`` is how many rows quantizing keeps (0: all)."""
    if not positive or not negative:
        raise GristmillError("both a positive and a negative set are needed",
                             hint=f"got {len(positive)} positive and {len(negative)} negative documents")
    rows = [(positive_label, t) for t in positive] + [(negative_label, t) for t in negative]
    train_rows, test_rows = [], []
    for lab, t in rows:
        h = xxhash.xxh64_intdigest(t.encode("utf-8", "surrogatepass"), seed=seed) / 2**64
        (test_rows if h < test_share else train_rows).append((lab, t))
    random.Random(seed).shuffle(train_rows)
    prep = preparer(preparation)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        for lab, t in train_rows:
            f.write(f"__label__{lab} {prep(t, MAX_CHARS)}\n")
    try:
        model = fit_file(f.name, epoch=epoch, lr=lr, wordNgrams=word_ngrams, dim=dim, bucket=bucket,
                         minCount=min_count, minn=minn, maxn=maxn, seed=seed)
    finally:
        os.remove(f.name)
    if quantize:  # a ~2 MB .ftz instead of a ~55 MB .bin (cutoff keeps the most useful n-grams)
        model.quantize(input=None, retrain=False, cutoff=cutoff, qnorm=True)
    Path(model_path).parent.mkdir(parents=True, exist_ok=True)
    model.save_model(model_path)
    meta = {"prepare": preparation, "labels": [positive_label, negative_label], "positive": positive_label,
            "max_chars": MAX_CHARS}
    Path(model_path + ".json").write_text(json.dumps(meta, indent=2))
    clf = Classifier(model_path)
    if test_rows:
        scores = clf.scores([t for _, t in test_rows])
        truth = np.array([lab == positive_label for lab, _ in test_rows])
        acc = float(((scores >= 0.5) == truth).mean())
        auc = roc_auc(scores, truth)
    else:
        acc = auc = float("nan")
    return TrainReport(model_path, [positive_label, negative_label], len(train_rows), len(test_rows),
                       round(acc, 4), round(auc, 4), positive_label)


class Classifier:
    """A trained model: ``scores(texts)`` gives the probability of the positive label, or for an ordinal
    model (its ``.json`` has ``target: ordinal`` and each label's ``values``) the expected score
    ``sum(p(label) * value)``."""

    def __init__(self, model_path: str) -> None:
        import fasttext

        if not os.path.exists(model_path):
            raise GristmillError(f"model not found: {model_path}", hint="train one with: gristmill train-classifier")
        meta_path = model_path + ".json"
        self.meta = json.loads(Path(meta_path).read_text()) if os.path.exists(meta_path) else \
            {"positive": None, "max_chars": MAX_CHARS}
        self.model = fasttext.load_model(model_path)
        labels = [lab.removeprefix("__label__") for lab in self.model.get_labels()]
        self.values = self.meta.get("values") if self.meta.get("target") == "ordinal" else None
        if self.values is not None and set(self.values) != set(labels):
            raise GristmillError(f"{model_path}.json: the values do not name the model's labels ({', '.join(labels)})")
        self.positive = self.meta.get("positive") or labels[0]
        if self.values is None and self.positive not in labels:
            raise GristmillError(f"label {self.positive!r} is not in the model (labels: {', '.join(labels)})")
        self.k = len(labels)
        self.prepare = preparer(self.meta.get("prepare", "words-lower"))

    def scores(self, texts: list[str]) -> np.ndarray:
        prepared = [self.prepare(t, self.meta.get("max_chars", MAX_CHARS)) for t in texts]
        labels, probs = self.model.predict(prepared, k=self.k) if prepared else ([], [])
        out = np.zeros(len(texts))
        if self.values is not None:
            value = {"__label__" + k: float(v) for k, v in self.values.items()}
            for i, (labs, ps) in enumerate(zip(labels, probs, strict=True)):
                p = np.minimum(np.asarray(ps, float), 1.0)
                out[i] = float(np.dot(p, [value[lab] for lab in labs]) / max(p.sum(), 1e-12))
            return out
        want = "__label__" + self.positive
        for i, (labs, ps) in enumerate(zip(labels, probs, strict=True)):
            for lab, p in zip(labs, ps, strict=True):
                if lab == want:
                    out[i] = min(float(p), 1.0)
        return out
