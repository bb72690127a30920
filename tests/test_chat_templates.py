"""Chat templates with transformers' semantics: on every template TRL ships and the shared instruction sets
(Alpaca en/zh, FastChat multi-turn, Glaive tool calls), gristmill's built-in renderer gives what
``apply_chat_template`` gives, character for character, rejects what it rejects with the same message, and its
loss spans give transformers' ``assistant_masks``; the render command quarantines what a template rejects or what
runs past a limit, and keeps ids."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gristmill.sft.chat import Template, render, template_messages, token_mask
from gristmill.sft.formats import parse
from gristmill.sft.jinja_env import Limits, RenderLimit, TemplateRejected, compile_template
from tests.conftest import read_jsonl, shared, write_jsonl

transformers = pytest.importorskip("transformers", reason="the reference renderer is transformers' (test extra)")
trl = pytest.importorskip("trl", reason="the templates under test are the ones TRL ships (test extra)")

TEMPLATE_DIR = os.path.join(os.path.dirname(trl.__file__), "chat_templates")
TEMPLATES = sorted(f[:-6] for f in os.listdir(TEMPLATE_DIR) if f.endswith(".jinja"))
SPECIAL = {"bos_token": "<bos>", "eos_token": "<eos>"}
SETS = {"alpaca_en_demo.jsonl": 6, "alpaca_zh_demo.jsonl": 6, "fastchat_dummy_conversation.jsonl": 8,
        "glaive_toolcall_en_demo.jsonl": 10}
_ROLE = {"human": "user", "gpt": "assistant", "system": "system", "observation": "tool"}


def reference(rec: dict) -> tuple[list[dict], list[dict] | None]:
    """The messages and tools a transformers/TRL user passes for a raw record, built without gristmill."""
    msgs = [{"role": "system", "content": rec["system"]}] if rec.get("system") else []
    if "instruction" in rec:
        for q, a in rec.get("history") or []:
            msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        user = rec["instruction"] + ("\n" + rec["input"] if rec.get("input") else "")
        return msgs + [{"role": "user", "content": user}, {"role": "assistant", "content": rec["output"]}], None
    for t in rec["conversations"]:
        if t["from"] == "function_call":
            call = json.loads(t["value"])
            args = json.loads(call["arguments"]) if isinstance(call["arguments"], str) else call["arguments"]
            msgs.append({"role": "assistant", "content": "",
                         "tool_calls": [{"type": "function", "function": {"name": call["name"], "arguments": args}}]})
        else:
            msgs.append({"role": _ROLE[t["from"]], "content": t["value"]})
    tools = json.loads(rec["tools"]) if rec.get("tools") else None
    return msgs, [{"type": "function", "function": t} for t in tools] if tools else None


@pytest.fixture(scope="module")
def records() -> list[dict]:
    rng = random.Random(17)
    out = []
    for name, k in SETS.items():
        recs = read_jsonl(shared(f"instruct/{name}"))
        if name.startswith("glaive"):  # tool calls first: most of the sample makes at least one
            recs = sorted(recs, key=lambda r: -sum(t["from"] == "function_call" for t in r["conversations"]))[:60]
        out += rng.sample(recs, k)
    return out


@pytest.fixture(scope="module")
def hf_tokenizer(records):
    """A real fast tokenizer (byte-level BPE trained here on the records) for apply_chat_template's masks."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tk.train_from_iterator([json.dumps(r, ensure_ascii=False) for r in records], trainers.BpeTrainer(
        vocab_size=1500, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=list(SPECIAL.values())))
    return PreTrainedTokenizerFast(tokenizer_object=tk, **SPECIAL)


def _apply(tok, src, msgs, tools, **kw):
    try:
        return tok.apply_chat_template(msgs, tools=tools, chat_template=src, **kw), None
    except Exception as e:  # noqa: BLE001 - the template's own refusal, compared with gristmill's
        return None, str(e)


