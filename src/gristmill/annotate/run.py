"""``gristmill annotate``: score a sample of documents with an LLM judge behind any OpenAI-compatible endpoint.

The machinery is synth's (:mod:`gristmill.sft.client`, :class:`gristmill.sft.synth.Journal`): bounded
concurrency, retries with backoff on 429/5xx, a SQLite cache keyed by the request (``OUT/cache.sqlite``),
token and cost accounting. Results are committed in sample order every ``commit_every`` documents (records
appended and fsync'ed, then ``state.json``), so after a kill -9 a rerun skips every committed document and
gets every answered request from the cache: only requests that were in flight when the process died are sent
again. A document whose request fails after the retries goes to ``OUT/failed.jsonl`` (rewritten by each run)
and is sent again by the next run; more than ``max_failures`` failures stop the run with one line.

Each record of ``OUT/records.jsonl``: ``id, lang, source, text, score`` (None when the reply held no score
on the scale), ``scale``, ``reasons``, ``parse_error``, ``prompt``, ``model``, ``truncated``, ``request``
(the cache key), ``cached`` and ``tokens``.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor

from gristmill.annotate.parse import parse
from gristmill.annotate.prompts import MAX_CHARS, Prompt, builtin, render
from gristmill.errors import GristmillError
from gristmill.sft.client import ChatClient, Usage, content
from gristmill.sft.synth import Journal

COMMIT_EVERY = 64
MAX_FAILURES = 20
_SUMMED = ("requests", "cache_hits", "retries", "failures", "prompt_tokens", "completion_tokens", "cost")


def _add(a: dict, b: dict) -> dict:
    out = {k: round(a.get(k, 0) + b.get(k, 0), 6) for k in _SUMMED}
    st = dict(a.get("by_status", {}))
    for k, v in b.get("by_status", {}).items():
        st[k] = st.get(k, 0) + v
    return out | {"by_status": st}


def _prompt_for(prompt: str | Prompt, lang: str) -> Prompt:
    return prompt if isinstance(prompt, Prompt) else builtin(prompt, lang)


async def _annotate(client: ChatClient, docs: list[dict], j: Journal, *, prompt: str | Prompt, max_chars: int,
                    max_tokens: int, temperature: float, commit_every: int, max_failures: int,
                    base_usage: dict, concurrency: int) -> list[dict]:
    failed: list[dict] = []

    async def one(d: dict) -> dict:
        p = _prompt_for(prompt, d["lang"])
        msg, cut = render(p, d["text"], d["lang"], max_chars)
        rec = {"id": d["id"], "lang": d["lang"], "source": d["source"], "text": d["text"]}
        try:
            resp = await client.chat([{"role": "user", "content": msg}], temperature=temperature,
                                     max_tokens=max_tokens)
            reply = content(resp)
        except GristmillError as e:
            return rec | {"error": str(e)}
        score, reasons, why = parse(reply, p.scale)
        u = resp.get("usage") or {}
        return rec | {"score": score, "scale": list(p.scale), "reasons": reasons[:4000], "parse_error": why,
                      "prompt": f"{p.name}/{p.lang}", "model": client.model, "truncated": cut,
                      "request": resp["_cache_key"], "cached": resp["_cached"],
                      "tokens": {"prompt": int(u.get("prompt_tokens", 0) or 0),
                                 "completion": int(u.get("completion_tokens", 0) or 0)}}

    buf: list[dict] = []

    def take(r: dict) -> None:
        if "error" in r:
            failed.append({k: r[k] for k in ("id", "lang", "source", "error")})
        else:
            buf.append(r)
        if len(buf) >= commit_every:
            flush()

    def flush() -> None:
        j.commit(list(buf), {"usage_total": _add(base_usage, client.usage.to_dict())})
        buf.clear()

    window = 4 * concurrency  # tasks scheduled ahead; the client's semaphore bounds those in flight
    pending: deque[asyncio.Task] = deque()
    for d in docs:
        if len(failed) >= max_failures:
            break
        pending.append(asyncio.create_task(one(d)))
        while pending and (len(pending) >= window or pending[0].done()):
            take(await pending.popleft())
    while pending:
        take(await pending.popleft())
    flush()
    return failed


def annotate(docs: list[dict], out: str, *, model: str, prompt: str | Prompt = "edu", base_url: str | None = None,
             api_key: str | None = None, concurrency: int = 8, max_chars: int = MAX_CHARS, max_tokens: int = 256,
             temperature: float = 0.0, price_in: float = 0.0, price_out: float = 0.0, max_retries: int = 6,
             backoff: float = 0.5, commit_every: int = COMMIT_EVERY, max_failures: int = MAX_FAILURES,
             timeout: float = 120) -> dict:
    """Annotate ``docs`` (``{id, text, lang, source}``, e.g. from :func:`gristmill.annotate.sample.stratified`)
    into the folder ``out``; resumes a run that was stopped. Returns counts and token/cost usage."""
    if max_chars < 1 or concurrency < 1 or commit_every < 1:
        raise GristmillError("max_chars, concurrency and commit_every must be positive")
    os.makedirs(out, exist_ok=True)
    config = {"model": model, "prompt": prompt.name if isinstance(prompt, Prompt) else prompt,
              "template": prompt.template if isinstance(prompt, Prompt) else None,
              "scale": list(prompt.scale) if isinstance(prompt, Prompt) else [0.0, 5.0],
              "max_chars": max_chars, "max_tokens": max_tokens, "temperature": temperature}
    j = Journal(out)
    if j.state.get("config", config) != config:
        diff = [k for k in config if j.state["config"].get(k) != config[k]]
        raise GristmillError(f"{out} holds annotations made with other settings ({', '.join(diff)})",
                             hint="use a new output folder, or the same settings to resume")
    j.state["config"] = config
    done = {r["id"] for r in j.records}
    todo = [d for d in docs if d["id"] not in done]
    base_usage = j.state.get("usage_total", Usage().to_dict())

    async def go():
        # the client runs each request in a thread: as many threads as requests in flight (asyncio's
        # default pool has min(32, cores + 4), which would cap the concurrency on a small machine)
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=concurrency))
        client = ChatClient(model, base_url=base_url, api_key=api_key, concurrency=concurrency,
                            cache=os.path.join(out, "cache.sqlite"), price_in=price_in, price_out=price_out,
                            max_retries=max_retries, backoff=backoff, timeout=timeout)
        if client.cache.path:  # WAL without a sync per commit: an answer survives kill -9 (the OS has it),
            with client.cache.lock:  # and the cache no longer waits for the disk at every answer
                client.cache.db.execute("PRAGMA journal_mode=WAL")
                client.cache.db.execute("PRAGMA synchronous=NORMAL")
        failed = await _annotate(client, todo, j, prompt=prompt, max_chars=max_chars, max_tokens=max_tokens,
                                 temperature=temperature, commit_every=commit_every, max_failures=max_failures,
                                 base_usage=base_usage, concurrency=concurrency)
        return client, failed

    client, failed = asyncio.run(go())
    fpath = os.path.join(out, "failed.jsonl")
    with open(fpath, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in failed)
    summary = summarise(j.records)
    summary |= {"output": j.records_path, "failed": len(failed), "failed_path": fpath,
                "skipped_done": len(docs) - len(todo), "usage": client.usage.to_dict(),
                "usage_total": j.state.get("usage_total", base_usage)}
    if len(failed) >= max_failures:
        raise GristmillError(f"stopped after {len(failed)} failed requests (first: {failed[0]['error'][:200]}); "
                             f"{len(j.records):,} documents are annotated in {j.records_path}",
                             hint="check the endpoint, then rerun the same command to resume")
    return summary


def summarise(records: list[dict]) -> dict:
    """Counts per language: documents, scored, unparsed, truncated, and the score histogram."""
    langs: dict[str, dict] = {}
    for r in records:
        g = langs.setdefault(r["lang"], {"documents": 0, "scored": 0, "unparsed": 0, "truncated": 0,
                                         "scores": Counter()})
        g["documents"] += 1
        g["truncated"] += bool(r.get("truncated"))
        if r.get("score") is None:
            g["unparsed"] += 1
        else:
            g["scored"] += 1
            g["scores"][f"{r['score']:g}"] += 1
    for g in langs.values():
        g["scores"] = dict(sorted(g["scores"].items(), key=lambda kv: float(kv[0])))
    return {"records": len(records), "languages": dict(sorted(langs.items()))}
