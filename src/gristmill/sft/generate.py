"""Local text generation for ``gristmill serve``, token by token: text deltas as they are decided (a stop
string is never half-sent), per-token log-probabilities, and a stop when the client has gone or the time
limit is reached.

Models: a ``gristmill train`` folder (the proxy GPT; ChatML) or a Hugging Face causal-LM folder when
``transformers`` is installed (its own chat template; generated whole, then sent).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass
class Generation:
    """What one completion produced; filled in as :meth:`Generator.stream` runs."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "length"
    text: str = ""
    logprobs: list[dict] = field(default_factory=list)


@dataclass
class Delta:
    text: str
    logprobs: list[dict]


def _token_entry(tok: str, lp: float, top: list[tuple[str, float]]) -> dict:
    return {"token": tok, "logprob": lp, "bytes": list(tok.encode("utf-8", "replace")),
            "top_logprobs": [{"token": t, "logprob": v, "bytes": list(t.encode("utf-8", "replace"))}
                             for t, v in top]}


class _StopScanner:
    """Holds back the end of the text that could still become a stop string (or an unfinished UTF-8
    character), so what was sent never has to be taken back."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self.hold = max((len(s) for s in self.stops), default=1) - 1
        self.sent = 0

    def step(self, text: str) -> tuple[str, bool]:
        """(new text that is safe to send, whether a stop string was found)."""
        hits = [text.index(s) for s in self.stops if s in text]
        if hits:
            cut = min(hits)
            out = text[self.sent:cut] if cut > self.sent else ""
            self.sent = max(self.sent, cut)
            return out, True
        safe = len(text) - self.hold
        while safe > self.sent and text[safe - 1] == "\ufffd":
            safe -= 1
        if safe <= self.sent:
            return "", False
        out, self.sent = text[self.sent:safe], safe
        return out, False

    def rest(self, text: str) -> str:
        out = text[self.sent:]
        self.sent = len(text)
        return out


class ProxyGenerator:
    """A ``gristmill train`` model folder."""

    def __init__(self, path: str) -> None:
        from gristmill.tokenize.tokenizer import eos_id
        from gristmill.train.trainer import load_model

        self.model, self.tok = load_model(path)
        self.eos = eos_id(self.tok)
        self.name = os.path.basename(os.path.abspath(path))

    def prompt(self, messages: list[dict]) -> str:
        from gristmill.sft.chat import Template
        from gristmill.sft.formats import parse

        return Template()(parse({"messages": messages}).messages, add_generation_prompt=True)

    def stream(self, messages: list[dict], gen: Generation, *, max_tokens: int, temperature: float, top_p: float,
               seed: int, stop: list[str], top_logprobs: int = 0, want_logprobs: bool = False,
               cancelled: Callable[[], bool] = lambda: False, deadline: float = math.inf,
               logit_bias: dict[int, float] | None = None) -> Iterator[Delta]:
        import torch

        ids = [self.eos] + self.tok.encode(self.prompt(messages), add_special_tokens=False).ids
        gen.prompt_tokens = len(ids)
        g = torch.Generator().manual_seed(seed % (1 << 63))
        ctx = self.model.config.seq_len
        out: list[int] = []
        scan = _StopScanner(["<|im_end|>", *stop])
        pending: list[dict] = []
        with torch.no_grad():
            for _ in range(max_tokens):
                if cancelled():
                    gen.finish_reason = "cancelled"
                    return
                if time.monotonic() > deadline:
                    gen.finish_reason = "length"
                    break
                logits, _ = self.model(torch.tensor([(ids + out)[-ctx:]]))
                logits = logits[0, -1].float()
                for tid, b in (logit_bias or {}).items():
                    if 0 <= tid < logits.shape[0]:
                        logits[tid] += b
                if temperature <= 0:
                    nxt = int(torch.argmax(logits))
                else:
                    probs = torch.softmax(logits / temperature, dim=-1)
                    if top_p < 1.0:
                        sp, si = torch.sort(probs, descending=True)
                        sp[torch.cumsum(sp, 0) - sp > top_p] = 0
                        probs = torch.zeros_like(probs).scatter(0, si, sp)
                    nxt = int(torch.multinomial(probs / probs.sum(), 1, generator=g))
                if nxt == self.eos:
                    gen.finish_reason = "stop"
                    break
                out.append(nxt)
                gen.completion_tokens = len(out)
                if want_logprobs:
                    lps = torch.log_softmax(logits, dim=-1)
                    top = []
                    if top_logprobs:
                        v, i = torch.topk(lps, top_logprobs)
                        top = [(self.tok.decode([int(j)]), float(x)) for x, j in zip(v, i, strict=True)]
                    pending.append(_token_entry(self.tok.decode([nxt]), float(lps[nxt]), top))
                text = self.tok.decode(out)
                delta, hit = scan.step(text)
                if delta or hit:
                    gen.text += delta
                    gen.logprobs += pending
                    yield Delta(delta, pending)
                    pending = []
                if hit:
                    gen.finish_reason = "stop"
                    return
        rest = scan.rest(self.tok.decode(out))
        if rest or pending:
            gen.text += rest
            gen.logprobs += pending
            yield Delta(rest, pending)


class HFGenerator:
    """A Hugging Face causal-LM folder (``transformers``, local files only)."""

    def __init__(self, path: str) -> None:
        from gristmill.sft.models import load_hf

        self.model, self.tok = load_hf(path)
        self.name = os.path.basename(os.path.abspath(path))

    def stream(self, messages, gen: Generation, *, max_tokens, temperature, top_p, seed, stop, top_logprobs=0,
               want_logprobs=False, cancelled=lambda: False, deadline=math.inf, logit_bias=None) -> Iterator[Delta]:
        import torch
        from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

        class Bias(LogitsProcessor):
            def __call__(self, input_ids, scores):
                for tid, b in (logit_bias or {}).items():
                    if 0 <= tid < scores.shape[-1]:
                        scores[:, tid] += b
                return scores

        class Halt(StoppingCriteria):
            def __call__(self, input_ids, scores, **kw):
                return cancelled() or time.monotonic() > deadline

        torch.manual_seed(seed % (1 << 63))
        if getattr(self.tok, "chat_template", None):
            prompt = self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            prompt = ProxyGenerator.prompt(self, messages)
        enc = self.tok(prompt, return_tensors="pt")
        n_in = int(enc["input_ids"].shape[1])
        gen.prompt_tokens = n_in
        with torch.no_grad():
            res = self.model.generate(**enc, max_new_tokens=max_tokens, do_sample=temperature > 0,
                                      temperature=max(temperature, 1e-5), top_p=top_p,
                                      pad_token_id=self.tok.eos_token_id, output_scores=want_logprobs,
                                      return_dict_in_generate=True,
                                      stopping_criteria=StoppingCriteriaList([Halt()]),
                                      logits_processor=LogitsProcessorList([Bias()]) if logit_bias else None)
        if cancelled():
            gen.finish_reason = "cancelled"
            return
        new = res.sequences[0, n_in:]
        gen.completion_tokens = int(len(new))
        text = self.tok.decode(new, skip_special_tokens=True)
        scan = _StopScanner(["<|im_end|>", *stop])
        delta, hit = scan.step(text)
        if not hit:
            delta += scan.rest(text)
        gen.finish_reason = "stop" if hit or (len(new) < max_tokens and time.monotonic() <= deadline) else "length"
        entries = []
        if want_logprobs:
            for step, tid in enumerate(new.tolist()):
                lps = torch.log_softmax(res.scores[step][0].float(), dim=-1)
                top = []
                if top_logprobs:
                    v, i = torch.topk(lps, top_logprobs)
                    top = [(self.tok.decode([int(j)]), float(x)) for x, j in zip(v, i, strict=True)]
                entries.append(_token_entry(self.tok.decode([tid]), float(lps[tid]), top))
        gen.text, gen.logprobs = delta, entries
        yield Delta(delta, entries)


def load_generator(path: str):
    from gristmill.sft.models import kind

    return ProxyGenerator(path) if kind(path) == "proxy" else HFGenerator(path)
