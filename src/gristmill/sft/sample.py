"""The one internal representation of fine-tuning data.

A :class:`Sample` is a conversation (``kind="sft"``), a prompt with a chosen and a rejected completion
(``"preference"``) or a prompt with one completion and a good/bad label (``"kto"``). Messages use OpenAI roles
(system, user, assistant, tool); an assistant message may carry tool calls (name + arguments), a tool message
answers them. Fields a format has and the representation does not (ids, tags, languages …) travel in ``meta``.

>>> s = Sample("sft", [Message("user", "1+1?"), Message("assistant", "2")])
>>> s.prompt_text(), s.response_text()
('1+1?', '2')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("system", "user", "assistant", "tool")


@dataclass
class ToolCall:
    name: str
    arguments: Any                      # usually a dict; a string when the source held unparseable JSON
    id: str | None = None


@dataclass
class Message:
    role: str
    content: str
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None
    weight: float | None = None         # loss weight of this message (None: the masking mode decides)


@dataclass
class Sample:
    kind: str                                        # sft | preference | kto
    messages: list[Message]                          # the conversation, or the prompt
    chosen: list[Message] | None = None              # preference
    rejected: list[Message] | None = None            # preference
    label: bool | None = None                        # kto
    tools: list[dict] | None = None                  # function specs: {name, description, parameters}
    meta: dict = field(default_factory=dict)

    # -- views used by signals and filters ---------------------------------------------------------------
    def conversation(self) -> list[Message]:
        """The messages a model is trained on (for preference: the prompt and the chosen answer)."""
        if self.kind == "preference":
            return self.messages + (self.chosen or [])
        return self.messages

    def prompt_text(self) -> str:
        """The first user turn (the instruction)."""
        return next((m.content for m in self.messages if m.role == "user"), "")

    def response_text(self) -> str:
        """The last assistant turn (the response), or the chosen completion."""
        msgs = self.conversation()
        return next((m.content for m in reversed(msgs) if m.role == "assistant"), "")

    def plain_text(self) -> str:
        """``role: content`` lines of the whole conversation (what text-level steps see)."""
        lines = []
        for m in self.conversation():
            body = m.content
            if m.tool_calls:
                import json

                body = (body + "\n" if body else "") + "\n".join(
                    json.dumps({"name": c.name, "arguments": c.arguments}, ensure_ascii=False) for c in m.tool_calls)
            lines.append(f"{m.role}: {body}")
        if self.kind == "preference" and self.rejected:
            lines += [f"rejected: {m.content}" for m in self.rejected]
        return "\n".join(lines)