@pytest.mark.parametrize("name", TEMPLATES)
def test_builtin_renderer_equals_apply_chat_template(name, records, hf_tokenizer):
    path = os.path.join(TEMPLATE_DIR, name + ".jinja")
    src = Path(path).read_text(encoding="utf-8")
    t = Template(path, backend="builtin", variables=SPECIAL)
    assert t.backend == "builtin"
    rendered = unstable = 0
    for rec in records:
        msgs, tools = reference(rec)
        want, err = _apply(hf_tokenizer, src, msgs, tools, tokenize=False)
        try:
            got = render(parse(rec), t)
        except TemplateRejected as e:
            if want is not None:  # only for the loss spans of a template that is not prefix-stable, and said so
                assert not t.has_generation and "not prefix-stable" in str(e), (name, rec["id"], str(e))
                unstable += 1
                continue
            assert err in str(e), (err, str(e))  # the template's own message
            continue
        assert want is not None, f"{name} rendered {rec['id']} that transformers rejects: {err}"
        assert got.text == want, (name, rec["id"])
        rendered += 1
        ids, weights = token_mask(got, hf_tokenizer.backend_tokenizer)
        if t.has_generation:  # the loss spans are transformers' assistant mask, token for token
            out = hf_tokenizer.apply_chat_template(msgs, tools=tools, chat_template=src, return_dict=True,
                                                   return_assistant_tokens_mask=True)
            assert ids == list(out["input_ids"])
            assert [int(w > 0) for w in weights] == list(out["assistant_masks"]), (name, rec["id"])
            assert any(weights)
        else:  # spans in order, each assistant answer inside one, the first user turn in none
            spans = got.spans
            assert all(a < b <= c for (a, b, _), (c, _, _) in zip(spans, spans[1:], strict=False))
            inside = "\0".join(got.text[a:b] for a, b, _ in spans)
            for m in msgs:  # (multimodal templates render only content-part lists: nothing to find there)
                if m["role"] == "assistant" and m["content"].strip() and m["content"].strip() in got.text:
                    assert m["content"].strip() in inside, (name, rec["id"])
            first_user = next(m["content"] for m in msgs if m["role"] == "user")
            assert len(first_user) < 8 or first_user not in inside, (name, rec["id"])
    assert rendered >= 3 or name.startswith("llava_next"), f"{name} rendered only {rendered} records"
    assert unstable <= len(records) // 2, f"{name}: {unstable} records without loss spans"


def test_llava_next_rejects_plain_text_content_like_transformers(records, hf_tokenizer):
    """LLaVA-NeXT's templates only take content-part lists: both renderers refuse plain strings alike."""
    path = os.path.join(TEMPLATE_DIR, "llava_next.jinja")
    t = Template(path, backend="builtin", variables=SPECIAL)
    msgs, tools = reference(records[0])
    _, err = _apply(hf_tokenizer, t.source, msgs, tools, tokenize=False)
    with pytest.raises(TemplateRejected) as e:
        render(parse(records[0]), t)
    assert err and err in str(e.value)


def test_transformers_backend_and_tool_records(records):
    """With transformers installed a loaded template renders through transformers itself; tools reach it
    wrapped and tool-call arguments as objects (Qwen2.5 shows both)."""
    glaive = next(r for r in records if "function_call" in json.dumps(r))
    path = os.path.join(TEMPLATE_DIR, "qwen2_5.jinja")
    auto, builtin = Template(path, variables=SPECIAL), Template(path, backend="builtin", variables=SPECIAL)
    assert auto.backend == "transformers" and Template().backend == "builtin"  # ChatML is gristmill's own
    text = render(parse(glaive), auto).text
    assert text == render(parse(glaive), builtin).text
    tools = json.loads(glaive["tools"])
    assert json.dumps({"type": "function", "function": tools[0]}, ensure_ascii=False) in text
    call = json.loads(next(t["value"] for t in glaive["conversations"] if t["from"] == "function_call"))
    assert '"arguments": ' + json.dumps(call["arguments"], ensure_ascii=False) in text


