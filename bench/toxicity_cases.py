"""Evaluation sets for bench/toxicity.py: held-out slices of the real labelled data, and functional test
cases in the HateCheck style whose sentence frames and identity terms are NOT those the bundled models were
trained with (``gristmill.classify.toxicity_templates``); counter-speech wraps held-out real hate.

Every set is a list of (text, label) with label one of hate, offensive, neutral.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

from gristmill.classify.toxicity import held_out

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
IDENT = {"en": ["Hindus", "Chinese people", "Roma", "bisexual people", "Sikhs", "deaf people", "Latinos",
                "Catholics", "Pakistanis", "Nigerians"],
         "zh": ["苗族人", "山东人", "印度人", "基督徒", "聋哑人", "单亲妈妈", "广东人", "外国留学生", "蒙古族", "湖南人"]}
FRAMES = {
    "en": {
        "identity_neutral": ["My dentist and her wife are {g}.", "{g} organised a charity run last Sunday.",
                             "The census asks how many {g} live in the region.", "I'm reading a novel written by {g}.",
                             "Two {g} opened a bakery near the station.", "Our school has a club for {g}."],
        "group_hate": ["{g} are a disease.", "Honestly, {g} should be locked up.", "{g} are too stupid to vote.",
                       "We need to keep {g} away from our children.", "{g} are nothing but parasites.",
                       "The world would be better without {g}."],
        "negated_hate": ["I have never thought {g} are a disease.", "{g} are not parasites, stop saying that.",
                         "There is nothing wrong with {g}.", "Nobody here believes {g} should be locked up."],
        "counter_quote": ["Can't believe someone tweeted \"{q}\" this year. Disgusting.",
                          "Posts like \"{q}\" are exactly the hate we have to call out.",
                          "The court fined him for writing \"{q}\".",
                          "Quoting a troll: \"{q}\". Please report this account."],
        "personal_insult": ["You are a complete idiot.", "Shut up, you useless moron.", "What a pathetic loser you are.",
                            "You clown, nobody asked you.", "Go away, you stupid jerk.", "Are you really this dumb?"],
    },
    "zh": {
        "identity_neutral": ["我们公司新来了几位{g}同事。", "{g}的传统节日很热闹。", "这本书的作者是{g}。",
                             "统计显示{g}的收入在增长。", "小区里住着不少{g}。", "{g}组织了一次公益活动。"],
        "group_hate": ["{g}就是一群寄生虫。", "{g}都应该被关起来。", "{g}太蠢了，不配投票。", "离{g}远一点，他们都是祸害。",
                       "没有{g}世界会更好。", "{g}就是劣等人。"],
        "negated_hate": ["我从来不觉得{g}是祸害。", "{g}不是寄生虫，别再这么说了。", "{g}没有任何问题。",
                         "这里没人认为{g}该被关起来。"],
        "counter_quote": ["居然有人发“{q}”，太恶心了。", "像“{q}”这样的话就是我们要反对的仇恨言论。",
                          "他因为在网上写“{q}”被罚款。", "转述一个喷子的话：“{q}”，大家举报他。"],
        "personal_insult": ["你就是个十足的笨蛋。", "闭嘴吧你这个没用的东西。", "你可真是个可怜的失败者。",
                            "滚远点，你这个小丑。", "你脑子进水了吧？", "你个二货，没人问你。"],
    },
}
LABEL = {"identity_neutral": "neutral", "group_hate": "hate", "negated_hate": "neutral", "counter_quote": "neutral",
         "personal_insult": "offensive"}


def read(rel: str) -> list[dict]:
    with gzip.open(SHARED / rel, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def real_sets() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """Held-out real data per language and set name (the split of recipes/toxicity-shared.yaml)."""
    dav = [r for r in read("toxic/davidson_hate_offensive_en_shared.jsonl.gz") if held_out(r["text"], 0, 0.2)]
    hm = [r for r in read("toxic/hatemojibuild_en.jsonl.gz")
          if held_out(min(r["id"], r.get("matched_id") or r["id"]), 0, 0.2)]
    cold = [r for r in read("toxic/cold_dev_zh.jsonl.gz") if held_out(r["text"], 0, 0.2)]
    tcn = [r for r in read("toxic/toxicn_zh.jsonl.gz") if r["toxicn_ex_split"] == "test"]
    ethos = read("toxic/ethos_en.jsonl.gz")
    d3 = ["hate", "offensive", "neutral"]
    return {
        "en": {"davidson held-out": [(r["text"], d3[r["label"]]) for r in dav],
               "hatemojibuild held-out": [(r["text"], "hate" if r["label"] else "neutral") for r in hm],
               "ethos (cross-dataset)": [(r["text"], "hate" if r["label"] else "neutral") for r in ethos]},
        "zh": {"cold held-out": [(r["text"], "hate" if r["label"] else "neutral") for r in cold],
               "toxicn test (cross-dataset)": [(r["text"], ["neutral", "offensive", "hate"][r["toxic_type"]])
                                               for r in tcn]},
    }


def real_slices() -> dict[str, list[tuple[str, list[str], list[str]]]]:
    """(name, positive texts, negative texts) for functional slices of held-out real data."""
    dav = [r for r in read("toxic/davidson_hate_offensive_en_shared.jsonl.gz") if held_out(r["text"], 0, 0.2)]
    hm = [r for r in read("toxic/hatemojibuild_en.jsonl.gz")
          if held_out(min(r["id"], r.get("matched_id") or r["id"]), 0, 0.2)]
    ethos = read("toxic/ethos_en.jsonl.gz")
    cold = [r for r in read("toxic/cold_dev_zh.jsonl.gz") if held_out(r["text"], 0, 0.2)]
    tcn = [r for r in read("toxic/toxicn_zh.jsonl.gz") if r["toxicn_ex_split"] == "test"]
    hm_not = [r["text"] for r in hm if not r["label"]]
    e_not = [r["text"] for r in ethos if not r["label"]]
    t_none = [r["text"] for r in tcn if r["toxic_type"] == 0]
    en = [("hate vs merely offensive (Davidson)", [r["text"] for r in dav if r["label"] == 0],
           [r["text"] for r in dav if r["label"] == 1]),
          ("hate vs neutral that shares its words (Davidson)", [r["text"] for r in dav if r["label"] == 0],
           [r["text"] for r in dav if r["label"] == 2]),
          ("identity mention without hate: hate vs its twin (HatemojiBuild pairs)",
           [r["text"] for r in hm if r["label"] and r["set"] == "original"],
           [r["text"] for r in hm if not r["label"] and r["set"] == "perturbation"])]
    en += [(f"{t} hate vs not hate (HatemojiBuild)", [r["text"] for r in hm if r["type"] == t], hm_not)
           for t in ("derogation", "animosity", "dehumanizinglanguage", "threateninglanguage")]
    en.append(("hate without slurs (ETHOS, cross-dataset)", [r["text"] for r in ethos if r["label"]], e_not))
    en += [(f"ETHOS hate against {g}", [r["text"] for r in ethos if r["label"] and r["multi_label"][g] >= 0.5], e_not)
           for g in ("gender", "race", "national_origin", "disability", "religion", "sexual_orientation")]
    zh = [(f"COLD {t}: offensive vs safe", [r["text"] for r in cold if r["topic"] == t and r["label"]],
           [r["text"] for r in cold if r["topic"] == t and not r["label"]]) for t in ("race", "gender", "region")]
    zh += [("ToxiCN hate vs offensive", [r["text"] for r in tcn if r["toxic_type"] == 2],
            [r["text"] for r in tcn if r["toxic_type"] == 1]),
           ("ToxiCN offensive vs non-toxic", [r["text"] for r in tcn if r["toxic_type"] == 1], t_none)]
    zh += [(f"ToxiCN {n} hate vs non-toxic", [r["text"] for r in tcn if r["toxic_type"] == 2 and r["expression"] == e],
            t_none) for e, n in ((1, "explicit"), (2, "implicit"), (3, "reporting"))]
    zh += [(f"ToxiCN hate against {g}", [r["text"] for r in tcn if r["toxic_type"] == 2 and g in r["target"]], t_none)
           for g in ("racism", "sexism", "region", "LGBTQ")]
    return {"en": en, "zh": zh}


def functional_cases(lang: str, seed: int = 0) -> dict[str, list[str]]:
    """Template cases per category; counter-speech quotes held-out real hate (Davidson/ETHOS, ToxiCN test)."""
    rng = random.Random(seed)
    if lang == "en":
        quotes = [r["text"] for r in read("toxic/ethos_en.jsonl.gz") if r["label"]]
    else:
        quotes = [r["text"] for r in read("toxic/toxicn_zh.jsonl.gz")
                  if r["toxicn_ex_split"] == "test" and r["toxic_type"] == 2 and r["expression"] == 1]
    quotes = [q for q in quotes if 6 <= len(q) <= 120 and '"' not in q and "“" not in q]
    out: dict[str, list[str]] = {}
    for cat, frames in FRAMES[lang].items():
        if cat == "counter_quote":
            out[cat] = [rng.choice(frames).format(q=q.strip()) for q in rng.sample(quotes, min(200, len(quotes)))]
        elif "{g}" in frames[0] or any("{g}" in f for f in frames):
            out[cat] = [f.format(g=g)[:1].upper() + f.format(g=g)[1:] for f in frames for g in IDENT[lang]]
        else:
            out[cat] = list(frames)
    return out
