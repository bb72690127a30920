"""``langid``: the main language of each document and the shares of the others, by script and fastText.

Lines are put in two parts by script: CJK lines (at least ``zh_min_han`` of their letters Han, kana or
Hangul) and the others. The CJK part is Chinese unless it has kana or Hangul to speak of (then the bundled
fastText lid.176 model names it); the other part is named by the model. Each part weighs the UTF-8 bytes of
its letters (a Han character 3, a Latin letter 1, about what each carries); the heavier part gives ``lang``.
So a Chinese man page whose option text is English is ``zh`` with an ``en_share``, and a long English page
with one Chinese paragraph is ``en``. Documents without CJK letters take the model's answer.

The model reads a budget of ``max_chars`` characters (500) taken from ``windows`` (5) places spread over the
text (:func:`gristmill.text.langsample.sample_text`), not its first 2,000: the cost per document is fixed
(about 0.08 ms) and agrees with the model reading the whole text on 99.5-100% of documents
(``bench/langid_speed.py``).

>>> from gristmill.recipe import load_recipe
>>> import pyarrow as pa
>>> step = load_recipe(text="steps:\\n  - step: langid\\n").steps[0].build(); step.setup()
>>> page = "选项\\n-a, --all\\n    以可读性较好的格式输出全部当前设置。\\nThe option is the default."
>>> t = step.process(pa.table({"id": ["1"], "text": [page]})).table
>>> t["lang"][0].as_py(), t["lang_shares"][0].as_py(), t["en_share"][0].as_py()
('zh', 'zh:0.731 en:0.269', 0.2692)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import compress

import numpy as np
import pyarrow as pa

from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column
from gristmill.text.chinese import simplified
from gristmill.text.lang import Lang, normalise_label
from gristmill.text.langsample import flat, sample_text, sample_texts
from gristmill.text.scripts import line_parts, script_counts

EARLIER_CHARS = 2000  # what by_line: false reads (the first characters), as before max_chars became a budget


@dataclass
class LangIdParams:
    keep: list[Lang] | None = param(None, "languages to keep (null: annotate only, reject nothing)")
    min_score: float = param(0.0, "reject documents whose language score is below this", min=0, max=1)
    max_chars: int = param(500, "characters given to the model (a budget): the whole text when shorter, else "
                                "`windows` pieces spread from its start to its end (of its non-CJK lines when it "
                                "has CJK lines)", min=1)
    windows: int = param(5, "places the max_chars budget is taken from, evenly spaced (1: the first max_chars "
                            "characters)", min=1, max=64)
    zh_min_han: float = param(0.3, "a line (by_line) or a document is CJK when at least this share of its "
                                   "letters are Han characters (with kana or Hangul: Japanese, Korean)",
                              min=0, max=1)
    by_line: bool = param(True, "language shares by line (lang_shares, en_share, zh_share); false: one label "
                                "per document from its first 2,000 characters and a share of 1.0 (the earlier "
                                "rule, kept to compare: max_chars and windows do not apply)")


@lru_cache(maxsize=1)
def load_model():
    import fasttext

    path = resources.files("gristmill") / "resources" / "lid.176.ftz"
    with resources.as_file(path) as p:
        return fasttext.load_model(str(p))


def decide(label: str, score: float, letters: int, han: int, kana: int, hangul: int,
           zh_min_han: float) -> tuple[str, float]:
    """One label per document: the model's answer, or zh when Han letters reach ``zh_min_han``."""
    han_frac = han / letters if letters else 0.0
    if han_frac >= zh_min_han and kana < 0.05 * han and hangul < 0.05 * han:
        return "zh", score if label == "zh" else han_frac
    if letters == 0:
        return "und", 0.0
    return label, score


_OF_KIND = {kind: bytes(int(k == kind) for k in range(256)) for kind in (1, 2)}  # line kind -> 1, others -> 0