def test_jinja_features_as_transformers_sets_them():
    from transformers.utils.chat_template_utils import render_jinja_template

    src = ("{%- set ns = namespace(n=0) %}\n"
           "{%- for m in messages %}\n"
           "    {%- if m.role == 'system' %}{% continue %}{% endif %}\n"
           "    {%- set ns.n = ns.n + 1 %}\n"
           "  [{{ ns.n }}] {{ m.content | tojson }}|{{ m | tojson(indent=2, sort_keys=true) }}|"
           "{{ m | tojson(separators=(',', ':')) }}|{{ m | tojson(ensure_ascii=true) }}\n"
           "    {% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% endif %}\n"
           "{%- endfor %}\n"
           "{{ strftime_now('%Y') }} {{ dict(a=1) | tojson }}\n"
           "{%- if messages | length > 3 %}{{ raise_exception('too long: ' ~ messages | length) }}{% endif %}")
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "你好 <b>&"},
            {"role": "assistant", "content": "Hello"}]
    want, spans = render_jinja_template([msgs], chat_template=src, return_assistant_tokens_mask=True)
    assert compile_template(src).render({"messages": msgs}) == (want[0], [tuple(s) for s in spans[0]])
    assert str(time.localtime().tm_year) in want[0] and '"你好 <b>&"' in want[0]
    with pytest.raises(TemplateRejected, match="too long: 6"):
        compile_template(src).render({"messages": msgs * 2})
    with pytest.raises(TemplateRejected, match="underscore"):
        compile_template("{% set ns = namespace() %}{% set ns._x = 1 %}").render({})


@pytest.mark.parametrize("src,why", [
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "took longer"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{{ 'x' }}{% endfor %}{% endfor %}", "over the limit"),
    ("{{ 'x' * 10 ** 10 }}", "over the limit"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
     "over the limit"),
    ("{{ (messages[0].content * 1000).replace('', messages[0].content * 1000) }}", "over the limit"),
    ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "recursion"),
])
def test_runaway_templates_stop_at_a_limit(src, why):
    t0 = time.monotonic()
    limit = 1.0 if why == "took longer" else 60.0  # the others stop at a size or depth limit long before
    with pytest.raises(TemplateRejected, match=why):
        compile_template(src, Limits(time_limit=limit, max_chars=1_000_000)).render(
            {"messages": [{"role": "user", "content": "你好，世界" * 50}]})
    assert time.monotonic() - t0 < 30


def test_loss_modes_with_generation_blocks(records):
    conv = next(r for r in records if len(r.get("conversations", [])) == 6 and r["format"] != "glaive")
    t = Template(os.path.join(TEMPLATE_DIR, "qwen2_5_training.jinja"), backend="builtin")
    s = parse(conv)
    answers = [m.content for m in s.messages if m.role == "assistant"]
    r_all, r_last = render(s, t, "all"), render(s, t, "last")  # Qwen2.5's blocks: "\n" answer "<|im_end|>\n"
    assert [r_all.text[a:b] for a, b, _ in r_all.spans] == ["\n" + a + "<|im_end|>\n" for a in answers]
    assert r_last.spans == [r_all.spans[-1]]
    s.messages[1].weight, s.messages[2].weight = 0.5, 1.0  # first answer half, the second question trained too
    r_w = render(s, t, "weights")
    first, *rest = [(r_all.text[a:b], 1.0) for a, b, _ in r_all.spans]
    assert [(r_w.text[a:b], w) for a, b, w in r_w.spans] == [
        (first[0], 0.5), ("<|im_start|>user\n" + s.messages[2].content + "<|im_end|>\n", 1.0), *rest]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "gristmill", "sft", "render", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("backend", ["builtin", "transformers"])
