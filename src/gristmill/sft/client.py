"""A client for any OpenAI-compatible chat-completions endpoint: asyncio with bounded concurrency, retries
with exponential backoff on 429/5xx and connection errors (honouring ``Retry-After``), a SQLite cache keyed
by the request (reruns and resumed runs are free), and token and cost accounting.

The base URL and key come from arguments or the environment (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from gristmill.errors import GristmillError

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


@dataclass
class Usage:
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    by_status: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class Cache:
    """request hash -> response JSON, in SQLite (safe for the threads the client uses)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lock = threading.Lock()
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self.db = sqlite3.connect(path, check_same_thread=False)
            self.db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT)")
            self.db.commit()

    def get(self, key: str) -> dict | None:
        if not self.path:
            return None
        with self.lock:
            row = self.db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict) -> None:
        if not self.path:
            return
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (key, json.dumps(value)))
            self.db.commit()


def request_key(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class ChatClient:
    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 concurrency: int = 8, cache: str | None = None, max_retries: int = 6, timeout: float = 120,
                 backoff: float = 0.5, price_in: float = 0.0, price_out: float = 0.0) -> None:
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "").rstrip("/")
        if not self.base_url:
            raise GristmillError("no endpoint", hint="--base-url http://HOST:PORT/v1 or OPENAI_BASE_URL")
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self.model, self.max_retries, self.timeout, self.backoff = model, max_retries, timeout, backoff
        self.price_in, self.price_out = price_in, price_out  # per million tokens
        self.sem = asyncio.Semaphore(concurrency)
        self.cache = Cache(cache)
        self.usage = Usage()

    def _post(self, body: dict) -> tuple[int, dict | str, float | None]:
        data = json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base_url}/chat/completions", data=data, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {self.api_key}"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return r.status, json.loads(r.read()), None
        except urllib.error.HTTPError as e:
            after = e.headers.get("Retry-After") if e.headers else None
            try:
                wait = float(after) if after else None
            except ValueError:
                wait = None
            return e.code, e.read().decode("utf-8", "replace")[:500], wait
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            return 0, str(getattr(e, "reason", e)), None

    async def chat(self, messages: list[dict], **params) -> dict:
        """The response JSON for ``messages`` (from the cache when the same request was made before)."""
        body = {"model": self.model, "messages": messages, **params}
        key = request_key(body)
        hit = self.cache.get(key)
        if hit is not None:
            self.usage.cache_hits += 1
            return {**hit, "_cache_key": key, "_cached": True}
        async with self.sem:
            for attempt in range(self.max_retries + 1):
                status, payload, wait = await asyncio.to_thread(self._post, body)
                self.usage.by_status[str(status)] = self.usage.by_status.get(str(status), 0) + 1
                if status == 200 and isinstance(payload, dict):
                    break
                if (status in RETRY_STATUS or status == 0) and attempt < self.max_retries:
                    self.usage.retries += 1
                    await asyncio.sleep(min(wait if wait is not None else self.backoff * 2 ** attempt, 30.0))
                    continue
                self.usage.failures += 1
                raise GristmillError(f"{self.base_url}: HTTP {status or 'connection error'} after {attempt + 1} "
                                     f"attempt(s): {str(payload)[:200]}")
        self.usage.requests += 1
        u = payload.get("usage") or {}
        self.usage.prompt_tokens += int(u.get("prompt_tokens", 0))
        self.usage.completion_tokens += int(u.get("completion_tokens", 0))
        self.usage.cost = round((self.usage.prompt_tokens * self.price_in
                                 + self.usage.completion_tokens * self.price_out) / 1e6, 6)
        self.cache.put(key, payload)
        return {**payload, "_cache_key": key, "_cached": False}


def content(resp: dict) -> str:
    try:
        return resp["choices"][0]["message"]["content"] or ""
    except (KeyError, IndexError, TypeError):
        raise GristmillError(f"not a chat completion: {str(resp)[:200]}") from None


def now() -> float:
    return time.time()
