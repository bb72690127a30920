"""Fine-tuning data on ../shared/data/instruct: lossless format round trips, validation, chat templates and loss
masks, SFT signals and filters (ROUGE-L on Chinese), selection, and synthesis against a real local server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gristmill import run
from gristmill.errors import GristmillError
from gristmill.recipe import parse_recipe
from gristmill.sft.chat import Template, render, token_mask
from gristmill.sft.formats import FORMATS, KIND, FormatError, detect, parse, to_kto, write
from gristmill.sft.validate import problems
from tests.conftest import kill_after_batches, output_rows, read_jsonl, shared, write_jsonl

FILES = ["alpaca_en_demo.jsonl", "alpaca_zh_demo.jsonl", "self_instruct_seed_tasks_en.jsonl",
         "fastchat_dummy_conversation.jsonl", "glaive_toolcall_en_demo.jsonl", "dpo_en_demo.jsonl.gz"]


def _nonnull(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


@pytest.mark.parametrize("name", FILES)
def test_every_format_pair_round_trips_without_loss(name):
    recs = read_jsonl(shared(f"instruct/{name}"))
    src = detect(recs[0])
    assert all(detect(r) == src for r in recs)
    for target in FORMATS:
        if KIND[target] != KIND[src]:
            with pytest.raises(FormatError, match="cannot be written as|becomes two KTO records"):
                write(parse(recs[0]), target)
            continue
        done = refused = 0
        for r in recs:
            s = parse(r)
            try:
                there = write(s, target)
            except FormatError as e:  # refused, never silently dropped
                assert target == "alpaca" and ("tool" in str(e)), e
                assert any(m.tool_calls for m in s.messages) or s.tools
                refused += 1
                continue
            back = write(parse(there, target), src)
            assert _nonnull(back) == _nonnull(r), (name, target)
            assert parse(back) == s
            done += 1
        assert done + refused == len(recs) and done > 0


def test_preference_pairs_split_into_kto_and_tool_calls_survive_openai():
    pref = parse(read_jsonl(shared("instruct/dpo_en_demo.jsonl.gz"))[0])
    good, bad = (write(k, "kto") for k in to_kto(pref))
    assert good["label"] is True and bad["label"] is False
    assert good["completion"][0]["content"] == pref.chosen[0].content and good["prompt"] == bad["prompt"]
    glaive = next(r for r in read_jsonl(shared("instruct/glaive_toolcall_en_demo.jsonl")) if "function_call" in json.dumps(r))
    oa = write(parse(glaive), "openai")
    call = next(m for m in oa["messages"] if m.get("tool_calls"))["tool_calls"][0]
    assert call["type"] == "function" and isinstance(call["function"]["arguments"], dict)  # as chat templates take
    api = write(parse(glaive), "openai", arguments="string")  # as OpenAI's API sends them
    api_call = next(m for m in api["messages"] if m.get("tool_calls"))["tool_calls"][0]
    assert json.loads(api_call["function"]["arguments"]) == call["function"]["arguments"]
    assert parse(api) == parse(oa)
    assert oa["tools"][0]["type"] == "function" and "name" in oa["tools"][0]["function"]
    assert [m["role"] for m in oa["messages"]].count("tool") >= 1


BROKEN = [
    ({"messages": [{"role": "assistant", "content": "hi"}]},
     "messages[0]: role 'assistant' after 'nothing' (expected 'user' or 'tool')"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "s"},
                   {"role": "assistant", "content": "b"}]}, "messages[1]: a system message is only allowed first"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "  "}]},
     "messages[1]: empty assistant turn"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "tool", "content": "{}"},
                   {"role": "assistant", "content": "b"}]}, "messages[1]: a tool message must answer an assistant's tool call"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "not json"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "1"}, {"role": "assistant", "content": "ok"}]},
     "messages[1].tool_calls[0]: arguments are not a JSON object"),
    ({"conversations": [{"from": "human", "value": "q"}, {"from": "bot", "value": "a"}]},
     "conversations[1].from: unknown role 'bot'"),
    ({"instruction": "q"}, "unknown format"),
    ({"prompt": "q", "chosen": "same", "rejected": "same"}, "chosen and rejected are identical"),
    ({"prompt": "q", "completion": "a", "label": "yes"}, "label: expected true or false, got 'yes'"),
    ({"conversations": [{"from": "human", "value": "q"}, {"from": "function_call", "value": '{"name": "g", '
                        '"arguments": {}}'}, {"from": "observation", "value": "1"}, {"from": "gpt", "value": "a"}],
      "tools": '[{"name": "f", "parameters": {}}]'}, "messages[1]: calls 'g', which tools does not define"),
]


@pytest.mark.parametrize("rec,expected", BROKEN)
def test_validation_errors_name_the_problem(rec, expected):
    try:
        got = problems(parse(rec))
    except FormatError as e:
        got = [str(e)]
    assert any(expected in g for g in got), got


def test_invalid_records_are_quarantined_in_a_run(tmp_path):
    good = read_jsonl(shared("instruct/fastchat_dummy_conversation.jsonl"))[:20]
    rows = good + [r for r, _ in BROKEN[:3]]
    write_jsonl(tmp_path / "in.jsonl", rows)
    recipe = parse_recipe({"input": {"sft": "auto"}, "steps": [{"step": "sft_signals"}]}, "<t>")
    m = run(recipe, inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"), workers=1, quiet=True)
    q = output_rows(tmp_path / "o", "quarantine")
    assert m["reconciled"] and m["counts"] == {"input": 23, "kept": 20, "rejected": 0, "quarantined": 3}
    assert "invalid openai record: messages[0]: role 'assistant'" in q[0]["error"] and q[0]["offset"] > 0
    kept = output_rows(tmp_path / "o")
    assert [k["conversations"] for k in kept] == [g["conversations"] for g in good]  # written back unchanged
    assert "text" not in kept[0] or kept[0]["text"] == good[0]["text"]


def test_chatml_and_jinja_templates_with_loss_masks(tmp_path):
    s = parse({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "你好"},
                            {"role": "assistant", "content": "你好！", "weight": 0},
                            {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]})
    r_all, r_last, r_w = render(s, mode="all"), render(s, mode="last"), render(s, mode="weights")
    assert [r_all.text[a:b] for a, b, _ in r_all.spans] == ["你好！<|im_end|>\n", "4<|im_end|>\n"]
    assert [r_last.text[a:b] for a, b, _ in r_last.spans] == ["4<|im_end|>\n"]
    assert [r_w.text[a:b] for a, b, _ in r_w.spans] == ["4<|im_end|>\n"]  # weight 0 on the first answer
    cfg = {"bos_token": "<s>", "eos_token": "</s>", "chat_template":
           "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]"
           "{% elif m['role'] == 'assistant' %} {{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}"}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(cfg))
    plain = parse({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})
    r = render(plain, Template(str(tmp_path)))
    assert r.text == "<s>[INST] hi [/INST] hello</s>" and [r.text[a:b] for a, b, _ in r.spans] == [" hello</s>"]
    from gristmill.tokenize.tokenizer import train_tokenizer

    tok = train_tokenizer([r_all.text] * 20, vocab_size=300)
    ids, weights = token_mask(r_all, tok)
    trained = tok.decode([i for i, w in zip(ids, weights, strict=True) if w > 0])
    assert trained == "你好！<|im_end|>\n4<|im_end|>\n"
    with pytest.raises(GristmillError, match="no chat_template"):
        (tmp_path / "x").mkdir()
        (tmp_path / "x" / "tokenizer_config.json").write_text("{}")
        Template(str(tmp_path / "x"))


def test_sft_signals_filters_and_rouge_on_chinese(tmp_path):
    zh = read_jsonl(shared("instruct/alpaca_zh_demo.jsonl"))[:40]
    near = [dict(zh[i], id=f"near-{i}", instruction=zh[i]["instruction"].rstrip("。") + "，请简要说明。")
            for i in range(5) if len(zh[i]["instruction"]) > 12]
    refusal = {"id": "refuse", "instruction": "帮我查一下明天北京的天气", "input": "",
               "output": "很抱歉，我无法提供实时天气信息。作为一个AI语言模型，我没有联网能力。"}
    cut = {"id": "cut", "instruction": "Explain how vaccines train the immune system.", "input": "",
           "output": "Vaccines expose the immune system to a harmless piece of a pathogen, so that"}
    write_jsonl(tmp_path / "in.jsonl", zh + near + [refusal, cut])
    recipe = parse_recipe({"input": {"sft": "auto"}, "steps": [
        {"step": "sft_signals"}, {"step": "filter", "preset": ["sft"]}, {"step": "rouge_dedup", "threshold": 0.7}]},
        "<t>")
    m = run(recipe, inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"), workers=1, quiet=True)
    rej = {r["id"]: r for r in output_rows(tmp_path / "o", "rejected")}
    assert rej["refuse"]["reason"] == "refusal" and rej["cut"]["reason"] == "truncated"
    for r in near:
        assert rej[r["id"]]["reason"] == "near_duplicate_instruction", r["id"]
        assert "ROUGE-L" in rej[r["id"]]["detail"]
    kept = output_rows(tmp_path / "o")
    assert m["reconciled"] and len(kept) == len(zh) - sum(1 for z in zh if z["id"] in rej)
    assert all(k["sft_prompt_lang"] in ("zh", "und") and k["sft_lang_match"] for k in kept)


def test_selection_kcenter_and_ifd(tmp_path, trained_model):
    from gristmill.sft.select import select, tfidf_vectors

    recs = [parse(r) for r in read_jsonl(shared("instruct/alpaca_en_demo.jsonl"))[:60]]
    idx, _ = select(recs, 10, method="kcenter")
    assert len(set(idx)) == 10
    v = tfidf_vectors([recs[i].prompt_text() + recs[i].response_text() for i in idx])
    sims = v @ v.T
    assert (sims[~__import__("numpy").eye(10, dtype=bool)] < 0.9).all()  # no two near-identical picks
    idx2, info = select(recs, 5, method="ifd", model=trained_model)
    assert len(idx2) == 5 and all(info["ifd"][i] <= 1.0 for i in idx2)
    assert sorted((info["ifd"][i] for i in idx2), reverse=True) == [info["ifd"][i] for i in idx2]


# -- synthesis against a real server ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(trained_model):
    """``gristmill serve`` as a user starts it, on a free loopback port."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = subprocess.Popen([sys.executable, "-m", "gristmill", "serve", trained_model, "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/models", timeout=2)
            break
        except OSError:
            if p.poll() is not None or time.time() > deadline:
                p.kill()
                pytest.fail(f"gristmill serve did not start: {p.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    yield url
    p.terminate()
    p.wait(timeout=30)


def test_server_speaks_the_openai_protocol(server):
    import urllib.request

    body = {"model": "x", "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 12, "seed": 3}
    req = urllib.request.Request(server + "/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    a = json.loads(urllib.request.urlopen(req, timeout=60).read())
    b = json.loads(urllib.request.urlopen(urllib.request.Request(
        server + "/chat/completions", data=json.dumps(body).encode()), timeout=60).read())
    assert a["object"] == "chat.completion" and a["choices"][0]["message"]["role"] == "assistant"
    assert a["choices"][0]["message"]["content"] == b["choices"][0]["message"]["content"]  # seeded
    assert a["usage"]["completion_tokens"] <= 12 and a["usage"]["prompt_tokens"] > 0
    models = json.loads(urllib.request.urlopen(server + "/models", timeout=10).read())
    assert models["data"][0]["object"] == "model"
    bad = urllib.request.Request(server + "/chat/completions", data=b"{not json")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(bad, timeout=10)
    assert e.value.code == 400


def test_a_self_instruct_round_against_the_local_server(server, tmp_path):
    from gristmill.sft.synth import synthesize

    seeds = read_jsonl(shared("instruct/self_instruct_seed_tasks_en.jsonl"))
    r = synthesize("self-instruct", seeds, str(tmp_path / "si"), model="proxy", base_url=server, n=4,
                   max_tokens=80, batch=2, concurrency=2)
    recs = read_jsonl(tmp_path / "si" / "records.jsonl")
    assert r["usage"]["requests"] >= 2 and r["usage"]["completion_tokens"] > 0
    assert len(recs) == r["records"] and len({x["id"] for x in recs}) == len(recs)
    assert sum(r["filtered"].values()) + len(recs) > 0
    for x in recs:
        assert x["provenance"]["generator"] == "self-instruct" and x["provenance"]["model"] == "proxy"
        assert len(x["provenance"]["requests"]) == 2 and x["instruction"] and detect(x) == "alpaca"
    again = synthesize("self-instruct", seeds, str(tmp_path / "si"), model="proxy", base_url=server, n=4,
                       max_tokens=80, batch=2)
    assert again["usage"]["requests"] == 0 and read_jsonl(tmp_path / "si" / "records.jsonl") == recs
    evo = synthesize("evol-instruct", read_jsonl(shared("instruct/alpaca_zh_demo.jsonl"))[:6], str(tmp_path / "ev"),
                     model="proxy", base_url=server, generations=2, lang="zh", max_tokens=48)
    ev = read_jsonl(tmp_path / "ev" / "records.jsonl")
    assert evo["records"] == len(ev) and sum((evo["eliminated"] or {}).values()) + len(ev) >= 6
    assert all(e["provenance"]["operation"].startswith(("in_depth/", "in_breadth/")) for e in ev)


def test_a_killed_synthesis_resumes_without_duplicates_or_loss(server, tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    write_jsonl(seeds, read_jsonl(shared("instruct/self_instruct_seed_tasks_en.jsonl")))
    args = [sys.executable, "-m", "gristmill", "synth", "self-instruct", "--seeds", str(seeds), "--base-url", server,
            "-n", "4", "--max-tokens", "80", "--batch", "1", "--concurrency", "1", "--model", "proxy"]
    full = subprocess.run(args + ["-o", str(tmp_path / "full")], capture_output=True, text=True, timeout=600)
    assert full.returncode == 0, full.stderr
    state = tmp_path / "killed" / "state.json"
    kill_after_batches(args + ["-o", str(tmp_path / "killed")], state)
    before = json.loads(state.read_text())
    resumed = subprocess.run(args + ["-o", str(tmp_path / "killed")], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    a, b = read_jsonl(tmp_path / "full" / "records.jsonl"), read_jsonl(tmp_path / "killed" / "records.jsonl")
    assert [x["id"] for x in b] == [x["id"] for x in a] and b == a and len({x["id"] for x in b}) == len(b)
    after, whole = json.loads(state.read_text()), json.loads((tmp_path / "full" / "state.json").read_text())
    assert after["batches"] == whole["batches"] > before["batches"] and after["records"] == whole["records"] == len(a)
    assert after["filtered"] == whole["filtered"]


class _Flaky(BaseHTTPRequestHandler):
    calls: list = []

    def log_message(self, *a):
        pass

    def do_POST(self):  # noqa: N802
        _Flaky.calls.append(self.path)
        self.rfile.read(int(self.headers["Content-Length"]))
        if len(_Flaky.calls) <= 2:
            self.send_response(429)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
            return
        body = json.dumps({"choices": [{"message": {"role": "assistant", "content": "ok"}}],
                           "usage": {"prompt_tokens": 7, "completion_tokens": 1}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_client_retries_429_caches_and_counts_cost(tmp_path):
    import asyncio

    from gristmill.sft.client import ChatClient

    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        async def go():
            c = ChatClient("m", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", api_key="k",
                           cache=str(tmp_path / "c.sqlite"), backoff=0.01, price_in=1.0, price_out=2.0)
            r1 = await c.chat([{"role": "user", "content": "hi"}])
            r2 = await c.chat([{"role": "user", "content": "hi"}])
            return c, r1, r2
        c, r1, r2 = asyncio.run(go())
    finally:
        srv.shutdown()
        srv.server_close()
    assert r1["choices"][0]["message"]["content"] == "ok" and r2["_cached"] and not r1["_cached"]
    assert c.usage.retries == 2 and c.usage.by_status == {"429": 2, "200": 1} and c.usage.cache_hits == 1
    assert c.usage.cost == pytest.approx((7 * 1.0 + 1 * 2.0) / 1e6) and len(_Flaky.calls) == 3


def test_cli_detect_and_convert(tmp_path):
    src = shared("instruct/glaive_toolcall_en_demo.jsonl")
    r = subprocess.run([sys.executable, "-m", "gristmill", "sft", "convert", str(src), "-o", str(tmp_path / "a.jsonl"),
                        "--to", "alpaca"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    kept = read_jsonl(tmp_path / "a.jsonl")
    q = read_jsonl(str(tmp_path / "a.jsonl") + ".quarantine.jsonl")
    assert len(kept) + len(q) == 300 and len(q) > 0 and "Alpaca cannot hold" in q[0]["error"]
    d = subprocess.run([sys.executable, "-m", "gristmill", "sft", "detect", str(src)], capture_output=True, text=True)
    assert d.returncode == 0 and "sharegpt 300" in d.stdout and "every record is valid" in d.stdout
    assert os.path.exists(tmp_path / "a.jsonl")


def test_a_hugging_face_model_folder_scores_ifd_and_serves(tmp_path):
    """A tiny GPT-2 made here (no download) in a Hugging Face folder, with its own chat template."""
    import urllib.request

    transformers = pytest.importorskip("transformers")
    from gristmill.sft.select import HFScorer, ifd, scorer
    from gristmill.sft.serve import make_server
    from gristmill.tokenize.tokenizer import train_tokenizer

    texts = [r["instruction"] + "\n" + r["output"] for r in read_jsonl(shared("instruct/alpaca_en_demo.jsonl"))[:200]]
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=train_tokenizer(texts, vocab_size=600),
                                                eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    fast.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    fast.save_pretrained(tmp_path / "hf")
    cfg = transformers.GPT2Config(vocab_size=len(fast), n_positions=256, n_embd=32, n_layer=1, n_head=2,
                                  bos_token_id=0, eos_token_id=0)
    transformers.GPT2LMHeadModel(cfg).save_pretrained(tmp_path / "hf")
    sc = scorer(str(tmp_path / "hf"))
    assert isinstance(sc, HFScorer) and 0.5 < ifd(sc, "Describe a process of making crepes.", texts[0]) < 2.0
    srv = make_server(str(tmp_path / "hf"), "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        body = {"messages": [{"role": "user", "content": "Describe crepes."}], "max_tokens": 6, "seed": 1}
        req = urllib.request.Request(f"http://127.0.0.1:{srv.server_address[1]}/v1/chat/completions",
                                     data=json.dumps(body).encode())
        r = json.loads(urllib.request.urlopen(req, timeout=60).read())
    finally:
        srv.shutdown()
        srv.server_close()
    assert r["model"] == "hf" and r["usage"]["completion_tokens"] <= 6 and r["usage"]["prompt_tokens"] > 5


def test_benchmark_items_in_fine_tuning_records_are_found(tmp_path):
    from gristmill.decontam.index import build_index

    build_index([("gsm8k", str(shared("decontam/gsm8k_test.jsonl")), ["question"])], str(tmp_path / "idx"), n=13)
    q = read_jsonl(shared("decontam/gsm8k_test.jsonl"))[5]["question"]
    recs = read_jsonl(shared("instruct/alpaca_en_demo.jsonl"))[:30]
    recs[7] = dict(recs[7], instruction=q, output="The answer is 18.")
    write_jsonl(tmp_path / "in.jsonl", recs)
    recipe = parse_recipe({"input": {"sft": "auto"}, "steps": [
        {"step": "decontaminate", "index": str(tmp_path / "idx"), "action": "remove"}]}, "<t>")
    m = run(recipe, inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"), workers=1, quiet=True)
    rej = output_rows(tmp_path / "o", "rejected")
    assert m["reconciled"] and [r["id"] for r in rej] == [recs[7]["id"]] and rej[0]["reason"] == "contaminated"
    assert rej[0]["instruction"] == q and rej[0]["contam_benchmarks"] == "gsm8k"


def test_render_and_select_name_the_bad_line_without_a_traceback(tmp_path):
    good = read_jsonl(shared("instruct/alpaca_zh_demo.jsonl"))[:3]
    write_jsonl(tmp_path / "in.jsonl", good + [{"conversations": [{"from": "bot", "value": "x"}]}])
    cmd = ["select", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "s.jsonl"), "-n", "1"]
    r = subprocess.run([sys.executable, "-m", "gristmill", "sft", *cmd], capture_output=True, text=True)
    msg = "".join(r.stderr.split())  # the terminal wraps long lines
    assert r.returncode == 2 and "in.jsonl:4:conversations[0].from:unknownrole'bot'" in msg
    assert "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "gristmill", "sft", "render", str(tmp_path / "in.jsonl"), "-o",
                        str(tmp_path / "r.jsonl")], capture_output=True, text=True)  # render quarantines it
    q = read_jsonl(str(tmp_path / "r.jsonl") + ".quarantine.jsonl")
    assert r.returncode == 0 and len(read_jsonl(tmp_path / "r.jsonl")) == 3 and "Traceback" not in r.stderr
    assert [x["line"] for x in q] == [4] and "conversations[0].from: unknown role 'bot'" in q[0]["error"]
    write_jsonl(tmp_path / "ok.jsonl", good)
    r = subprocess.run([sys.executable, "-m", "gristmill", "sft", "render", str(tmp_path / "ok.jsonl"), "-o",
                        str(tmp_path / "r.jsonl")], capture_output=True, text=True)
    assert r.returncode == 0 and "<|im_start|>assistant\n" in read_jsonl(tmp_path / "r.jsonl")[0]["text"]