def test_render_quarantines_rejected_and_runaway_records_and_keeps_ids(tmp_path, records, backend):
    """Gemma 3 refuses tool turns; a record whose content triggers a runaway loop is stopped at the time
    limit (the transformers renderer by killing its worker), one that builds a 4 GB string at the size or memory
    limit. Every other record renders, with its id."""
    gemma = Path(TEMPLATE_DIR, "gemma3.jinja").read_text(encoding="utf-8")
    runaway = ("{%- if messages[-1].content == 'HANG' %}{% for i in range(100000) %}{% for j in range(100000) %}"
               "{% endfor %}{% endfor %}{% endif %}{%- if messages[-1].content == 'BIG' %}{{ 'x' * 4000000000 }}"
               "{% endif %}")
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "tokenizer_config.json").write_text(json.dumps(
        {"chat_template": runaway + gemma, "bos_token": {"content": "<bos>"}, "eos_token": "<eos>"}))
    tool = next(r for r in records if "function_call" in json.dumps(r))
    plain = [r for r in records if "instruction" in r][:4]
    hang = {"id": "hang-1", "instruction": "卡住", "input": "", "output": "HANG"}
    big = {"id": "big-1", "instruction": "大", "input": "", "output": "BIG"}
    rows = [plain[0], tool, plain[1], hang, plain[2], {"instruction": "no output"}, big, plain[3]]
    write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "r.jsonl"
    t0 = time.monotonic()
    r = _cli(str(tmp_path / "in.jsonl"), "-o", str(out), "--template", str(tmp_path / "tpl"), "--backend", backend,
             "--time-limit", "2", "--max-memory-mb", "512")
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 120
    got = read_jsonl(out)
    assert [g["id"] for g in got] == [p["id"] for p in plain]
    assert all(g["text"].startswith("<bos><start_of_turn>user\n") and g["loss_spans"] for g in got)
    q = {x["line"]: x for x in read_jsonl(str(out) + ".quarantine.jsonl")}
    assert sorted(q) == [2, 4, 6, 7]
    assert "Conversation roles must alternate" in q[2]["error"] and q[2]["record"]["id"] == tool["id"]
    assert "longer than 2 s" in q[4]["error"] and q[4]["record"]["id"] == "hang-1"
    assert q[6]["error"].startswith("invalid record")
    assert ("max_chars" if backend == "builtin" else "memory") in q[7]["error"]
    said = " ".join(r.stdout.split())  # the terminal wraps long lines
    assert f"({backend} renderer)" in said and "4 quarantined" in said


def test_render_output_cap_and_bad_variables(tmp_path, records):
    write_jsonl(tmp_path / "in.jsonl", [r for r in records if "instruction" in r][:3])
    r = _cli(str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "r.jsonl"), "--max-chars", "40")
    q = read_jsonl(tmp_path / "r.jsonl.quarantine.jsonl")
    assert r.returncode == 0 and len(q) == 3 and "40 (max_chars)" in q[0]["error"]
    r = _cli(str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "r.jsonl"), "--var", "no equals sign")
    assert r.returncode == 2 and "NAME=VALUE" in r.stderr and "Traceback" not in r.stderr
    tpl = tmp_path / "t.jinja"
    tpl.write_text("{{ bos_token }}{% for m in messages %}{{ m.content }}{% if enable_thinking %}+{% endif %}"
                   "{% endfor %}")
    r = _cli(str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "v.jsonl"), "--template", str(tpl),
             "--var", "bos_token=<s>", "--var", "enable_thinking=true")
    first = [r for r in records if "instruction" in r][0]
    text = read_jsonl(tmp_path / "v.jsonl")[0]["text"]
    assert r.returncode == 0 and text.startswith("<s>") and text.endswith(first["output"] + "+")


def test_template_messages_carry_arguments_as_objects():
    s = parse({"messages": [
        {"role": "user", "content": "北京天气？"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
            "name": "weather", "arguments": "{\"city\": \"北京\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "晴"}, {"role": "assistant", "content": "晴天。"}]})
    m = template_messages(s.messages)
    assert m[1]["tool_calls"] == [{"id": "c1", "type": "function",
                                   "function": {"name": "weather", "arguments": {"city": "北京"}}}]
    assert m[2] == {"role": "tool", "content": "晴", "tool_call_id": "c1"}
    with pytest.raises(RenderLimit):
        compile_template("{{ 'x' * 100 }}", Limits(max_chars=10)).render({})
