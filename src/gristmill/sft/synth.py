"""Synthetic instruction data through any OpenAI-compatible endpoint: Self-Instruct and Evol-Instruct, in
English and Chinese.

**Self-Instruct** (Wang et al. 2023): each round shows the model 8 instructions from the pool (6 human seeds,
2 generated when there are any) and asks for more; new instructions pass the paper's filters (length, words
that need images or files, a leading punctuation mark, ROUGE-L ≥ 0.7 with anything in the pool — computed on
characters for Chinese) and get a response from a second request.

**Evol-Instruct** (Xu et al. 2023, WizardLM): each instruction is rewritten by one operation — in depth
(add constraints, deepen, concretise, more reasoning steps, complicate the input) or in breadth (a new,
rarer instruction in the same domain) — and the result is eliminated by the paper's rules: no information
gain (ROUGE-L ≥ 0.9 with the original, or unchanged), a response that is a short apology, a response of
only punctuation and stop words, or an instruction that copies the prompt template's words.

Work goes in batches of rounds. After each batch the records are appended and fsync'ed, then
``state.json`` records how many batches and records are done, so a killed run resumes at the next batch:
a partly written batch is cut back to the recorded count, and its requests come from the cache. Every record
carries its provenance: generator, model, template, seed, round/generation, the request hashes and tokens.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re

from gristmill.errors import GristmillError
from gristmill.sft.client import ChatClient, content
from gristmill.sft.rouge import NoveltyIndex, rouge_l, units

PROMPTS = {
    "en": {
        "self_instruct": ("Come up with a series of new, diverse tasks that a helpful assistant could be asked to do. "
                          "Vary the verbs and the kinds of task (open questions, writing, classification, "
                          "editing, reasoning, advice). Each task must be doable with text alone.\n\n{examples}"),
        "instance": "{instruction}\n\nWrite a complete, helpful response to the task above.",
        "in_depth": {
            "constraints": "Rewrite the instruction below so that it is harder to follow: add one more constraint or "
                           "requirement. Keep it reasonable and answerable by a person; add at most 20 words.",
            "deepen": "Rewrite the instruction below so that it asks about the topic in more depth and breadth. "
                      "Keep it answerable; add at most 20 words.",
            "concretize": "Rewrite the instruction below, replacing general ideas with more specific ones. "
                          "Keep it answerable; add at most 20 words.",
            "reasoning": "Rewrite the instruction below so that answering it clearly needs several steps of "
                         "reasoning. Keep it answerable; add at most 20 words.",
            "complicate_input": "Rewrite the instruction below so that it comes with more complex input data "
                                "(a table, code or a longer text) to work on. Keep it answerable.",
        },
        "in_breadth": "Draw inspiration from the instruction below to write a brand-new instruction in the same "
                      "domain, but rarer and more unusual. Keep a similar length and difficulty.",
        "evol_tail": "\n\nInstruction:\n{instruction}\n\nReply with the new instruction only.",
    },
    "zh": {
        "self_instruct": ("请想出一系列新的、多样的任务，都是可以请一位乐于助人的助手完成的事情。动词和任务类型要多样"
                          "（开放问答、写作、分类、改写、推理、建议等），每个任务只靠文字就能完成。\n\n{examples}"),
        "instance": "{instruction}\n\n请针对上面的任务写出完整、有帮助的回答。",
        "in_depth": {
            "constraints": "改写下面的指令，使它更难完成：再加一个约束或要求。要合理、人能回答，最多增加二十个字。",
            "deepen": "改写下面的指令，使它对这个话题问得更深、更广。要人能回答，最多增加二十个字。",
            "concretize": "改写下面的指令，把笼统的概念换成更具体的内容。要人能回答，最多增加二十个字。",
            "reasoning": "改写下面的指令，使回答它明显需要多步推理。要人能回答，最多增加二十个字。",
            "complicate_input": "改写下面的指令，给它配上更复杂的输入数据（表格、代码或更长的文本）。要人能回答。",
        },
        "in_breadth": "从下面的指令中获得灵感，写一条同一领域、但更少见、更独特的全新指令，长度和难度相近。",
        "evol_tail": "\n\n指令：\n{instruction}\n\n只回复新的指令。",
    },
}
BLACKLIST = {"en": ["image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
                    "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram"],
             "zh": ["图片", "图像", "照片", "视频", "音频", "音乐", "画图", "绘制", "文件", "流程图", "地图"]}
TEMPLATE_WORDS = ["#given prompt#", "#rewritten prompt#", "given prompt", "rewritten prompt", "rewritten instruction",
                  "new instruction:", "instruction below", "给定的指令", "改写后的指令", "下面的指令", "新的指令："]
STOP = set(["a", "an", "the", "of", "to", "and", "or", "in", "on", "is", "are", "be", "it", "this", "that", "for", "with", "as", "by", "at", "from", "的", "了", "是", "在", "和", "与", "或", "也", "就", "都"])
_ITEM = re.compile(r"^\s*(?:\d+|[一二三四五六七八九十]+)\s*[.、)．:：]\s*(.+?)\s*$")


class Journal:
    """Append-only records plus a state file; resumes from the last completed batch."""

    def __init__(self, out: str) -> None:
        self.out = out
        os.makedirs(out, exist_ok=True)
        self.records_path = os.path.join(out, "records.jsonl")
        self.state_path = os.path.join(out, "state.json")
        self.state = {"batches": 0, "records": 0}
        if os.path.exists(self.state_path):
            with open(self.state_path) as f:
                self.state = json.load(f)
        self.records = []
        if os.path.exists(self.records_path):
            with open(self.records_path, "rb") as f:
                lines = f.read().split(b"\n")
            good = []
            for line in lines:
                if len(good) >= self.state["records"]:
                    break
                if line.strip():
                    good.append(json.loads(line))
            self.records = good
            with open(self.records_path, "wb") as f:  # cut a batch that was half written when killed
                f.write(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in good))

    def commit(self, new: list[dict], extra: dict | None = None) -> None:
        with open(self.records_path, "ab") as f:
            f.write(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in new))
            f.flush()
            os.fsync(f.fileno())
        self.records += new
        self.state = {**self.state, **(extra or {}), "batches": self.state["batches"] + 1,
                      "records": len(self.records)}
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_path)


def _words(text: str, lang: str) -> int:
    return len(units(text))


def keep_instruction(inst: str, lang: str, index: NoveltyIndex) -> tuple[bool, str]:
    """The Self-Instruct filters; returns (kept, reason)."""
    n = _words(inst, lang)
    lo, hi = (3, 150) if lang == "en" else (6, 300)
    if n <= lo or n > hi:
        return False, "length"
    low = inst.lower()
    if any(re.search(rf"\b{re.escape(w)}\b", low) if lang == "en" else w in inst for w in BLACKLIST[lang]):
        return False, "needs non-text input or output"
    if not inst[0].isalnum() and not ("\u3400" <= inst[0] <= "\u9fff"):
        return False, "starts with punctuation"
    if lang == "en" and not inst[0].isascii():
        return False, "not English"
    _, score = index.most_similar(inst)
    if score >= 0.7:
        return False, "too similar (ROUGE-L ≥ 0.7)"
    return True, ""


def parse_items(text: str) -> list[str]:
    items = [m.group(1) for m in map(_ITEM.match, text.splitlines()) if m]
    if not items:
        items = [line.strip() for line in text.splitlines() if line.strip()]
    return [re.sub(r"\s+", " ", i).strip() for i in items if i.strip()]


def _seed_instructions(seeds: list[dict]) -> list[dict]:
    out = []
    for s in seeds:
        inst = s.get("instruction") or s.get("prompt")
        if not inst and s.get("conversations"):
            inst = s["conversations"][0].get("value")
        if not inst and s.get("messages"):
            inst = next((m["content"] for m in s["messages"] if m.get("role") == "user"), None)
        if inst:
            out.append({"instruction": inst + (("\n" + s["input"]) if s.get("input") else ""), "output": s.get("output")})
    if not out:
        raise GristmillError("no seed instructions found", hint="Alpaca, ShareGPT or OpenAI records with an instruction")
    return out


async def _self_instruct(client: ChatClient, seeds: list[dict], out: str, *, n: int, lang: str, seed: int,
                         batch_rounds: int, temperature: float, max_tokens: int) -> Journal:
    j = Journal(out)
    p = PROMPTS[lang]
    human = _seed_instructions(seeds)
    index = NoveltyIndex(0.7)
    for h in human:
        index.add(h["instruction"])
    for r in j.records:
        index.add(r["instruction"])
    max_batches = 4 * max(n, 1) + 10  # a model that never yields a usable instruction must not loop forever
    while len(j.records) < n and j.state["batches"] < max_batches:
        b = j.state["batches"]
        machine = [r["instruction"] for r in j.records]
        prompts = []
        for k in range(batch_rounds):
            rng = random.Random(f"{seed}:{b}:{k}")
            ex = rng.sample([h["instruction"] for h in human], min(6 if machine else 8, len(human)))
            if machine:
                ex += rng.sample(machine, min(2, len(machine)))
            rng.shuffle(ex)
            listing = "\n".join(f"{i + 1}. {e}" for i, e in enumerate(ex)) + f"\n{len(ex) + 1}."
            prompts.append(p["self_instruct"].format(examples=listing))
        resps = await asyncio.gather(*(client.chat([{"role": "user", "content": q}], temperature=temperature,
                                                   max_tokens=max_tokens, seed=seed * 1000 + k)
                                       for k, q in enumerate(prompts)))
        accepted, rejected = [], {}
        for k, resp in enumerate(resps):
            for inst in parse_items(content(resp)):
                ok, why = keep_instruction(inst, lang, index)
                if not ok:
                    rejected[why] = rejected.get(why, 0) + 1
                    continue
                index.add(inst)
                accepted.append((k, inst, resp))
        answers = await asyncio.gather(*(client.chat([{"role": "user", "content": p["instance"].format(instruction=i)}],
                                                     temperature=0.7, max_tokens=max_tokens, seed=seed)
                                         for _, i, _ in accepted))
        new = []
        for (k, inst, resp), ans in zip(accepted, answers, strict=True):
            if len(j.records) + len(new) >= n:
                break
            new.append({"id": f"self-instruct-{lang}-{ans['_cache_key'][:16]}", "instruction": inst, "input": "",
                        "output": content(ans).strip(), "lang": lang,
                        "provenance": {"generator": "self-instruct", "model": client.model, "template": f"{lang}/self_instruct",
                                       "seed": seed, "batch": b, "round": k,
                                       "requests": [resp["_cache_key"], ans["_cache_key"]],
                                       "tokens": _tokens(resp) + _tokens(ans)}})
        filt = j.state.get("filtered", {})
        for why, c in rejected.items():
            filt[why] = filt.get(why, 0) + c
        j.commit(new, {"filtered": filt, "usage": client.usage.to_dict()})
    return j


def _tokens(resp: dict) -> int:
    u = resp.get("usage") or {}
    return int(u.get("prompt_tokens", 0)) + int(u.get("completion_tokens", 0))


def eliminated(original: str, evolved: str, answer: str, lang: str) -> str | None:
    """The Evol-Instruct elimination rule an evolution breaks, or None."""
    low = evolved.lower()
    if not evolved.strip() or evolved.strip() == original.strip() or rouge_l(original, evolved) >= 0.9:
        return "no information gain"
    if any(w in low for w in TEMPLATE_WORDS):
        return "copies the prompt template"
    a = answer.strip()
    if ("sorry" in a.lower() or "抱歉" in a) and _words(a, lang) < 80:
        return "the answer is an apology"
    if not [u for u in units(a) if u not in STOP]:
        return "the answer is only punctuation and stop words"
    return None


async def _evol_instruct(client: ChatClient, seeds: list[dict], out: str, *, generations: int, lang: str, seed: int,
                         temperature: float, max_tokens: int, batch_size: int) -> Journal:
    j = Journal(out)
    p = PROMPTS[lang]
    ops = [("in_depth", k) for k in p["in_depth"]] + [("in_breadth", "breadth")]
    base = _seed_instructions(seeds)
    # the pool of each generation: the seeds, then the survivors of the previous generation
    gen_pool = {0: [{"instruction": b["instruction"], "id": f"seed-{i}"} for i, b in enumerate(base)]}
    for r in j.records:
        gen_pool.setdefault(r["provenance"]["generation"], []).append(r)
    batch_no = 0
    for g in range(1, generations + 1):
        pool = gen_pool.get(g - 1, [])
        for start in range(0, len(pool), batch_size):
            batch_no += 1
            if batch_no <= j.state["batches"]:
                continue  # done before the kill
            items = pool[start:start + batch_size]
            chosen = []
            for it in items:
                rng = random.Random(f"{seed}:{g}:{it['id']}")
                kind, op = rng.choice(ops)
                head = p["in_breadth"] if kind == "in_breadth" else p["in_depth"][op]
                chosen.append((it, kind, op, head + p["evol_tail"].format(instruction=it["instruction"])))
            evolved = await asyncio.gather(*(client.chat([{"role": "user", "content": q}], temperature=temperature,
                                                         max_tokens=max_tokens, seed=seed) for *_, q in chosen))
            insts = [content(e).strip() for e in evolved]
            answers = await asyncio.gather(*(client.chat([{"role": "user", "content": p["instance"].format(instruction=i)}],
                                                         temperature=0.7, max_tokens=max_tokens, seed=seed)
                                             for i in insts))
            new, elim = [], j.state.get("eliminated", {})
            for (it, kind, op, _), e, inst, ans in zip(chosen, evolved, insts, answers, strict=True):
                why = eliminated(it["instruction"], inst, content(ans), lang)
                if why:
                    elim[why] = elim.get(why, 0) + 1
                    continue
                new.append({"id": f"evol-{lang}-{ans['_cache_key'][:16]}", "instruction": inst, "input": "",
                            "output": content(ans).strip(), "lang": lang,
                            "provenance": {"generator": "evol-instruct", "model": client.model, "operation": f"{kind}/{op}",
                                           "template": f"{lang}/{kind}/{op}", "seed": seed, "generation": g,
                                           "parent": it["id"], "requests": [e["_cache_key"], ans["_cache_key"]],
                                           "tokens": _tokens(e) + _tokens(ans)}})
            j.commit(new, {"eliminated": elim, "usage": client.usage.to_dict()})
            gen_pool.setdefault(g, []).extend(new)
    return j


def synthesize(method: str, seeds: list[dict], out: str, *, model: str, base_url: str | None = None,
               api_key: str | None = None, n: int = 100, generations: int = 1, lang: str = "en", seed: int = 0,
               concurrency: int = 8, temperature: float = 1.0, max_tokens: int = 512, batch: int = 4,
               price_in: float = 0.0, price_out: float = 0.0) -> dict:
    """Run Self-Instruct (``n`` records) or Evol-Instruct (``generations`` rounds over the seeds) into ``out``."""
    if lang not in PROMPTS:
        raise GristmillError(f"no prompt set for language {lang!r}", hint="en or zh")

    async def go():
        client = ChatClient(model, base_url=base_url, api_key=api_key, concurrency=concurrency,
                            cache=os.path.join(out, "cache.sqlite"), price_in=price_in, price_out=price_out)
        if method == "self-instruct":
            j = await _self_instruct(client, seeds, out, n=n, lang=lang, seed=seed, batch_rounds=batch,
                                     temperature=temperature, max_tokens=max_tokens)
        elif method == "evol-instruct":
            j = await _evol_instruct(client, seeds, out, generations=generations, lang=lang, seed=seed,
                                     temperature=temperature, max_tokens=max_tokens, batch_size=max(batch, 1) * 4)
        else:
            raise GristmillError(f"unknown method {method!r}", hint="self-instruct or evol-instruct")
        return {"records": len(j.records), "batches": j.state["batches"], "usage": client.usage.to_dict(),
                "filtered": j.state.get("filtered"), "eliminated": j.state.get("eliminated"),
                "output": j.records_path}

    return asyncio.run(go())