def _sample(lines: list[str], kinds: bytes, kind: int, max_chars: int, windows: int = 1) -> str:
    """The model's sample of the lines of ``kind``: :func:`gristmill.text.langsample.sample_text` of them
    (with one window, their first ``max_chars`` characters)."""
    if windows != 1:  # all of them (itertools.compress: no Python step per line)
        return sample_text(" ".join(compress(lines, kinds.translate(_OF_KIND[kind]))), max_chars, windows)
    out, n = [], 0
    for i, k in enumerate(kinds):
        if k == kind:
            out.append(lines[i])
            n += len(lines[i]) + 1
            if n >= max_chars:
                break
    return sample_text(" ".join(out), max_chars, windows)


@dataclass
class _Parts:
    """A document's CJK and other lines: their weights, and the model's samples where it must name them."""

    cjk_weight: float = 0.0
    other_weight: float = 0.0
    cjk_sample: str | None = None  # None: the CJK part is Chinese by script
    other_sample: str | None = None


def split_parts(text: str, zh_min_han: float, max_chars: int, windows: int = 1) -> _Parts:
    """Weigh the CJK lines of ``text`` against the others (:func:`gristmill.text.scripts.line_parts`) and
    take the model's samples (``max_chars`` from ``windows`` places)."""
    cjk_w, other_w, han, kana, hangul, kinds = line_parts(text, zh_min_han)
    parts = _Parts(float(cjk_w), float(other_w))
    lines = text.split("\n") if (kana or hangul or other_w) else []
    if cjk_w and (kana >= 0.05 * han or hangul >= 0.05 * han):
        parts.cjk_sample = simplified(_sample(lines, kinds, 1, max_chars, windows))
    if other_w:  # the model reads the Simplified view: a Traditional page gets the same answer
        parts.other_sample = simplified(_sample(lines, kinds, 2, max_chars, windows))
    return parts


def combine(parts: _Parts, cjk: tuple[str, float] | None, other: tuple[str, float] | None
            ) -> tuple[str, float, dict[str, float]]:
    """(main language, score, shares) from the parts and the model's (label, probability) for each part
    it named. The score is the main language's share times the model's probability when the model named it.

    >>> combine(_Parts(300.0, 100.0), None, ("en", 0.9))
    ('zh', 0.75, {'zh': 0.75, 'en': 0.25})
    """
    total = parts.cjk_weight + parts.other_weight
    if not total:
        return "und", 0.0, {}
    shares: dict[str, float] = {}
    prob: dict[str, float] = {}
    for weight, named, default in ((parts.cjk_weight, cjk, "zh"), (parts.other_weight, other, None)):
        if not weight:
            continue
        label, p = named if named is not None else (default, 1.0)
        shares[label] = shares.get(label, 0.0) + weight / total
        prob[label] = max(prob.get(label, 0.0), p)
    main = max(shares, key=shares.__getitem__)
    return main, shares[main] * prob[main], dict(sorted(shares.items(), key=lambda kv: -kv[1]))


def shares_text(shares: list[dict[str, float]]) -> list[str]:
    """``lang_shares`` of each document: "zh:0.731 en:0.269" (each distinct set of shares written once; shares
    are positive, so equal ones print alike).

    >>> shares_text([{"en": 1.0}, {}, {"zh": 0.7312, "en": 0.2688}, {"en": 1.0}])
    ['en:1.000', '', 'zh:0.731 en:0.269', 'en:1.000']
    """
    written: dict[tuple[tuple[str, float], ...], str] = {}
    out = []
    for s in shares:
        key = tuple(s.items())
        text = written.get(key)
        if text is None:
            text = written[key] = " ".join(f"{k}:{v:.3f}" for k, v in key)
        out.append(text)
    return out


