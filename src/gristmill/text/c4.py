"""C4's line rules (Raffel et al. 2020, as datatrove's C4QualityFilter applies them), language-aware.

A line is kept when it has no word over 1,000 characters, ends in terminal punctuation (for Chinese also
``。！？…”」``; not in ``...``), has at least 3 words, does not mention javascript, and holds none of the
cookie/terms-of-use phrases. "lorem ipsum" and "{" in a candidate line mark the whole document.

>>> r = c4_lines("Click here\\nThis is a fine sentence. And another one!\\nWe use cookies to improve it.", "en")
>>> r.kept, r.sentences, r.policy_lines
(['This is a fine sentence. And another one!'], 2, 1)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
END_PUNCT = (".", "?", "!", '"', "'")
END_PUNCT_ZH = END_PUNCT + ("。", "！", "？", "…", "”", "」", "』", "．", "；")
POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
# a sentence ends at . ! ? (or Chinese 。！？) followed by closing quotes/brackets, then a space and more text
_SENT_END = re.compile(r"""(?:(?<![A-Z])(?<!\b[A-Z][a-z])\.+|[!?]+|[。！？]+)['")\]’”」』]*(?=\s+\S|(?<=[。！？])\S)""")


@dataclass
class C4Lines:
    kept: list[str] = field(default_factory=list)
    kept_index: list[int] = field(default_factory=list)   # which input line each kept line is
    changed: list[bool] = field(default_factory=list)     # whether citation removal changed it
    sentences: int = 0
    lines: int = 0
    lorem: bool = False
    curly: bool = False
    javascript_lines: int = 0
    policy_lines: int = 0
    no_terminal_lines: int = 0
    citations: int = 0


def count_sentences(line: str) -> int:
    """Sentences in a line: ends of sentences followed by more text, plus one."""
    return len(_SENT_END.findall(line)) + 1 if line.strip() else 0


def c4_lines(text: str, lang: str | None = None, *, min_words: int = 3, max_word_length: int = 1000,
             zh_words=None, line_words: list[int] | None = None) -> C4Lines:
    """Apply the C4 line rules. ``zh_words(line)`` counts words of a Chinese line (jieba); ``line_words``,
    when given, has the count for each line of ``text.splitlines()`` already (used unless citation removal
    changed the line)."""
    zh = lang == "zh"
    ends = END_PUNCT_ZH if zh else END_PUNCT
    r = C4Lines()
    for i, line in enumerate(text.splitlines()):
        line = line.strip()
        cited = False
        r.lines += 1
        ws = line.split()
        if len(line) > max_word_length and max(map(len, ws)) > max_word_length:
            continue
        if "[" in line:
            line, k = CITATION.subn("", line)
            r.citations += k
            cited = k > 0
        if not line.endswith(ends) or line.endswith("..."):
            r.no_terminal_lines += 1
            continue
        n_words = len(ws) if not zh else (line_words[i] if line_words is not None and not cited
                                          else zh_words(line))
        if n_words < min_words:
            continue
        low = line.lower()
        if "lorem ipsum" in low:
            r.lorem = True
        if "javascript" in low:
            r.javascript_lines += 1
            continue
        if "{" in line:
            r.curly = True
        if any(p in low for p in POLICY):
            r.policy_lines += 1
            continue
        r.sentences += count_sentences(line)
        r.kept.append(line)
        r.kept_index.append(i)
        r.changed.append(cited)
    return r
