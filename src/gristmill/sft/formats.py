"""Read and write fine-tuning formats through one representation: Alpaca, ShareGPT (and its preference and KTO
forms, as LLaMA-Factory reads them), OpenAI ``messages``, preference pairs (prompt/chosen/rejected) and KTO
(prompt/completion/label, as TRL reads them).

Tool calls are written with their arguments as JSON objects (what chat templates, TRL and LLaMA-Factory's
``openai`` formatting read); ``arguments="string"`` writes them as OpenAI's API sends them (JSON text). Both are
read.

Reading never drops a field: what the representation has no place for goes to ``meta`` and comes back on
writing. Writing refuses what a format cannot hold (tool calls in Alpaca, a conversation as a preference
pair …) with a :class:`FormatError` naming the record's part, rather than dropping it.

>>> rec = {"instruction": "Translate", "input": "你好", "output": "Hello", "id": 7}
>>> s = parse(rec)
>>> detect(rec), [m.role for m in s.messages], s.messages[0].content
('alpaca', ['user', 'assistant'], 'Translate\\n你好')
>>> write(s, "openai")["messages"][1]
{'role': 'assistant', 'content': 'Hello'}
>>> write(parse(write(s, "sharegpt")), "alpaca") == rec
True
"""

from __future__ import annotations

import json
from typing import Any

from gristmill.sft.sample import Message, Sample, ToolCall

FORMATS = ("alpaca", "sharegpt", "openai", "preference", "sharegpt_pref", "kto", "sharegpt_kto")
KIND = {"alpaca": "sft", "sharegpt": "sft", "openai": "sft", "preference": "preference",
        "sharegpt_pref": "preference", "kto": "kto", "sharegpt_kto": "kto"}
_SG_ROLE = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system",
            "function_call": "assistant", "observation": "tool", "tool": "tool", "function": "tool"}


