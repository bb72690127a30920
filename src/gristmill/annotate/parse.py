"""The score in a judge's reply: a number on the stated scale, with the reasons kept.

Read in this order, the last match of each kind winning (models restate the criteria before scoring):
a labelled score (``Score: 4``, ``Educational score - 4/5``, ``评分：４分``, ``得分为三分``), a JSON field
``"score"``, an ``N/max`` fraction whose denominator is the scale's top, and a reply that is only a number.
Full-width digits and Chinese numerals up to ten are read. A number outside the scale, or a fraction over
another scale, is not a score: the reply gets ``score = None`` and the reason why. The reasons are the reply
without the score line.

>>> parse("The page explains photosynthesis clearly.\\nScore: 4", (0, 5))
(4.0, 'The page explains photosynthesis clearly.', None)
>>> parse("理由：内容连贯。\\n评分：３分", (0, 5))[0], parse('{"reason": "ok", "score": 2.5}', (0, 5))[0]
(3.0, 2.5)
>>> parse("Educational score: 7", (0, 5))
(None, 'Educational score: 7', 'score 7 is outside 0-5')
>>> parse("I cannot judge this.", (0, 5))[2]
'no score on the 0-5 scale in the reply'
"""

from __future__ import annotations

import re
import unicodedata

ZH_NUM = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
          "九": 9, "十": 10}
_NUM = r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十])"
_LABEL = re.compile(r"(?:\bscore|\brating|\bgrade|评分|得分|分数|打分|总分|最终分数)\s*(?:\([^)\n]{0,20}\))?"
                    r"\s*(?:is|为|是|:|：|=|-|–)?\s*(?:\*\*)?\s*" + _NUM + r"(?:\s*/\s*(\d+))?\s*(?:\*\*)?\s*(?:分|points?)?",
                    re.I)
_JSON = re.compile(r'"score"\s*:\s*"?(-?\d+(?:\.\d+)?)"?', re.I)
_FRACTION = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*/\s*(\d+)(?!\d|\.\d)")
_ONLY = re.compile(r"^\s*(?:\*\*)?" + _NUM + r"(?:\*\*)?\s*(?:分|points?)?\s*[.。]?\s*$", re.I)


def _value(s: str) -> float:
    return float(ZH_NUM[s]) if s in ZH_NUM else float(s)


def _reasons(reply: str, span: tuple[int, int]) -> str:
    """The reply without the line holding the score."""
    a = reply.rfind("\n", 0, span[0]) + 1
    b = reply.find("\n", span[1])
    rest = reply[:a] + ("" if b < 0 else reply[b + 1:])
    rest = re.sub(r"^\s*(?:reasons?|理由)\s*[:：]\s*", "", rest.strip(), flags=re.I)
    return rest.strip()


def parse(reply: str, scale: tuple[float, float]) -> tuple[float | None, str, str | None]:
    """(score or None, reasons, why there is no score or None)."""
    lo, hi = scale
    text = unicodedata.normalize("NFKC", reply or "")
    found = None  # (value, denominator or None, span)
    for rx in (_LABEL, _JSON):
        ms = list(rx.finditer(text))
        if ms:
            m = ms[-1]
            den = m.group(2) if rx is _LABEL else None
            found = (_value(m.group(1)), float(den) if den else None, m.span())
            break
    if found is None:
        ms = list(_FRACTION.finditer(text))
        if ms:
            m = ms[-1]
            found = (float(m.group(1)), float(m.group(2)), m.span())
    if found is None:
        m = _ONLY.match(text)
        if m:
            found = (_value(m.group(1)), None, m.span())
    if found is None:
        return None, text.strip(), f"no score on the {lo:g}-{hi:g} scale in the reply"
    value, den, span = found
    if den is not None and den != hi:
        return None, text.strip(), f"score {value:g}/{den:g} is not on the {lo:g}-{hi:g} scale"
    if not lo <= value <= hi:
        return None, text.strip(), f"score {value:g} is outside {lo:g}-{hi:g}"
    return value, _reasons(text, span), None


def scale_of(spec: str) -> tuple[float, float]:
    """``"0-5"`` → (0.0, 5.0).

    >>> scale_of("1-10")
    (1.0, 10.0)
    """
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*[-–:]\s*(-?\d+(?:\.\d+)?)\s*", spec)
    if not m or float(m.group(1)) >= float(m.group(2)):
        from gristmill.errors import GristmillError

        raise GristmillError(f"bad scale {spec!r}", hint="LOW-HIGH, e.g. 0-5")
    return float(m.group(1)), float(m.group(2))

