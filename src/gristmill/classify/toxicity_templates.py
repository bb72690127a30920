"""Templated training cases (in the style of HateCheck, Röttger et al. 2021) that teach a toxicity model
what real data has too little of: identity mentions without hate, negated hate, counter-speech that quotes
hate, group hate without slurs and, for Chinese, insults aimed at a person rather than a group.

Written for gristmill. Sentence frames and identity terms here are for training only; the evaluation in
``bench/toxicity.py`` uses other frames and other identity terms, and real held-out data.

>>> cases = template_cases("zh", quotes=["河南人都是骗子"])
>>> sorted({c.category for c in cases})[:3]
['counter_quote', 'group_hate', 'identity_neutral']
>>> [c.label for c in cases if c.category == "personal_insult"][:1]
['offensive']
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    text: str
    label: str      # hate, offensive, neutral or not_hate (offensive or neutral)
    category: str


IDENT = {
    "en": ["women", "black people", "gay people", "trans people", "Muslims", "Jews", "immigrants", "disabled people",
           "Mexicans", "Asians", "refugees", "lesbians", "Arabs", "Africans", "old people"],
    "zh": ["黑人", "女人", "同性恋", "河南人", "东北人", "穆斯林", "外地人", "农村人", "残疾人", "跨性别者",
           "日本人", "新疆人", "上海人", "女司机", "犹太人"],
}
NEUTRAL = {
    "en": ["{g} live on my street.", "My new colleagues are {g}.", "The report counts how many {g} work in tech.",
           "{g} held a festival downtown this weekend.", "There are many {g} in this city.",
           "We invited {g} from the community to speak.", "Support for {g} has grown this year.",
           "I grew up with {g} and we are still friends.", "The museum has an exhibit on the history of {g}.",
           "Are there any {g} in your team?", "{g} are people like everyone else.", "I am proud to stand with {g}."],
    "zh": ["我的同事是{g}，人很好。", "{g}也是我们的同胞。", "这篇报道介绍了{g}的生活。", "今天认识了几个{g}朋友。",
           "{g}和大家一样努力生活。", "关于{g}的政策今年有调整。", "我们班有不少{g}同学。", "{g}的权益应该受到保护。",
           "我邻居就是{g}，经常帮我。", "你们那边{g}多吗？", "这部纪录片讲的是{g}的故事。", "作为{g}，我很爱这座城市。"],
}
HATE = {
    "en": ["{g} are vermin.", "{g} should all be deported.", "I can't stand {g}.", "{g} are a plague on this country.",
           "All {g} are criminals.", "{g} don't deserve any rights.", "{g} are disgusting animals.",
           "Get {g} out of our country.", "{g} are subhuman.", "I wish {g} would just disappear.",
           "Never trust {g}, they are all liars.", "{g} ruin every place they move to."],
    "zh": ["{g}都是垃圾。", "{g}滚出中国。", "{g}就是低等人。", "{g}没一个好东西。", "{g}都该死。", "我最讨厌{g}了。",
           "{g}就是社会的毒瘤。", "看到{g}就恶心。", "{g}都是骗子，别信他们。", "{g}不配有任何权利。",
           "把{g}都赶出去。", "{g}就是一群畜生。"],
}
NEGATED = {
    "en": ["I don't hate {g}.", "{g} are not vermin.", "It is wrong to say {g} are criminals.",
           "Nobody should think {g} are inferior.", "{g} are not a problem for this country.",
           "I would never say {g} deserve less."],
    "zh": ["我并不讨厌{g}。", "{g}不是垃圾，别乱说。", "说{g}都是骗子是不对的。", "没有人应该觉得{g}低人一等。",
           "{g}并不是社会的问题。", "我从来不会说{g}不配。"],
}
COUNTER = {
    "en": ['Saying "{q}" is just hateful.', 'Stop posting stuff like "{q}", it is bigoted and wrong.',
           'Whoever wrote "{q}" should be ashamed.', 'I reported the post "{q}" for hate speech.',
           'A man was charged after shouting "{q}" at a bus driver.', 'Replies like "{q}" show why we need moderation.'],
    "zh": ["说“{q}”的人太过分了。", "“{q}”这种话就是歧视，请不要再说。", "看到有人评论“{q}”，我举报了。",
           "有人在车上喊“{q}”，被警方带走调查。", "“{q}”这样的言论不应该出现。", "别再转发“{q}”这种地域黑的话了。"],
}
# derogatory words for groups (general knowledge of Chinese internet usage), used in hateful frames and,
# as hard negatives, in sentences that discuss the word itself
SLUR_ZH = ["黑鬼", "尼哥", "黑蛆", "基佬", "死基佬", "娘炮", "人妖", "女拳", "田园女权", "母狗", "绿茶婊", "小日本",
           "鬼子", "阿三", "棒子", "白皮猪", "洋垃圾", "蝻", "普信男", "绿绿", "乡巴佬", "捞女"]
SLUR_FRAMES_ZH = ["又是一群{s}。", "{s}都滚出去。", "这些{s}真恶心。", "{s}就该被收拾。", "评论区全是{s}。",
                  "果然是{s}，一点不意外。"]
MENTION_FRAMES_ZH = ["“{s}”是一个带有歧视的词，请不要使用。", "这篇文章分析了“{s}”这个词的来历。",
                     "有人骂他“{s}”，他报了警。", "用“{s}”称呼别人是不尊重的。"]
INSULT_ZH = ["傻逼", "脑残", "废物", "白痴", "蠢货", "智障", "神经病", "垃圾", "贱人", "混蛋", "王八蛋", "人渣",
             "畜生", "狗东西", "弱智", "煞笔", "蠢猪", "傻叉"]
INSULT_FRAMES_ZH = ["你这个{w}。", "{w}，闭嘴吧。", "滚吧，{w}。", "你真是个{w}。", "楼主就是个{w}。",
                    "他妈的，这{w}又来了。", "回复你的都是{w}。", "去死吧你个{w}。"]


def template_cases(lang: str, quotes: list[str], seed: int = 0, max_quotes: int = 400) -> list[Case]:
    """The templated cases for ``lang`` (en, zh); counter-speech wraps ``quotes`` (hateful texts taken from
    the training split only), at most ``max_quotes`` of them."""
    if lang not in IDENT:
        return []
    rng = random.Random(seed)
    out: list[Case] = []
    for frames, label, cat in ((NEUTRAL, "neutral", "identity_neutral"), (HATE, "hate", "group_hate"),
                               (NEGATED, "neutral", "negated_hate")):
        for f in frames[lang]:
            for g in IDENT[lang]:
                out.append(Case(_cap(f.format(g=g)), label, cat))
    short = [q.strip() for q in quotes if 4 <= len(q.strip()) <= 140 and '"' not in q and "“" not in q]
    for q in rng.sample(short, min(max_quotes, len(short))):
        out.append(Case(rng.choice(COUNTER[lang]).format(q=q), "not_hate", "counter_quote"))
    if lang == "zh":
        for frames, label, cat in ((SLUR_FRAMES_ZH, "hate", "slur_hate"), (MENTION_FRAMES_ZH, "neutral", "slur_mention")):
            for f in frames:
                for w in SLUR_ZH:
                    out.append(Case(f.format(s=w), label, cat))
        for f in INSULT_FRAMES_ZH:
            for w in INSULT_ZH:
                out.append(Case(f.format(w=w), "offensive", "personal_insult"))
    return out


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]
