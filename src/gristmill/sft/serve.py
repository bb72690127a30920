"""``gristmill serve``: an OpenAI-compatible server (``POST /v1/chat/completions``, ``GET /v1/models``,
``GET /health``) over a local model, so synthesis and evaluation loops run offline.

What OpenAI clients expect: server-sent-event streaming (``stream``, ``stream_options.include_usage``),
``n``, ``max_completion_tokens`` (or ``max_tokens``), ``stop`` (a string or up to 4), ``seed``, ``logprobs``,
``top_logprobs`` and ``logit_bias``; OpenAI's error shape, with 400 for every client mistake (:mod:`gristmill.sft.api`),
401, 404, 411, 413 and 429. Sampling is seeded by ``seed`` or, without one, by a hash of the request, so the
same request gets the same answer.

Bounded (every limit a :class:`Limits` field and a ``gristmill serve`` option): the body size (413 before
it is read), header and body read time per connection, the generation time per request, the number of
requests waiting for the model (429 with ``Retry-After`` beyond it). One request generates at a time per
model; a request whose client has gone is cancelled at the next token. ``/health`` never waits for the model.
"""

from __future__ import annotations

import hashlib
import json
import math
import select
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gristmill.sft.api import ChatRequest, RequestError, parse_request
from gristmill.sft.generate import Generation, load_generator


@dataclass
class Limits:
    max_body_bytes: int = 4 * 2**20     # larger request bodies get 413 without being read
    read_timeout: float = 30.0          # seconds to receive a request's headers and body (and between requests)
    max_tokens: int = 1024              # cap on max_tokens / max_completion_tokens
    max_n: int = 8                      # cap on n
    max_queue: int = 16                 # requests waiting for the model; more get 429
    generation_seconds: float = 300.0   # a completion stops (finish_reason "length") after this long
    queue_seconds: float = 120.0        # a request that waited this long for the model gets 429


def _client_gone(conn: socket.socket) -> bool:
    """Whether the peer closed the connection (readable with nothing to read)."""
    try:
        r, _, _ = select.select([conn], [], [], 0)
        if not r:
            return False
        return conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class _Gate:
    """One generation at a time, at most ``max_queue`` waiting."""

    def __init__(self, limits: Limits) -> None:
        self.lock = threading.Lock()
        self.count = threading.Lock()
        self.waiting = 0
        self.busy = False
        self.limits = limits
        self.last_seconds = 1.0

    def enter(self) -> bool:
        if self.lock.acquire(blocking=False):
            self.busy = True
            return True
        with self.count:
            if self.waiting >= self.limits.max_queue:
                return False
            self.waiting += 1
        try:
            ok = self.lock.acquire(timeout=self.limits.queue_seconds)
        finally:
            with self.count:
                self.waiting -= 1
        if ok:
            self.busy = True
        return ok

    def leave(self, seconds: float) -> None:
        self.busy = False
        self.last_seconds = max(seconds, 0.1)
        self.lock.release()

    def retry_after(self) -> int:
        return max(1, math.ceil(self.last_seconds * (self.waiting + 1)))


