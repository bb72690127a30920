"""Render conversations with a chat template, and mark what the loss is computed on.

Templates: ChatML (built in), or a Jinja ``chat_template`` from a ``tokenizer_config.json``, a
``chat_template.jinja`` or a model folder holding either. Messages reach the template as ``apply_chat_template``
users pass them: ``tool_calls`` as ``{"type": "function", "function": {"name", "arguments": {…}}}`` with the
arguments an object, tools as ``{"type": "function", "function": {…}}``, the tokenizer's special tokens
(``bos_token``, ``eos_token`` …) and any extra ``variables`` (``enable_thinking``, ``date_string`` …).

Backends: ``transformers`` renders with transformers' own ``render_jinja_template`` (what ``apply_chat_template``
calls); ``builtin`` with :mod:`gristmill.sft.jinja_env`, which matches it (tested character for character on
every template TRL ships); ``auto`` takes transformers for a loaded template when it imports, the built-in one
for ChatML.

Loss spans: with ``{% generation %}`` blocks, the blocks (transformers' assistant mask); otherwise message ``i``'s
span is the text added by rendering ``messages[:i+1]`` after ``messages[:i]`` with the generation prompt, so
role headers are never trained on (for templates that are not prefix-stable, where each rendering leaves the
full text: TRL's prompt/completion rule). Modes: ``all`` (every assistant turn), ``last`` (the final one), ``weights``
(each message's ``weight``; assistant turns without one count 1, others 0).

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
import re
from dataclasses import dataclass

from gristmill.errors import GristmillError
from gristmill.sft.jinja_env import Limits, RenderLimit, TemplateRejected, budget, compile_template
from gristmill.sft.sample import Message, Sample

CHATML = (
    "{%- for m in messages %}{{- '<|im_start|>' + m.role + '\\n' }}{%- if m.content %}{{- m.content }}{%- endif %}"
    "{%- for c in m.tool_calls or [] %}{%- if not loop.first or m.content %}{{- '\\n' }}{%- endif %}"
    "{{- '<tool_call>\\n' + c.function | tojson + '\\n</tool_call>' }}{%- endfor %}{{- '<|im_end|>\\n' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
BACKENDS = ("auto", "transformers", "builtin")
SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
_GENERATION = re.compile(r"\{\%-?\s*generation\s*-?\%\}")


@dataclass
class Rendered:
    text: str
    spans: list[tuple[int, int, float]]   # (start, end, weight) character spans the loss is computed on


def _read(path: str, as_json: bool):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f) if as_json else f.read()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise GristmillError(f"cannot read chat template from {path}: {e}") from None


def load_template(path: str | None) -> tuple[str, dict]:
    """(Jinja source, special tokens) from a tokenizer_config.json, a .jinja file or a folder; ChatML for None."""
    if path is None or path == "chatml":
        return CHATML, {"bos_token": "", "eos_token": "<|im_end|>"}
    if not os.path.exists(path):
        raise GristmillError(f"no such chat template: {path}", hint="a tokenizer_config.json, a .jinja file or "
                             "a model folder; omit --template for ChatML")
    folder = path if os.path.isdir(path) else None
    cfg_path = os.path.join(folder, "tokenizer_config.json") if folder else (path if path.endswith(".json") else None)
    cfg = _read(cfg_path, True) if cfg_path and os.path.exists(cfg_path) else {}
    if folder and os.path.exists(os.path.join(folder, "special_tokens_map.json")):
        cfg = {**_read(os.path.join(folder, "special_tokens_map.json"), True), **cfg}
    tpl = cfg.get("chat_template") if isinstance(cfg, dict) else None
    if isinstance(tpl, list):  # named templates: take "default"
        tpl = next((t["template"] for t in tpl if t.get("name") == "default"), tpl[0]["template"])
    jinja = os.path.join(folder, "chat_template.jinja") if folder else (path if not cfg_path else None)
    if jinja and os.path.exists(jinja):
        tpl = _read(jinja, False)  # transformers ≥ 4.43 saves the template beside the config; it wins
    if not isinstance(tpl, str):
        raise GristmillError(f"{path} has no chat_template", hint="use the built-in ChatML (no --template)")

    def tok(v):
        return v.get("content", "") if isinstance(v, dict) else v
    special = {k: tok(cfg[k]) for k in SPECIAL_TOKENS if isinstance(cfg, dict) and tok(cfg.get(k)) is not None}
    return tpl, special


def template_messages(msgs: list[Message]) -> list[dict]:
    """Messages as ``apply_chat_template`` takes them (tool-call arguments as objects)."""
    out = []
    for m in msgs:
        d: dict = {"role": m.role, "content": m.content}
        if m.tool_calls:
            d["tool_calls"] = [{**({"id": c.id} if c.id else {}), "type": "function",
                                "function": {"name": c.name, "arguments": c.arguments}} for c in m.tool_calls]
        if m.tool_call_id:
            d["tool_call_id"] = m.tool_call_id
        if m.name:
            d["name"] = m.name
        out.append(d)
    return out


def template_tools(tools: list[dict] | None) -> list[dict] | None:
    """Function definitions wrapped as ``{"type": "function", "function": …}`` (None when there are none)."""
    if not tools:
        return None
    return [t if t.get("type") == "function" and "function" in t else {"type": "function", "function": t}
            for t in tools]


def _hf_renderer():
    try:
        from transformers.utils.chat_template_utils import render_jinja_template

        render_jinja_template(conversations=[[]], chat_template="ok")  # it refuses to run with an old jinja2
    except Exception:  # noqa: BLE001 - not installed, too old, or its jinja2 too old: the built-in renderer
        return None
    return render_jinja_template


class Template:
    """A chat template ready to render; ``path`` as :func:`load_template`, ``backend`` one of :data:`BACKENDS`,
    ``variables`` extra template variables (they override the special tokens)."""

    def __init__(self, path: str | None = None, backend: str = "auto", variables: dict | None = None,
                 limits: Limits = Limits()) -> None:
        if backend not in BACKENDS:
            raise GristmillError(f"unknown template backend {backend!r}", hint=", ".join(BACKENDS))
        self.args = (path, backend, dict(variables or {}), limits)
        self.source, special = load_template(path)
        self.variables = {**special, **(variables or {})}
        self.limits = limits
        self.has_generation = bool(_GENERATION.search(self.source))
        try:
            self._builtin = compile_template(self.source, limits)
        except Exception as e:  # noqa: BLE001 - a syntax error, reported with its line
            raise GristmillError(f"chat template {path}: {type(e).__name__}: {e}") from None
        self._hf = None
        if backend == "transformers" or (backend == "auto" and path not in (None, "chatml")):
            self._hf = _hf_renderer()
            if self._hf is None and backend == "transformers":
                raise GristmillError("the transformers backend needs transformers (with jinja2 ≥ 3.1.6)",
                                     hint="pip install 'gristmill[hf]'")
        self.backend = "transformers" if self._hf else "builtin"

    def render_dicts(self, messages: list[dict], tools: list[dict] | None = None,
                     add_generation_prompt: bool = False) -> tuple[str, list[tuple[int, int]]]:
        """Text and ``{% generation %}`` spans of template-ready messages; :class:`TemplateRejected` on failure."""
        if self._hf is None:
            return self._builtin.render({"messages": messages, "tools": tools, "documents": None,
                                         "add_generation_prompt": add_generation_prompt, **self.variables})
        try:
            texts, spans = self._hf(conversations=[messages], tools=tools, chat_template=self.source,
                                    return_assistant_tokens_mask=self.has_generation,
                                    add_generation_prompt=add_generation_prompt, **self.variables)
        except MemoryError:
            raise RenderLimit("template rendering ran out of memory") from None
        except Exception as e:  # noqa: BLE001 - whatever the template raises rejects this record only
            msg = str(e) or type(e).__name__
            raise TemplateRejected(msg if type(e).__module__.startswith("jinja2") else f"{type(e).__name__}: {msg}") \
                from None
        if len(texts[0]) > self.limits.max_chars:
            raise RenderLimit(f"rendered text of {len(texts[0]):,} characters is over the limit of "
                              f"{self.limits.max_chars:,} (max_chars)")
        return texts[0], [tuple(x) for x in spans[0]] if spans else []

    def __call__(self, messages: list[Message] | list[dict], tools: list[dict] | None = None,
                 add_generation_prompt: bool = False) -> str:
        dicts = [m if isinstance(m, dict) else template_messages([m])[0] for m in messages]
        return self.render_dicts(dicts, template_tools(tools), add_generation_prompt)[0]


def _weights(msgs: list[Message], mode: str) -> list[float]:
    last = max((i for i, m in enumerate(msgs) if m.role == "assistant"), default=-1)
    out = []
    for i, m in enumerate(msgs):
        if mode == "weights":
            out.append(float(m.weight) if m.weight is not None else (1.0 if m.role == "assistant" else 0.0))
        else:
            out.append(1.0 if m.role == "assistant" and (mode == "all" or i == last) else 0.0)
    return out


class _Spans:
    def __init__(self, t: Template, dicts: list[dict], tools, text: str) -> None:
        self.t, self.dicts, self.tools, self.text = t, dicts, tools, text

    def prefix(self, i: int) -> tuple[int, int]:
        """Where message ``i``'s own text lies: from where the rendering of the messages before it (with the
        generation prompt) leaves the full text to where the rendering up to it does. For a prefix-stable
        template these are the two renderings' lengths; otherwise (a ``<think>`` prefill, a last turn that ends
        differently) it is the common-prefix rule TRL uses to split a prompt from its completion."""
        try:
            before = self.t.render_dicts(self.dicts[:i], self.tools, self.dicts[i]["role"] == "assistant")[0]
        except TemplateRejected:
            if i:
                raise
            before = ""  # a template that cannot render an empty conversation: the first message starts at 0
        upto = self.t.render_dicts(self.dicts[:i + 1], self.tools)[0]
        start = _common(before, self.text)
        end = max(_common(upto, self.text), start)
        content = self.dicts[i].get("content")
        own = content.strip() if isinstance(content, str) else ""
        if end == start or (own and own in self.text and own not in self.text[start:end]):
            raise TemplateRejected(f"message {i} renders differently once later messages follow (the template is "
                                   "not prefix-stable), so its loss span cannot be located: use a template with "
                                   "{% generation %} blocks (TRL ships *_training.jinja ones)")
        return start, end

    def generation_owners(self, assistants: list[int], n_blocks: int) -> list[int]:
        """The message each ``{% generation %}`` block belongs to (counted over growing prefixes)."""
        owners: list[int] = []
        for i in assistants:
            k = len(self.t.render_dicts(self.dicts[:i + 1], self.tools)[1])
            if k < len(owners):
                raise TemplateRejected("generation blocks change with later messages: cannot weight them per message")
            owners += [i] * (k - len(owners))
        if len(owners) != n_blocks:
            raise TemplateRejected("generation blocks outside assistant messages: cannot weight them per message")
        return owners


def _common(a: str, b: str) -> int:
    """Length of the common prefix of two strings."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if a[:mid] == b[:mid] else (lo, mid)
    return lo


