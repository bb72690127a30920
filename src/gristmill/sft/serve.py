"""``gristmill serve``: a small OpenAI-compatible server (``POST /v1/chat/completions``, ``GET /v1/models``)
over a local model, so synthesis and evaluation loops run offline.

Models: a ``gristmill train`` folder (the proxy GPT; the conversation is rendered with ChatML and sampled
token by token) or a Hugging Face causal-LM folder when ``transformers`` is installed (its own chat template).
Sampling is seeded by the request's ``seed`` or, without one, by a hash of the request, so the same request
gets the same answer. Requests are served one at a time per model (a lock), on any number of connections.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ProxyGenerator:
    def __init__(self, path: str) -> None:
        from gristmill.tokenize.tokenizer import eos_id
        from gristmill.train.trainer import load_model

        self.model, self.tok = load_model(path)
        self.eos = eos_id(self.tok)
        self.name = os.path.basename(os.path.abspath(path))

    def __call__(self, messages: list[dict], *, max_tokens: int, temperature: float, top_p: float, seed: int,
                 stop: list[str]) -> tuple[str, int, int, str]:
        import torch

        from gristmill.sft.chat import Template
        from gristmill.sft.formats import parse

        prompt = Template()(parse({"messages": messages}).messages, add_generation_prompt=True)
        ids = [self.eos] + self.tok.encode(prompt, add_special_tokens=False).ids
        n_prompt = len(ids)
        g = torch.Generator().manual_seed(seed)
        ctx = self.model.config.seq_len
        out: list[int] = []
        finish = "length"
        stops = ["<|im_end|>", *stop]
        with torch.no_grad():
            for _ in range(max_tokens):
                x = torch.tensor([(ids + out)[-ctx:]])
                logits, _ = self.model(x)
                logits = logits[0, -1]
                if temperature <= 0:
                    nxt = int(torch.argmax(logits))
                else:
                    probs = torch.softmax(logits / temperature, dim=-1)
                    if top_p < 1.0:
                        sp, si = torch.sort(probs, descending=True)
                        cut = torch.cumsum(sp, 0) - sp > top_p
                        sp[cut] = 0
                        probs = torch.zeros_like(probs).scatter(0, si, sp)
                    nxt = int(torch.multinomial(probs / probs.sum(), 1, generator=g))
                if nxt == self.eos:
                    finish = "stop"
                    break
                out.append(nxt)
                text = self.tok.decode(out)
                hit = [s for s in stops if s in text]
                if hit:
                    finish = "stop"
                    return text[: min(text.index(s) for s in hit)], n_prompt, len(out), finish
        return self.tok.decode(out), n_prompt, len(out), finish


class HFGenerator:
    def __init__(self, path: str) -> None:
        from gristmill.sft.models import load_hf

        self.model, self.tok = load_hf(path)
        self.name = os.path.basename(os.path.abspath(path))

    def __call__(self, messages, *, max_tokens, temperature, top_p, seed, stop):
        import torch

        torch.manual_seed(seed)
        if getattr(self.tok, "chat_template", None):
            prompt = self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            from gristmill.sft.chat import Template
            from gristmill.sft.formats import parse

            prompt = Template()(parse({"messages": messages}).messages, add_generation_prompt=True)
        enc = self.tok(prompt, return_tensors="pt")
        with torch.no_grad():
            gen = self.model.generate(**enc, max_new_tokens=max_tokens, do_sample=temperature > 0,
                                      temperature=max(temperature, 1e-5), top_p=top_p,
                                      pad_token_id=self.tok.eos_token_id)
        new = gen[0, enc["input_ids"].shape[1]:]
        text = self.tok.decode(new, skip_special_tokens=True)
        for s in ["<|im_end|>", *stop]:
            if s in text:
                text = text[: text.index(s)]
        return text, int(enc["input_ids"].shape[1]), int(len(new)), "stop" if len(new) < max_tokens else "length"


def load_generator(path: str):
    from gristmill.sft.models import kind

    return ProxyGenerator(path) if kind(path) == "proxy" else HFGenerator(path)


def make_server(model_path: str, host: str = "127.0.0.1", port: int = 8000, *, max_tokens_cap: int = 1024,
                api_key: str | None = None) -> ThreadingHTTPServer:
    gen = load_generator(model_path)
    lock = threading.Lock()
    stats = {"requests": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _send(self, code: int, obj: dict) -> None:
            body = json.dumps(obj, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, code: int, msg: str) -> None:
            self._send(code, {"error": {"message": msg, "type": "invalid_request_error" if code < 500 else "server_error"}})

        def _authorised(self) -> bool:
            if not api_key:
                return True
            return self.headers.get("Authorization", "") == f"Bearer {api_key}"

        def do_GET(self):  # noqa: N802
            if not self._authorised():
                return self._error(401, "invalid API key")
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                return self._send(200, {"object": "list", "data": [{"id": gen.name, "object": "model",
                                                                    "owned_by": "gristmill"}]})
            if self.path.rstrip("/") in ("/health", ""):
                return self._send(200, {"status": "ok", **stats})
            return self._error(404, f"no route {self.path}")

        def do_POST(self):  # noqa: N802
            if not self._authorised():
                return self._error(401, "invalid API key")
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                return self._error(404, f"no route {self.path}")
            try:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                req = json.loads(raw)
                messages = req["messages"]
                if not isinstance(messages, list) or not messages:
                    raise ValueError("messages must be a non-empty list")
            except (ValueError, KeyError, json.JSONDecodeError) as e:
                return self._error(400, f"bad request: {e}")
            seed = req.get("seed")
            if seed is None:
                seed = int(hashlib.sha256(raw).hexdigest()[:8], 16)
            stop = req.get("stop") or []
            stop = [stop] if isinstance(stop, str) else list(stop)
            try:
                with lock:
                    text, n_in, n_out, finish = gen(messages, max_tokens=min(int(req.get("max_tokens") or 256), max_tokens_cap),
                                                    temperature=float(req.get("temperature", 1.0)),
                                                    top_p=float(req.get("top_p", 1.0)), seed=int(seed), stop=stop)
            except Exception as e:  # a model error is the server's, reported as JSON
                return self._error(500, f"generation failed: {e}")
            stats["requests"] += 1
            self._send(200, {"id": f"chatcmpl-{hashlib.sha256(raw).hexdigest()[:24]}", "object": "chat.completion",
                             "created": int(time.time()), "model": req.get("model") or gen.name,
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                          "finish_reason": finish}],
                             "usage": {"prompt_tokens": n_in, "completion_tokens": n_out,
                                       "total_tokens": n_in + n_out}})

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):  # a client that went away is not an error
            import sys

            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    return Server((host, port), Handler)
