"""The OpenAI chat-completions request, checked field by field: every client mistake is a
:class:`RequestError` (HTTP 400 in OpenAI's error shape, naming the parameter), never a server error.

>>> r = parse_request(b'{"messages": [{"role": "user", "content": "hi"}], "stop": "\\\\n", "n": 2}')
>>> r.stop, r.n, r.max_tokens, r.stream
(['\\n'], 2, 256, False)
>>> parse_request(b'{"messages": [{"role": "user", "content": "hi"}], "stop": 123}')
Traceback (most recent call last):
...
gristmill.sft.api.RequestError: stop: expected a string or a list of up to 4 strings
>>> parse_request(b'[1, 2]')
Traceback (most recent call last):
...
gristmill.sft.api.RequestError: the body must be a JSON object
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

ROLES = ("system", "developer", "user", "assistant", "tool", "function")


class RequestError(Exception):
    """A client mistake: ``status`` (400, 413 …), the message, and the parameter it concerns."""

    def __init__(self, message: str, param: str | None = None, status: int = 400, code: str | None = None):
        super().__init__(f"{param}: {message}" if param else message)
        self.message, self.param, self.status, self.code = message, param, status, code

    def body(self) -> dict:
        return {"error": {"message": str(self), "type": "invalid_request_error", "param": self.param,
                          "code": self.code}}


@dataclass
class ChatRequest:
    messages: list[dict]
    model: str | None = None
    n: int = 1
    max_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    stream: bool = False
    include_usage: bool = False
    logprobs: bool = False
    top_logprobs: int = 0
    logit_bias: dict[int, float] = field(default_factory=dict)


def _num(req: dict, name: str, default: float, lo: float, hi: float) -> float:
    v = req.get(name)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
        raise RequestError(f"expected a number from {lo:g} to {hi:g}", name)
    return float(v)


def _int(req: dict, name: str, default: int | None, lo: int, hi: int) -> int | None:
    v = req.get(name)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise RequestError(f"expected an integer from {lo:,} to {hi:,}", name)
    return v


def _content(v, i: int) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, list):  # content parts: the text parts, joined
        texts = []
        for part in v:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise RequestError("only text content parts are supported", f"messages[{i}].content")
            texts.append(part["text"])
        return "".join(texts)
    raise RequestError("expected a string or a list of text parts", f"messages[{i}].content")


def parse_request(body: bytes, *, max_tokens_cap: int = 1024, max_n: int = 8) -> ChatRequest:
    """A checked request from a request body."""
    try:
        req = json.loads(body)
    except RecursionError:
        raise RequestError("the JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise RequestError(f"the body is not valid JSON ({str(e)[:120]})") from None
    if not isinstance(req, dict):
        raise RequestError("the body must be a JSON object")
    msgs = req.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise RequestError("expected a non-empty list of messages", "messages")
    messages = []
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise RequestError(f"expected an object with a role ({', '.join(ROLES)})", f"messages[{i}]")
        m = {**m, "content": _content(m.get("content"), i)}
        if m["role"] == "developer":
            m["role"] = "system"
        messages.append(m)
    stop = req.get("stop")
    if stop is None:
        stop = []
    elif isinstance(stop, str):
        stop = [stop]
    elif not (isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) and s for s in stop)):
        raise RequestError("expected a string or a list of up to 4 strings", "stop")
    model = req.get("model")
    if model is not None and not isinstance(model, str):
        raise RequestError("expected a string", "model")
    for flag in ("stream", "logprobs"):
        if req.get(flag) is not None and not isinstance(req.get(flag), bool):
            raise RequestError("expected true or false", flag)
    opts = req.get("stream_options") or {}
    if not isinstance(opts, dict):
        raise RequestError("expected an object", "stream_options")
    name = "max_completion_tokens" if req.get("max_completion_tokens") is not None else "max_tokens"
    r = ChatRequest(
        messages=messages, model=model,
        n=_int(req, "n", 1, 1, max_n),
        max_tokens=min(_int(req, name, 256, 1, 1 << 30), max_tokens_cap),
        temperature=_num(req, "temperature", 1.0, 0.0, 2.0),
        top_p=_num(req, "top_p", 1.0, 0.0, 1.0),
        seed=_int(req, "seed", None, -(1 << 63), (1 << 63) - 1),
        stop=stop, stream=bool(req.get("stream")), include_usage=bool(opts.get("include_usage")),
        logprobs=bool(req.get("logprobs")), top_logprobs=_int(req, "top_logprobs", 0, 0, 20))
    bias = req.get("logit_bias") or {}
    if not isinstance(bias, dict) or len(bias) > 300:
        raise RequestError("expected an object of at most 300 token ids", "logit_bias")
    for k, v in bias.items():
        if not str(k).isdigit() or isinstance(v, bool) or not isinstance(v, int | float) or not -100 <= v <= 100:
            raise RequestError("expected token ids (as strings) mapped to numbers from -100 to 100", "logit_bias")
        r.logit_bias[int(k)] = float(v)
    if r.top_logprobs and not r.logprobs:
        raise RequestError("needs logprobs: true", "top_logprobs")
    return r
