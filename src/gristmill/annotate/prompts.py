"""Scoring prompts written for gristmill, in English and Chinese (the Chinese prompts judge Chinese text in
Chinese), and the document truncation they are sent with.

Two built-in prompts, each on a 0–5 scale with additive criteria, asking for short reasons and then one
final line ``Score: N`` (``评分：N``): ``edu`` (educational value, for pretraining the way FineWeb-Edu and
ChineseWebText select) and ``quality`` (general quality and coherence of the writing). A user's own prompt
is a text file with ``{text}`` and, optionally, ``{lang}``; its scale is given with it.

Documents longer than ``max_chars`` characters are cut at the last line or sentence end before the budget
(or at the budget when there is none in its last fifth) and the prompt says so. Characters, not tokens, are
the budget because the endpoint's tokenizer is unknown: 6,000 characters are about 1,500 English tokens or
4,000–6,000 Chinese tokens with common tokenizers.

>>> p = builtin("edu", "zh")
>>> p.scale, "{text}" in p.template, p.template.startswith("下面")
((0.0, 5.0), True, True)
>>> truncate("一句话。" * 10, 9)
('一句话。一句话。', True)
>>> render(builtin("quality", "en"), "Short text.", "en", 100)[1]
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gristmill.errors import GristmillError

MAX_CHARS = 6000
_CUT = re.compile(r"[\n。！？!?]|[.;](?=\s)")

EDU_EN = """Below is an extract from a document. Judge how useful it would be for teaching, from primary school \
to university level, using this additive 5-point system. Start at 0 and add points:

- Add 1 point if the extract gives some basic information on an educational topic, even if it also holds \
advertisements, navigation or other irrelevant material.
- Add another point if it addresses parts of a topic relevant to education but does not follow a clear line, \
or mixes educational content with non-educational content.
- Add a third point if it introduces key concepts relevant to school or university curricula in a coherent \
way, even if it is not thorough; a simple tutorial or reference page of this kind qualifies.
- Add a fourth point if it is well organised, clearly written and could serve as a lesson or textbook \
section, with little irrelevant material.
- Add a fifth point if it is outstanding teaching material: clear, accurate, deep, with examples or \
exercises, and nothing off-topic.

Language of the extract: {lang}.
Extract{truncated}:
<document>
{text}
</document>

In at most 80 words, give your reasons. Then write the score on the last line exactly as "Score: N", \
with N a whole number from 0 to 5."""

EDU_ZH = """下面是一篇文档的节选。请用下面的累加式五分制，判断它作为教学材料（从小学到大学）有多大价值。\
从 0 分开始，满足一条加一分：

- 如果节选提供了某个教育相关主题的基本信息，加 1 分，即使其中夹杂广告、导航或其他无关内容。
- 如果它涉及与教育相关的主题的某些方面，但条理不清，或者教育内容与非教育内容混杂，再加 1 分。
- 如果它连贯地介绍了与中小学或大学课程相关的关键概念，即使不够全面，再加 1 分；这类简单的教程或参考页面也算。
- 如果它组织良好、表述清楚，可以用作一节课或教科书的一部分，几乎没有无关内容，再加 1 分。
- 如果它是出色的教学材料：清楚、准确、有深度，带有例子或练习，没有离题的内容，再加 1 分。

节选的语言：{lang}。
节选{truncated}：
<document>
{text}
</document>

请用不超过一百五十字说明理由，然后在最后一行严格按照“评分：N”的格式写出分数，N 为 0 到 5 的整数。"""

QUALITY_EN = """Below is a document from a collection of web and reference text. Judge the quality of its \
writing using this additive 5-point system. Start at 0 and add points:

- Add 1 point if it is readable text in a natural language, not mostly lists of links, code, tables of \
numbers, boilerplate or garbled characters.
- Add another point if its sentences are complete and grammatical and it stays on one subject.
- Add a third point if it is coherent as a whole: ideas follow from each other and the text makes sense \
without the page around it.
- Add a fourth point if it is informative and well structured, free of spam, keyword stuffing and \
repetition.
- Add a fifth point if it is excellent writing that a careful editor would publish as it is.

Language of the document: {lang}.
Document{truncated}:
<document>
{text}
</document>