def render(s: Sample, template: Template | None = None, mode: str = "all") -> Rendered:
    """The training text of a sample (for preference: prompt + chosen) and its loss spans."""
    if mode not in ("all", "last", "weights"):
        raise GristmillError(f"unknown loss mask mode {mode!r}", hint="all, last or weights")
    t = template or Template()
    msgs = s.conversation()
    dicts, tools = template_messages(msgs), template_tools(s.tools)
    weights = _weights(msgs, mode)
    with budget(t.limits):
        text, blocks = t.render_dicts(dicts, tools)
        sp = _Spans(t, dicts, tools, text)
        spans: list[tuple[int, int, float]] = []
        if t.has_generation:
            assistants = [i for i, m in enumerate(msgs) if m.role == "assistant"]
            if all(weights[i] == 1.0 for i in assistants) and not any(
                    w for i, w in enumerate(weights) if i not in assistants):
                spans = [(a, b, 1.0) for a, b in blocks if b > a]
            else:
                owners = sp.generation_owners(assistants, len(blocks))
                spans = [(a, b, weights[o]) for (a, b), o in zip(blocks, owners, strict=True) if b > a and weights[o] > 0]
                spans += [(*sp.prefix(i), w) for i, w in enumerate(weights) if w > 0 and i not in assistants]
                spans.sort()
        else:
            spans = [(*sp.prefix(i), w) for i, w in enumerate(weights) if w > 0]
    return Rendered(text, spans)


def token_mask(r: Rendered, tokenizer) -> tuple[list[int], list[float]]:
    """Token ids of the rendered text and each token's loss weight: a token counts if it overlaps a span (as
    transformers' ``assistant_masks``)."""
    enc = tokenizer.encode(r.text, add_special_tokens=False)
    weights = []
    k = 0
    spans = sorted(r.spans)
    for a, b in enc.offsets:
        while k < len(spans) and a >= spans[k][1]:
            k += 1
        weights.append(spans[k][2] if k < len(spans) and b > spans[k][0] else 0.0)
    return enc.ids, weights
