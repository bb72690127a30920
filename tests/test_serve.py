"""``gristmill serve`` as OpenAI clients expect it, tested with the real ``openai`` client on loopback:
streaming, n, max_completion_tokens, stop, seed, logprobs; 400/413/429 in OpenAI's error shape; bounded
bodies, reads and queue; cancelled abandoned requests; /health while generating (issues #17, #19)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

openai = pytest.importorskip("openai")
pytest.importorskip("torch")

EOS = 0  # <|endoftext|> in gristmill's trained tokenizers
ASK = [{"role": "user", "content": "Give three tips for staying healthy."}]


@pytest.fixture(scope="module")
def server(trained_model):
    from gristmill.sft.serve import Limits, make_server

    limits = Limits(max_body_bytes=64 * 1024, read_timeout=1.5, max_tokens=4000, max_queue=1)
    srv = make_server(trained_model, "127.0.0.1", 0, limits=limits)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def client(base: str, **kw):
    return openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, **kw)


def health(base: str) -> dict:
    return json.loads(urllib.request.urlopen(base + "/health", timeout=5).read())


def post(base: str, body: bytes, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(base + "/v1/chat/completions", data=body,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_completions_n_stop_seed_and_logprobs(server):
    c = client(server)
    r = c.chat.completions.create(model="proxy", messages=ASK, n=3, max_completion_tokens=12, seed=7,
                                  logprobs=True, top_logprobs=2)
    assert [ch.index for ch in r.choices] == [0, 1, 2]
    assert all(ch.finish_reason in ("stop", "length") for ch in r.choices)
    assert r.usage.completion_tokens == sum(len(ch.logprobs.content) for ch in r.choices) <= 36
    assert all(t.logprob <= 0 and len(t.top_logprobs) == 2 for ch in r.choices for t in ch.logprobs.content)
    again = c.chat.completions.create(model="proxy", messages=ASK, n=3, max_completion_tokens=12, seed=7)
    assert [ch.message.content for ch in again.choices] == [ch.message.content for ch in r.choices]
    # max_completion_tokens is honoured, and a stop string never appears in the answer
    long = c.chat.completions.create(model="proxy", messages=ASK, max_completion_tokens=40, seed=3,
                                     temperature=0, logit_bias={str(EOS): -100})
    assert long.usage.completion_tokens == 40 and long.choices[0].finish_reason == "length"
    text = long.choices[0].message.content
    assert len(text) > 6
    stop = text[len(text) // 2:][:3]
    cut = c.chat.completions.create(model="proxy", messages=ASK, max_completion_tokens=40, seed=3,
                                    temperature=0, logit_bias={str(EOS): -100}, stop=[stop])
    assert cut.choices[0].finish_reason == "stop" and stop not in cut.choices[0].message.content
    assert text.startswith(cut.choices[0].message.content)


def test_streaming_equals_the_whole_answer_and_reports_usage(server):
    c = client(server)
    whole = c.chat.completions.create(model="proxy", messages=ASK, max_tokens=30, seed=11)
    chunks = list(c.chat.completions.create(model="proxy", messages=ASK, max_tokens=30, seed=11, stream=True,
                                            stream_options={"include_usage": True}))
    assert len(chunks) > 3
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    finish = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finish == [whole.choices[0].finish_reason]


def test_async_client(server):
    async def go():
        c = openai.AsyncOpenAI(base_url=server + "/v1", api_key="unused", max_retries=0)
        r = await c.chat.completions.create(model="proxy", messages=ASK, max_tokens=8, seed=1)
        parts = [ch async for ch in await c.chat.completions.create(model="proxy", messages=ASK, max_tokens=8,
                                                                    seed=1, stream=True)]
        return r, "".join(p.choices[0].delta.content or "" for p in parts if p.choices)

    r, streamed = asyncio.run(go())
    assert r.choices[0].message.content == streamed


@pytest.mark.parametrize("body,param", [
    (b"[1, 2]", None),
    (b'{"messages": [{"role": "user", "content": "hi"}], "stop": 123}', "stop"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}', "temperature"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "n": 0}', "n"),
    (b'{"messages": []}', "messages"),
    (b'{"messages": [{"role": "wizard", "content": "hi"}]}', "messages[0]"),
    (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, None),  # 10,000 levels deep
    (b'{"messages": "x", "seed": ' + b"9" * 5000 + b"}", None),
    (b"{not json", None),
])
def test_client_mistakes_are_400_in_openais_shape(server, body, param):
    code, obj = post(server, body)
    assert code == 400 and obj["error"]["type"] == "invalid_request_error"
    assert obj["error"]["param"] == param and obj["error"]["message"]


def test_the_openai_client_sees_a_bad_request_error(server):
    with pytest.raises(openai.BadRequestError) as e:
        client(server).chat.completions.create(model="proxy", messages=ASK, top_p=3)
    assert e.value.status_code == 400 and "top_p" in str(e.value)


def test_an_oversize_body_is_413_and_not_read(server):
    code, obj = post(server, b'{"messages": [], "pad": "' + b"x" * 200_000 + b'"}')
    assert code == 413 and "at most 65,536" in obj["error"]["message"]
    assert health(server)["status"] == "ok"


def test_a_slow_client_is_disconnected_after_the_read_timeout(server):
    host, port = server.rsplit(":", 1)[0].split("//")[1], int(server.rsplit(":", 1)[1])
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        assert s.recv(100) == b""  # the server closed the connection (read_timeout 1.5 s)


def _long_stream(base: str):
    """A streamed completion that cannot end early (EOS banned), read one chunk at a time."""
    body = json.dumps({"model": "proxy", "messages": ASK, "max_tokens": 4000, "stream": True,
                       "logit_bias": {str(EOS): -100}}).encode()
    host, port = base.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert b"200" in s.recv(64)
    return s


def _wait(cond, seconds=60.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_busy_model_queue_429_health_and_cancellation(server):
    before = health(server)
    s = _long_stream(server)  # generating
    assert _wait(lambda: health(server)["busy"])  # /health answers while the model generates
    waiting = {}

    def second():
        waiting["r"] = client(server, timeout=120).chat.completions.create(model="proxy", messages=ASK,
                                                                          max_tokens=4, seed=2)

    t = threading.Thread(target=second)
    t.start()
    assert _wait(lambda: health(server)["waiting"] == 1)
    with pytest.raises(openai.RateLimitError) as e:  # max_queue 1: the third is turned away
        client(server).chat.completions.create(model="proxy", messages=ASK, max_tokens=4)
    assert int(e.value.response.headers["Retry-After"]) >= 1
    s.close()  # the streaming client goes away: its generation is cancelled, the waiting request runs
    t.join(timeout=120)
    assert waiting["r"].choices[0].message.content is not None
    after = health(server)
    assert after["cancelled"] == before["cancelled"] + 1 and after["rejected_busy"] == before["rejected_busy"] + 1


def test_an_abandoned_non_streaming_request_is_cancelled(server):
    before = health(server)["cancelled"]
    with pytest.raises(openai.APITimeoutError):
        client(server, timeout=1.0).chat.completions.create(model="proxy", messages=ASK, max_tokens=4000,
                                                             logit_bias={str(EOS): -100})
    assert _wait(lambda: health(server)["cancelled"] == before + 1 and not health(server)["busy"])
