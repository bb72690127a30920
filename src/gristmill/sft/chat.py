"""Render conversations with a chat template, and mark what the loss is computed on.

Templates: ChatML (built in) or any Jinja ``chat_template`` from a Hugging Face ``tokenizer_config.json``
(rendered in a sandbox with ``messages``, ``tools``, ``add_generation_prompt``, ``bos_token``, ``eos_token``).
Loss masks work for every template the same way: message ``i``'s trained span is the text added by rendering
``messages[:i+1]`` after ``messages[:i]`` with the generation prompt, so the role header is never trained on.

Modes: ``all`` (every assistant turn), ``last`` (the final assistant turn only), ``weights`` (each message's
``weight``; assistant turns without one count 1, others 0).

>>> from gristmill.sft.formats import parse
>>> s = parse({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]})
>>> r = render(s)
>>> r.text
'<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\nHello!<|im_end|>\\n'
>>> [r.text[a:b] for a, b, w in r.spans]
['Hello!<|im_end|>\\n']
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from gristmill.errors import GristmillError
from gristmill.sft.sample import Message, Sample

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n"
    "{% if m.content %}{{ m.content }}{% endif %}"
    "{% if m.tool_calls %}{% for c in m.tool_calls %}{% if not loop.first or m.content %}\n{% endif %}"
    "<tool_call>\n{{ c.function | tojson }}\n</tool_call>{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@dataclass
class Rendered:
    text: str
    spans: list[tuple[int, int, float]]   # (start, end, weight) character spans the loss is computed on


def load_template(path: str | None) -> tuple[str, dict]:
    """(Jinja source, special tokens) from a tokenizer_config.json (or its folder); ChatML when ``path`` is None."""
    if path is None or path == "chatml":
        return CHATML, {"bos_token": "", "eos_token": "<|im_end|>"}
    if os.path.isdir(path):
        path = os.path.join(path, "tokenizer_config.json")
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise GristmillError(f"cannot read chat template from {path}: {e}") from None
    tpl = cfg.get("chat_template")
    if isinstance(tpl, list):  # named templates: take "default"
        tpl = next((t["template"] for t in tpl if t.get("name") == "default"), tpl[0]["template"])
    if not isinstance(tpl, str):
        raise GristmillError(f"{path} has no chat_template", hint="use the built-in ChatML (no --template)")

    def tok(v):
        return v.get("content", "") if isinstance(v, dict) else (v or "")
    return tpl, {"bos_token": tok(cfg.get("bos_token")), "eos_token": tok(cfg.get("eos_token"))}


def _oa(m: Message) -> dict:
    d = {"role": m.role, "content": m.content}
    if m.tool_calls:
        d["tool_calls"] = [{"type": "function", "id": c.id, "function": {"name": c.name, "arguments": c.arguments}}
                           for c in m.tool_calls]
    if m.tool_call_id:
        d["tool_call_id"] = m.tool_call_id
    if m.name:
        d["name"] = m.name
    return d


class Template:
    def __init__(self, path: str | None = None) -> None:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        src, self.special = load_template(path)
        env = ImmutableSandboxedEnvironment(trim_blocks=False, lstrip_blocks=False)

        def raise_exception(msg):
            raise GristmillError(f"chat template: {msg}")
        env.globals["raise_exception"] = raise_exception
        env.filters["tojson"] = lambda v, indent=None: json.dumps(v, ensure_ascii=False, indent=indent)
        self.tpl = env.from_string(src)

    def __call__(self, messages: list[Message], tools: list[dict] | None = None, add_generation_prompt: bool = False) -> str:
        return self.tpl.render(messages=[_oa(m) for m in messages], tools=tools,
                               add_generation_prompt=add_generation_prompt, **self.special)


def render(s: Sample, template: Template | None = None, mode: str = "all") -> Rendered:
    """The training text of a sample (for preference: prompt + chosen) and its loss spans."""
    if mode not in ("all", "last", "weights"):
        raise GristmillError(f"unknown loss mask mode {mode!r}", hint="all, last or weights")
    t = template or Template()
    msgs = s.conversation()
    text = t(msgs, s.tools)
    spans = []
    last = max((i for i, m in enumerate(msgs) if m.role == "assistant"), default=-1)
    for i, m in enumerate(msgs):
        if mode == "weights":
            w = m.weight if m.weight is not None else (1.0 if m.role == "assistant" else 0.0)
        elif m.role != "assistant":
            continue
        else:
            w = 1.0 if mode == "all" or i == last else 0.0
        if w <= 0:
            continue
        start = len(t(msgs[:i], s.tools, add_generation_prompt=m.role == "assistant"))
        end = len(t(msgs[:i + 1], s.tools))
        if not text.startswith(t(msgs[:i + 1], s.tools)):
            raise GristmillError("chat template is not prefix-stable: loss spans cannot be located",
                                 hint="use ChatML or a template whose output grows turn by turn")
        spans.append((start, end, float(w)))
    return Rendered(text, spans)


def token_mask(r: Rendered, tokenizer) -> tuple[list[int], list[float]]:
    """Token ids of the rendered text and each token's loss weight (a token counts if it starts in a span)."""
    enc = tokenizer.encode(r.text, add_special_tokens=False)
    weights = []
    for a, _ in enc.offsets:
        w = 0.0
        for s, e, sw in r.spans:
            if s <= a < e:
                w = sw
                break
        weights.append(w)
    return enc.ids, weights