class FormatError(ValueError):
    """A record that does not fit a format; ``where`` names the part (``conversations[2].from``)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where, self.problem = where, problem


def detect(rec: dict) -> str:
    """The format of a record, from its keys."""
    if not isinstance(rec, dict):
        raise FormatError("", f"expected a JSON object, got {type(rec).__name__}")
    keys = set(rec)
    if "conversations" in keys:
        if {"chosen", "rejected"} <= keys:
            return "sharegpt_pref"
        return "sharegpt_kto" if "kto_tag" in keys else "sharegpt"
    if "messages" in keys:
        return "openai"
    if {"prompt", "chosen", "rejected"} <= keys:
        return "preference"
    if {"prompt", "completion", "label"} <= keys:
        return "kto"
    if "instruction" in keys and ("output" in keys or "response" in keys):
        return "alpaca"
    raise FormatError("", "unknown format: expected instruction/output (Alpaca), conversations (ShareGPT; with "
                          "kto_tag: KTO), messages (OpenAI), prompt/chosen/rejected (preference) or "
                          "prompt/completion/label (KTO); "
                          f"got keys {', '.join(sorted(keys)[:8])}")


def _str(v: Any, where: str, *, allow_none: bool = False) -> str:
    if v is None and allow_none:
        return ""
    if not isinstance(v, str):
        raise FormatError(where, f"expected a string, got {type(v).__name__}")
    return v


def _args(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except json.JSONDecodeError:
            return v
    return v


def _tool_calls(value: Any, where: str) -> list[ToolCall]:
    calls = _args(value)
    if isinstance(calls, dict):
        calls = [calls]
    if not isinstance(calls, list) or not calls:
        raise FormatError(where, "a function call must be a JSON object {name, arguments} (or a list of them)")
    out = []
    for k, c in enumerate(calls):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not c["name"]:
            raise FormatError(f"{where}[{k}]", "a function call needs a non-empty name")
        out.append(ToolCall(c["name"], _args(c.get("arguments", {})), c.get("id")))
    return out


def _tools(v: Any, where: str) -> list[dict] | None:
    if v is None or v == "" or v == []:
        return None
    t = _args(v)
    if t == []:
        return None
    if not isinstance(t, list) or not all(isinstance(x, dict) for x in t):
        raise FormatError(where, "tools must be a list of function definitions (or its JSON text)")
    return [x.get("function", x) if x.get("type") == "function" and "function" in x else x for x in t]


def _label(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        raise FormatError(where, f"expected true or false, got {v!r}")
    return v


# -- reading ------------------------------------------------------------------------------------------------

def _sharegpt_messages(turns: Any, where: str) -> list[Message]:
    if not isinstance(turns, list):
        raise FormatError(where, "expected a list of turns")
    out = []
    for i, t in enumerate(turns):
        w = f"{where}[{i}]"
        if not isinstance(t, dict):
            raise FormatError(w, "a turn must be an object with from and value")
        frm = t.get("from", t.get("role"))
        if frm not in _SG_ROLE:
            raise FormatError(f"{w}.from", f"unknown role {frm!r} (expected {', '.join(sorted(_SG_ROLE))})")
        val = t.get("value", t.get("content"))
        if frm == "function_call":
            out.append(Message("assistant", "", tool_calls=_tool_calls(val, f"{w}.value")))
        else:
            out.append(Message(_SG_ROLE[frm], _str(val, f"{w}.value"), weight=t.get("weight")))
    return out


def _openai_messages(msgs: Any, where: str) -> list[Message]:
    if not isinstance(msgs, list):
        raise FormatError(where, "expected a list of messages")
    out = []
    for i, m in enumerate(msgs):
        w = f"{where}[{i}]"
        if not isinstance(m, dict):
            raise FormatError(w, "a message must be an object with role and content")
        role = m.get("role")
        if role not in ("system", "user", "assistant", "tool", "developer"):
            raise FormatError(f"{w}.role", f"unknown role {role!r} (expected system, user, assistant or tool)")
        content = m.get("content")
        if isinstance(content, list):  # content parts: keep the text ones
            if not all(isinstance(p, dict) and p.get("type") == "text" for p in content):
                raise FormatError(f"{w}.content", "only text content parts are supported")
            content = "".join(p.get("text", "") for p in content)
        calls = None
        if m.get("tool_calls"):
            calls = []
            for k, c in enumerate(m["tool_calls"]):
                f = c.get("function") if isinstance(c, dict) else None
                if not isinstance(f, dict) or not isinstance(f.get("name"), str):
                    raise FormatError(f"{w}.tool_calls[{k}]", "expected {id, type: function, function: {name, arguments}}")
                calls.append(ToolCall(f["name"], _args(f.get("arguments", "{}")), c.get("id")))
        out.append(Message("system" if role == "developer" else role,
                           _str(content, f"{w}.content", allow_none=calls is not None or role == "assistant"),
                           tool_calls=calls, tool_call_id=m.get("tool_call_id"), name=m.get("name"),
                           weight=m.get("weight")))
    return out


def _text_or_messages(v: Any, where: str, role: str) -> list[Message]:
    if isinstance(v, str):
        return [Message(role, v)]
    if isinstance(v, dict):
        return _sharegpt_messages([v], where) if "from" in v else _openai_messages([v], where)
    if isinstance(v, list):
        return _sharegpt_messages(v, where) if v and isinstance(v[0], dict) and "from" in v[0] else \
            _openai_messages(v, where)
    raise FormatError(where, f"expected text or messages, got {type(v).__name__}")


def parse(rec: dict, fmt: str | None = None) -> Sample:
    """A record in ``fmt`` (detected when None) as a :class:`Sample`; :class:`FormatError` if it does not fit."""
    fmt = fmt or detect(rec)
    rest = dict(rec)
    if fmt == "alpaca":
        inst = _str(rest.pop("instruction", None), "instruction")
        inp = _str(rest.pop("input", ""), "input", allow_none=True)
        out = rest.pop("output") if "output" in rest else rest.pop("response", None)
        out = _str(out, "output")
        msgs = []
        system = rest.pop("system", None)
        if system:
            msgs.append(Message("system", _str(system, "system")))
        elif system is not None:
            rest["_system"] = system
        hist = rest.pop("history", None) or []
        if not isinstance(hist, list):
            raise FormatError("history", "expected a list of [instruction, response] pairs")
        for i, pair in enumerate(hist):
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                raise FormatError(f"history[{i}]", "expected an [instruction, response] pair")
            msgs += [Message("user", _str(pair[0], f"history[{i}][0]")), Message("assistant", _str(pair[1], f"history[{i}][1]"))]
        if inp:
            rest["_alpaca_input"] = inp
        msgs += [Message("user", f"{inst}\n{inp}" if inp else inst), Message("assistant", out)]
        return Sample("sft", msgs, meta=rest)
    if fmt in ("sharegpt", "sharegpt_pref", "sharegpt_kto"):
        msgs = _sharegpt_messages(rest.pop("conversations", None), "conversations")
        if msgs and msgs[0].role == "system":
            rest["_sharegpt_system_turn"] = True  # written back where it was
        system = rest.pop("system", None)
        if system:
            msgs.insert(0, Message("system", _str(system, "system")))
        raw_tools = rest.pop("tools", None)
        tools = _tools(raw_tools, "tools")
        if tools is None and raw_tools is not None:
            rest["_sharegpt_tools"] = raw_tools  # an empty list, as it was written
        if fmt == "sharegpt":
            return Sample("sft", msgs, tools=tools, meta=rest)
        if fmt == "sharegpt_kto":
            return Sample("kto", msgs, label=_label(rest.pop("kto_tag", None), "kto_tag"), tools=tools, meta=rest)
        chosen = _text_or_messages(rest.pop("chosen", None), "chosen", "assistant")
        rejected = _text_or_messages(rest.pop("rejected", None), "rejected", "assistant")
        return Sample("preference", msgs, chosen=chosen, rejected=rejected, tools=tools, meta=rest)
    if fmt == "openai":
        msgs = _openai_messages(rest.pop("messages", None), "messages")
        tools = _tools(rest.pop("tools", None), "tools")
        return Sample("sft", msgs, tools=tools, meta=rest)
    if fmt == "preference":
        prompt = _text_or_messages(rest.pop("prompt", None), "prompt", "user")
        chosen = _text_or_messages(rest.pop("chosen", None), "chosen", "assistant")
        rejected = _text_or_messages(rest.pop("rejected", None), "rejected", "assistant")
        return Sample("preference", prompt, chosen=chosen, rejected=rejected, tools=_tools(rest.pop("tools", None),
                      "tools"), meta=rest)
    if fmt == "kto":
        prompt = _text_or_messages(rest.pop("prompt", None), "prompt", "user")
        completion = _text_or_messages(rest.pop("completion", None), "completion", "assistant")
        label = _label(rest.pop("label", None), "label")
        return Sample("kto", prompt + completion, label=label, tools=_tools(rest.pop("tools", None), "tools"), meta=rest)
    raise FormatError("", f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


# -- writing ------------------------------------------------------------------------------------------------

def _sg_turn(m: Message, where: str) -> dict:
    if m.role == "assistant" and m.tool_calls:
        if m.content:
            raise FormatError(where, "ShareGPT cannot hold text and a function call in one assistant turn")
        calls = [{"name": c.name, "arguments": c.arguments} for c in m.tool_calls]
        value = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
        d = {"from": "function_call", "value": value}
    else:
        role = {"user": "human", "assistant": "gpt", "tool": "observation", "system": "system"}[m.role]
        d = {"from": role, "value": m.content}
    if m.weight is not None:
        d["weight"] = m.weight
    return d


def _oa_args(v: Any, arguments: str) -> Any:
    if arguments == "string":
        return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    return v


def _oa_message(m: Message, i: int, arguments: str = "object") -> dict:
    d: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        d["tool_calls"] = [{"id": c.id or f"call_{i}_{k}", "type": "function",
                            "function": {"name": c.name, "arguments": _oa_args(c.arguments, arguments)}}
                           for k, c in enumerate(m.tool_calls)]
    if m.tool_call_id:
        d["tool_call_id"] = m.tool_call_id
    if m.name:
        d["name"] = m.name
    if m.weight is not None:
        d["weight"] = m.weight
    return d


def _sg_list(msgs: list[Message], where: str, system_turn: bool = False) -> tuple[str | None, list[dict]]:
    system = None
    if msgs and msgs[0].role == "system" and not system_turn:
        system, msgs = msgs[0].content, msgs[1:]
    for i, m in enumerate(msgs):
        if m.role == "system" and (i > 0 or not system_turn):
            raise FormatError(f"{where}[{i}]", "ShareGPT holds a system prompt only before the first turn")
    return system, [_sg_turn(m, f"{where}[{i}]") for i, m in enumerate(msgs)]


def _sg_tools(s: Sample, rec: dict) -> None:
    if s.tools:
        rec["tools"] = json.dumps(s.tools, ensure_ascii=False)
    elif "_sharegpt_tools" in s.meta:
        rec["tools"] = s.meta["_sharegpt_tools"]


def write(s: Sample, fmt: str, *, arguments: str = "object") -> dict:
    """The record of ``s`` in ``fmt`` (its ``meta`` fields included); tool-call ``arguments`` as JSON ``object``
    or ``string`` in the OpenAI-style formats."""
    if fmt not in FORMATS:
        raise FormatError("", f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if arguments not in ("object", "string"):
        raise FormatError("", f"tool-call arguments are written as object or string, not {arguments!r}")
    want = KIND[fmt]
    if s.kind != want and not (s.kind == "preference" and want == "kto"):
        raise FormatError("", f"a {s.kind} record cannot be written as {fmt} ({want} data)")
    sg = ("_sharegpt_system_turn", "_sharegpt_tools")
    own = {"alpaca": ("_alpaca_input", "_system"), "sharegpt": sg, "sharegpt_pref": sg, "sharegpt_kto": sg}.get(fmt, ())
    meta = {k: v for k, v in s.meta.items() if k not in own}
    if fmt == "alpaca":
        msgs = list(s.messages)
        rec: dict[str, Any] = {}
        if msgs and msgs[0].role == "system":
            rec["system"] = msgs.pop(0).content
        elif "_system" in s.meta:
            rec["system"] = s.meta["_system"]
        for i, m in enumerate(msgs):
            if m.tool_calls or m.role in ("tool", "system"):
                raise FormatError(f"messages[{i}]", f"Alpaca cannot hold {'tool calls' if m.tool_calls else m.role + ' messages'}")
        roles = [m.role for m in msgs]
        if len(msgs) < 2 or roles != ["user", "assistant"] * (len(msgs) // 2) or len(msgs) % 2:
            raise FormatError("messages", "Alpaca needs alternating user/assistant turns ending with the assistant")
        if s.tools:
            raise FormatError("tools", "Alpaca cannot hold tool definitions")
        inst = msgs[-2].content
        inp = s.meta.get("_alpaca_input")
        if inp and inst.endswith("\n" + inp):
            rec["instruction"], rec["input"] = inst[: -len(inp) - 1], inp
        else:
            rec["instruction"], rec["input"] = inst, ""
        rec["output"] = msgs[-1].content
        if len(msgs) > 2:
            rec["history"] = [[msgs[i].content, msgs[i + 1].content] for i in range(0, len(msgs) - 2, 2)]
        return {**meta, **rec}
    if fmt == "sharegpt":
        system, turns = _sg_list(s.messages, "messages", bool(s.meta.get("_sharegpt_system_turn")))
        rec = {"conversations": turns}
        if system is not None:
            rec["system"] = system
        _sg_tools(s, rec)
        return {**meta, **rec}
    if fmt == "openai":
        rec = {"messages": [_oa_message(m, i, arguments) for i, m in enumerate(s.messages)]}
        if s.tools:
            rec["tools"] = [{"type": "function", "function": t} for t in s.tools]
        return {**meta, **rec}
    if fmt == "sharegpt_pref":
        system, turns = _sg_list(s.messages, "prompt", bool(s.meta.get("_sharegpt_system_turn")))
        if len(s.chosen or []) != 1 or len(s.rejected or []) != 1:
            raise FormatError("chosen", "ShareGPT preference data holds one chosen and one rejected turn")
        rec = {"conversations": turns, "chosen": _sg_turn(s.chosen[0], "chosen"),
               "rejected": _sg_turn(s.rejected[0], "rejected")}
        if system is not None:
            rec["system"] = system
        _sg_tools(s, rec)
        return {**meta, **rec}
    if fmt == "preference":
        n = len(s.messages)
        rec = {"prompt": [_oa_message(m, i, arguments) for i, m in enumerate(s.messages)],
               "chosen": [_oa_message(m, n + i, arguments) for i, m in enumerate(s.chosen or [])],
               "rejected": [_oa_message(m, n + i, arguments) for i, m in enumerate(s.rejected or [])]}
        if s.tools:
            rec["tools"] = [{"type": "function", "function": t} for t in s.tools]
        return {**meta, **rec}
    # kto, sharegpt_kto
    if s.kind == "preference":
        raise FormatError("", "a preference pair becomes two KTO records: use to_kto()")
    if not s.messages or s.messages[-1].role != "assistant":
        raise FormatError("messages", "KTO needs the conversation to end with the assistant's completion")
    if fmt == "sharegpt_kto":
        system, turns = _sg_list(s.messages, "messages", bool(s.meta.get("_sharegpt_system_turn")))
        rec = {"conversations": turns, **({"system": system} if system is not None else {}), "kto_tag": bool(s.label)}
        _sg_tools(s, rec)
        return {**meta, **rec}
    *prompt, last = s.messages
    rec = {"prompt": [_oa_message(m, i, arguments) for i, m in enumerate(prompt)],
           "completion": [_oa_message(last, len(prompt), arguments)], "label": bool(s.label)}
    if s.tools:
        rec["tools"] = [{"type": "function", "function": t} for t in s.tools]
    return {**meta, **rec}


def to_kto(s: Sample) -> list[Sample]:
    """A preference pair as two KTO samples: the chosen completion (label true) and the rejected one (false)."""
    if s.kind != "preference":
        raise FormatError("", "only preference pairs split into KTO records")
    return [Sample("kto", s.messages + (s.chosen or []), label=True, tools=s.tools, meta=dict(s.meta)),
            Sample("kto", s.messages + (s.rejected or []), label=False, tools=s.tools, meta=dict(s.meta))]