In at most 80 words, give your reasons. Then write the score on the last line exactly as "Score: N", \
with N a whole number from 0 to 5."""

QUALITY_ZH = """下面是一篇取自网页和参考资料的文档。请用下面的累加式五分制，判断它的写作质量。从 0 分开始，\
满足一条加一分：

- 如果它是可读的自然语言文本，而不主要是链接列表、代码、数字表格、模板化的页面内容或乱码，加 1 分。
- 如果它的句子完整、通顺，并且围绕同一个主题，再加 1 分。
- 如果它整体连贯：前后意思衔接，离开所在的网页也能读懂，再加 1 分。
- 如果它内容充实、结构清楚，没有垃圾广告、关键词堆砌和重复，再加 1 分。
- 如果它是出色的文字，细心的编辑会原样发表，再加 1 分。

文档的语言：{lang}。
文档{truncated}：
<document>
{text}
</document>

请用不超过一百五十字说明理由，然后在最后一行严格按照“评分：N”的格式写出分数，N 为 0 到 5 的整数。"""

BUILTIN = {("edu", "en"): EDU_EN, ("edu", "zh"): EDU_ZH, ("quality", "en"): QUALITY_EN,
           ("quality", "zh"): QUALITY_ZH}
TRUNCATED = {"en": " (truncated: only its beginning is shown)", "zh": "（已截断，只给出开头部分）"}
LANG_NAMES = {"en": {"en": "English", "zh": "Chinese"}, "zh": {"en": "英语", "zh": "中文"}}


@dataclass(frozen=True)
class Prompt:
    name: str              # edu, quality, or the file's name
    lang: str              # the language the prompt is written in
    template: str          # with {text}, and optionally {lang} and {truncated}
    scale: tuple[float, float] = (0.0, 5.0)


def builtin(name: str, lang: str) -> Prompt:
    """The built-in prompt ``name`` (edu or quality) for documents in ``lang``: Chinese documents get the
    Chinese prompt, every other language the English one."""
    if (name, "en") not in BUILTIN:
        raise GristmillError(f"no built-in prompt {name!r}", hint="edu or quality, or a file with {text}")
    pl = "zh" if lang == "zh" else "en"
    return Prompt(name, pl, BUILTIN[(name, pl)])


def from_file(path: str, scale: tuple[float, float]) -> Prompt:
    """A user's prompt file: any text holding ``{text}`` (and optionally ``{lang}``, ``{truncated}``)."""
    try:
        template = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise GristmillError(f"cannot read prompt file {path}: {e.strerror or e}") from None
    if "{text}" not in template:
        raise GristmillError(f"prompt file {path} has no {{text}} placeholder", hint="write {text} where the "
                             "document goes, {lang} for its language")
    try:
        template.format(text="", lang="", truncated="")
    except (KeyError, IndexError, ValueError) as e:
        raise GristmillError(f"prompt file {path}: bad placeholder {e} (only {{text}}, {{lang}} and "
                             "{{truncated}}; write other braces doubled: {{ }})") from None
    if not scale[0] < scale[1]:
        raise GristmillError(f"bad scale {scale[0]:g}-{scale[1]:g}", hint="e.g. --scale 0-5")
    return Prompt(Path(path).name, "user", template, scale)


def truncate(text: str, max_chars: int) -> tuple[str, bool]:
    """(the text cut to at most ``max_chars`` characters at a line or sentence end when one is near, cut?)"""
    if len(text) <= max_chars:
        return text, False
    head = text[:max_chars]
    ends = [m.end() for m in _CUT.finditer(head)]
    if ends and ends[-1] >= 0.8 * max_chars:
        head = head[:ends[-1]]
    return head.rstrip(), True


def render(prompt: Prompt, text: str, lang: str, max_chars: int = MAX_CHARS) -> tuple[str, bool]:
    """(the message sent for one document, whether the document was truncated)."""
    body, cut = truncate(text, max_chars)
    names = LANG_NAMES["zh" if prompt.lang == "zh" else "en"]
    note = TRUNCATED["zh" if prompt.lang == "zh" else "en"] if cut else ""
    return prompt.template.format(text=body, lang=names.get(lang, lang), truncated=note), cut