def make_server(model_path: str, host: str = "127.0.0.1", port: int = 8000, *, max_tokens_cap: int | None = None,
                api_key: str | None = None, limits: Limits | None = None) -> ThreadingHTTPServer:
    limits = limits or Limits()
    if max_tokens_cap is not None:
        limits.max_tokens = max_tokens_cap
    gen = load_generator(model_path)
    gate = _Gate(limits)
    stats = {"requests": 0, "cancelled": 0, "rejected_busy": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = limits.read_timeout  # the socket's timeout: slow headers or bodies end the connection

        def log_message(self, *args):  # quiet
            pass

        def _send(self, code: int, obj: dict, headers: dict | None = None) -> None:
            body = json.dumps(obj, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, code: int, msg: str, *, kind: str | None = None, param: str | None = None,
                   headers: dict | None = None) -> None:
            kind = kind or ("invalid_request_error" if code < 500 else "server_error")
            self._send(code, {"error": {"message": msg, "type": kind, "param": param, "code": None}}, headers)

        def _authorised(self) -> bool:
            return not api_key or self.headers.get("Authorization", "") == f"Bearer {api_key}"

        def do_GET(self):  # noqa: N802
            if self.path.rstrip("/") in ("/health", ""):
                return self._send(200, {"status": "ok", "busy": gate.busy, "waiting": gate.waiting, **stats})
            if not self._authorised():
                return self._error(401, "invalid API key", kind="authentication_error")
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                return self._send(200, {"object": "list", "data": [{"id": gen.name, "object": "model",
                                                                    "created": 0, "owned_by": "gristmill"}]})
            return self._error(404, f"no route {self.path}")

        def _body(self) -> bytes | None:
            length = self.headers.get("Content-Length")
            if length is None:
                self.close_connection = True
                self._error(411, "a Content-Length header is required")
                return None
            try:
                n = int(length)
                if n < 0:
                    raise ValueError
            except ValueError:
                self.close_connection = True
                self._error(400, f"bad Content-Length {length[:40]!r}")
                return None
            if n > limits.max_body_bytes:
                self.close_connection = True  # the body is not read
                self._error(413, f"the request body is {n:,} bytes; this server takes at most "
                                 f"{limits.max_body_bytes:,}")
                return None
            return self.rfile.read(n)

        def do_POST(self):  # noqa: N802
            if not self._authorised():
                return self._error(401, "invalid API key", kind="authentication_error")
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                return self._error(404, f"no route {self.path}")
            raw = self._body()
            if raw is None:
                return None
            try:
                req = parse_request(raw, max_tokens_cap=limits.max_tokens, max_n=limits.max_n)
            except RequestError as e:
                return self._send(e.status, e.body())
            if not gate.enter():
                stats["rejected_busy"] += 1
                return self._error(429, "the model is busy; retry later", kind="rate_limit_error",
                                   headers={"Retry-After": str(gate.retry_after())})
            t0 = time.monotonic()
            try:
                self._complete(req, raw)
            except (BrokenPipeError, ConnectionResetError):
                stats["cancelled"] += 1
                self.close_connection = True
            except RequestError as e:
                self._send(e.status, e.body())
            except Exception as e:  # a model error is the server's, reported as JSON
                self._error(500, f"generation failed: {type(e).__name__}: {str(e)[:300]}")
            finally:
                gate.leave(time.monotonic() - t0)

        def _complete(self, req: ChatRequest, raw: bytes) -> None:
            from gristmill.sft.formats import FormatError

            seed = req.seed if req.seed is not None else int(hashlib.sha256(raw).hexdigest()[:8], 16)
            cid = f"chatcmpl-{hashlib.sha256(raw).hexdigest()[:24]}"
            model = req.model or gen.name
            created = int(time.time())
            deadline = time.monotonic() + limits.generation_seconds
            conn = self.connection

            def cancelled() -> bool:
                return _client_gone(conn)

            def run(i: int, g: Generation):
                try:
                    return gen.stream(req.messages, g, max_tokens=req.max_tokens, temperature=req.temperature,
                                      top_p=req.top_p, seed=seed + i, stop=req.stop, top_logprobs=req.top_logprobs,
                                      want_logprobs=req.logprobs, cancelled=cancelled, deadline=deadline,
                                      logit_bias=req.logit_bias)
                except FormatError as e:
                    raise RequestError(str(e), "messages") from None

            if req.stream:
                return self._stream(req, run, cid, model, created)
            choices, usage_in, usage_out = [], 0, 0
            for i in range(req.n):
                g = Generation()
                try:
                    for _ in run(i, g):
                        pass
                except FormatError as e:
                    raise RequestError(str(e), "messages") from None
                if g.finish_reason == "cancelled":
                    stats["cancelled"] += 1
                    self.close_connection = True
                    return
                usage_in, usage_out = g.prompt_tokens, usage_out + g.completion_tokens
                choice = {"index": i, "message": {"role": "assistant", "content": g.text, "refusal": None},
                          "finish_reason": g.finish_reason,
                          "logprobs": {"content": g.logprobs, "refusal": None} if req.logprobs else None}
                choices.append(choice)
            stats["requests"] += 1
            self._send(200, {"id": cid, "object": "chat.completion", "created": created, "model": model,
                             "system_fingerprint": "gristmill", "choices": choices,
                             "usage": {"prompt_tokens": usage_in, "completion_tokens": usage_out,
                                       "total_tokens": usage_in + usage_out}})

        def _stream(self, req: ChatRequest, run, cid: str, model: str, created: int) -> None:
            from gristmill.sft.formats import FormatError

            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

            def event(obj) -> None:
                data = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
                self.wfile.write(f"data: {data}\n\n".encode())
                self.wfile.flush()

            def chunk(i: int, delta: dict, finish: str | None = None, logprobs=None) -> dict:
                return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                        "system_fingerprint": "gristmill",
                        "choices": [{"index": i, "delta": delta, "finish_reason": finish,
                                     "logprobs": {"content": logprobs, "refusal": None} if req.logprobs else None}]}

            usage_in = usage_out = 0
            for i in range(req.n):
                g = Generation()
                event(chunk(i, {"role": "assistant", "content": ""}))
                try:
                    for d in run(i, g):
                        event(chunk(i, {"content": d.text}, logprobs=d.logprobs))
                except FormatError as e:
                    event({"error": {"message": f"messages: {e}", "type": "invalid_request_error",
                                     "param": "messages", "code": None}})
                    return
                if g.finish_reason == "cancelled":
                    stats["cancelled"] += 1
                    return
                event(chunk(i, {}, g.finish_reason))
                usage_in, usage_out = g.prompt_tokens, usage_out + g.completion_tokens
            if req.include_usage:
                event({"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                       "system_fingerprint": "gristmill", "choices": [],
                       "usage": {"prompt_tokens": usage_in, "completion_tokens": usage_out,
                                 "total_tokens": usage_in + usage_out}})
            event("[DONE]")
            stats["requests"] += 1

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # listen backlog (socketserver's default of 5 refuses bursts of clients)

        def handle_error(self, request, client_address):  # a client that went away is not an error
            import sys

            if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
                super().handle_error(request, client_address)

    return Server((host, port), Handler)
