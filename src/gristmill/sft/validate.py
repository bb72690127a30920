"""Check a fine-tuning sample: role order, empty turns, system position, tool calls, preference pairs.

Every problem is reported with where it is, so a bad record can be fixed (or quarantined) precisely.

>>> from gristmill.sft.formats import parse
>>> problems(parse({"messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": " "}]}))
["messages[1]: role 'user' after 'user' (expected 'assistant')", 'messages[1]: empty user turn', 'messages: the conversation ends with user, not the assistant']
"""

from __future__ import annotations

from gristmill.sft.sample import Message, Sample


def _turns(msgs: list[Message], where: str, *, must_end_with_assistant: bool) -> list[str]:
    out = []
    if not msgs:
        return [f"{where}: no messages"]
    prev = None
    pending: set[str] = set()
    calls_open = False
    for i, m in enumerate(msgs):
        w = f"{where}[{i}]"
        if m.role == "system":
            if i != 0:
                out.append(f"{w}: a system message is only allowed first")
        elif m.role == "user":
            if prev not in (None, "system", "assistant", "tool") or (prev == "tool" and calls_open):
                out.append(f"{w}: role 'user' after '{prev}' (expected 'assistant')")
        elif m.role == "assistant":
            if prev not in ("user", "tool"):
                out.append(f"{w}: role 'assistant' after '{prev or 'nothing'}' (expected 'user' or 'tool')")
        elif m.role == "tool":
            if not calls_open:
                out.append(f"{w}: a tool message must answer an assistant's tool call")
            elif m.tool_call_id and pending and m.tool_call_id not in pending:
                out.append(f"{w}: tool_call_id {m.tool_call_id!r} answers no open call")
        if m.tool_calls:
            if m.role != "assistant":
                out.append(f"{w}: only the assistant makes tool calls")
            for k, c in enumerate(m.tool_calls):
                if not c.name:
                    out.append(f"{w}.tool_calls[{k}]: no function name")
                if not isinstance(c.arguments, dict):
                    out.append(f"{w}.tool_calls[{k}]: arguments are not a JSON object")
            pending = {c.id for c in m.tool_calls if c.id}
            calls_open = True
        elif m.role == "assistant":
            calls_open = False
        if not m.content.strip() and not m.tool_calls:
            out.append(f"{w}: empty {m.role} turn")
        if m.weight is not None and not (isinstance(m.weight, int | float) and m.weight >= 0):
            out.append(f"{w}: weight must be a number ≥ 0")
        prev = m.role
    if must_end_with_assistant and msgs[-1].role != "assistant":
        out.append(f"{where}: the conversation ends with {msgs[-1].role}, not the assistant")
    if not any(m.role == "user" for m in msgs):
        out.append(f"{where}: no user turn")
    return out


def problems(s: Sample) -> list[str]:
    """Every problem of the sample (empty when it is valid)."""
    out = []
    if s.kind == "sft" or s.kind == "kto":
        out += _turns(s.messages, "messages", must_end_with_assistant=True)
    else:
        out += _turns(s.messages, "prompt", must_end_with_assistant=False)
        if s.messages and s.messages[-1].role == "assistant":
            out.append("prompt: the prompt ends with the assistant; the answer belongs in chosen/rejected")
        for name, msgs in (("chosen", s.chosen), ("rejected", s.rejected)):
            if not msgs:
                out.append(f"{name}: missing")
                continue
            if msgs[-1].role != "assistant":
                out.append(f"{name}: must end with an assistant message")
            if not "".join(m.content for m in msgs).strip() and not any(m.tool_calls for m in msgs):
                out.append(f"{name}: empty")
        if s.chosen and s.rejected and [m.content for m in s.chosen] == [m.content for m in s.rejected]:
            out.append("chosen and rejected are identical")
    for k, t in enumerate(s.tools or []):
        if not isinstance(t.get("name"), str) or not t["name"]:
            out.append(f"tools[{k}]: a function definition needs a name")
        elif "parameters" in t and not isinstance(t["parameters"], dict):
            out.append(f"tools[{k}].parameters: expected a JSON schema object")
    names = {t.get("name") for t in s.tools or []}
    if s.tools:
        for i, m in enumerate(s.conversation()):
            for c in m.tool_calls or []:
                if c.name not in names:
                    out.append(f"messages[{i}]: calls {c.name!r}, which tools does not define")
    return out