@register
class LangId(Step):
    """Language ID per document with the shares of its languages (fastText lid.176, offline, and scripts)."""

    name = "langid"
    Params = LangIdParams
    outputs = ("lang", "lang_score", "han_frac", "lang_shares", "en_share", "zh_share")

    def setup(self) -> None:
        self.model = load_model()

    def _predict(self, samples: list[str]) -> tuple[list[str], np.ndarray]:
        """The model's label (our code) and probability for each sample; each distinct label is mapped once."""
        if not samples:
            return [], np.zeros(0)
        labels, probs = self.model.predict(samples, k=1)
        top = [lab[0] for lab in labels]
        codes = {lab: normalise_label(lab) for lab in set(top)}
        scores = np.concatenate(probs).astype(np.float64)  # k=1: one probability per sample
        if len(scores) != len(samples):
            raise RuntimeError(f"fastText gave {len(scores)} probabilities for {len(samples)} samples")
        return [codes[lab] for lab in top], scores

    def identify(self, texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray, list[dict[str, float]]]:
        """(languages, scores, Han shares, language shares) of ``texts``.

        Documents without CJK letters (most) are sampled in one call (:func:`sample_texts`) and take
        :func:`decide`; those with CJK letters are split by line (:func:`split_parts`) and take :func:`combine`.
        The model reads all samples in one call."""
        p: LangIdParams = self.params
        counts = [script_counts(t) for t in texts]
        han_fracs = np.array([h / n if n else 0.0 for n, h, _, _ in counts])
        plain, mixed = [], []  # documents read whole, and documents split into CJK and other lines
        for i, (letters, han, kana, hangul) in enumerate(counts):
            (mixed if p.by_line and letters and (han or kana or hangul) else plain).append(i)
        if not p.by_line:
            samples = [flat(texts[i][:EARLIER_CHARS]) for i in plain]
        elif mixed:
            samples = sample_texts([texts[i] for i in plain], p.max_chars, p.windows)
        else:
            samples = sample_texts(texts, p.max_chars, p.windows)
        parts = [split_parts(texts[i], p.zh_min_han, p.max_chars, p.windows) for i in mixed]
        for pt in parts:
            samples.extend(x for x in (pt.cjk_sample, pt.other_sample) if x is not None)
        codes, probs = self._predict(samples)
        probs = probs.tolist()
        langs: list[str] = [""] * len(texts)
        scores: list[float] = [0.0] * len(texts)
        shares: list[dict[str, float]] = [{}] * len(texts)  # (placeholders: every document gets its own dict)
        for k, i in enumerate(plain):
            letters, han, kana, hangul = counts[i]
            lang, scores[i] = decide(codes[k], probs[k], letters, han, kana, hangul, p.zh_min_han)
            langs[i] = lang
            shares[i] = {lang: 1.0} if lang != "und" else {}
        k = len(plain)
        for i, pt in zip(mixed, parts, strict=True):
            named = []
            for x in (pt.cjk_sample, pt.other_sample):
                named.append(None if x is None else (codes[k], probs[k]))
                k += x is not None
            langs[i], scores[i], shares[i] = combine(pt, *named)
        return langs, np.minimum(np.array(scores, dtype=np.float64), 1.0), han_fracs, shares

    def process(self, table: pa.Table) -> Result:
        p: LangIdParams = self.params
        langs, out_scores, han_fracs, shares = self.identify(text_column(table))
        table = with_column(table, "lang", pa.array(langs, pa.string()))
        table = with_column(table, "lang_score", pa.array(np.round(out_scores, 4)))
        table = with_column(table, "han_frac", pa.array(np.round(han_fracs, 4)))
        table = with_column(table, "lang_shares", pa.array(shares_text(shares), pa.string()))
        for code in ("en", "zh"):
            table = with_column(table, f"{code}_share", pa.array(
                np.round([s.get(code, 0.0) for s in shares], 4), pa.float64()))
        reject = np.zeros(len(langs), dtype=bool)
        reasons, details = [], []
        if p.keep is not None or p.min_score > 0:
            keep = set(p.keep) if p.keep is not None else None
            for i, lang in enumerate(langs):
                if keep is not None and lang not in keep:
                    reject[i] = True
                    reasons.append("language")
                    details.append(f"lang={lang} score={out_scores[i]:.3f} not in {sorted(keep)}")
                elif out_scores[i] < p.min_score:
                    reject[i] = True
                    reasons.append("low_score")
                    details.append(f"lang={lang} score={out_scores[i]:.3f} < {p.min_score}")
        return Result(table, reject, reasons, details)
