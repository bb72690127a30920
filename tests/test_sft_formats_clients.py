"""gristmill's fine-tuning outputs read by the tools people train with, through their own code, on the shared
instruction sets: LLaMA-Factory's dataset converters (``llamafactory.data.converter``, its real module, fed by
its own ``dataset_info.json`` parser) read each output exactly as they read the original file; TRL's dataset
utilities (``trl.data_utils``) read the ``openai``, ``preference`` and ``kto`` outputs as the original
conversations, and TRL's own unpairing of the preference output gives the KTO output."""

from __future__ import annotations

import gzip
import importlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import types
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gristmill.cli import app
from tests.conftest import read_jsonl, shared

datasets = pytest.importorskip("datasets", reason="LLaMA-Factory and TRL load files with datasets (test extra)")
# datasets fingerprints LLaMA-Factory's converter with dill, which cannot pickle its Role enum (harmless)
pytestmark = pytest.mark.filterwarnings("ignore:Cannot (locate reference|pickle)")

# The demo files' own entries in LLaMA-Factory's data/dataset_info.json: how it reads the originals.
ORIGINAL_INFO = {
    "alpaca_en_demo.jsonl": {},
    "alpaca_zh_demo.jsonl": {},
    "fastchat_dummy_conversation.jsonl": {"formatting": "sharegpt", "columns": {"messages": "conversations"}},
    "glaive_toolcall_en_demo.jsonl": {"formatting": "sharegpt", "columns": {"messages": "conversations",
                                                                             "tools": "tools"}},
    "dpo_en_demo.jsonl": {"formatting": "sharegpt", "ranking": True,
                          "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected"}},
}


@pytest.fixture(scope="module")
def lf():
    """LLaMA-Factory's data modules. ``llamafactory/data/__init__.py`` imports the whole training stack
    (torchaudio, multimodal plugins, peft models); the converters, the dataset_info parser and the formatters
    need only ``llamafactory.extras`` and ``datasets``, so they are imported without running that __init__."""
    spec = importlib.util.find_spec("llamafactory")
    if spec is None:
        pytest.skip("llamafactory is not installed: `pip install --no-deps llamafactory==0.9.5` (its pins, "
                    "transformers<=5.6, trl<=0.24 and datasets<=4.0, conflict with the test extra)")
    placeholder = "llamafactory.data" not in sys.modules
    if placeholder:
        pkg = types.ModuleType("llamafactory.data")
        pkg.__path__ = [os.path.join(os.path.dirname(spec.origin), "data")]
        sys.modules["llamafactory.data"] = pkg
    try:
        mods = {n: importlib.import_module(f"llamafactory.data.{n}") for n in ("converter", "parser", "formatter")}
    except ImportError as e:
        pytest.skip(f"LLaMA-Factory's converters do not import here: {e}")
    finally:
        if placeholder:
            sys.modules.pop("llamafactory.data", None)
    return types.SimpleNamespace(**mods, version=importlib.metadata.version("llamafactory"))


def _copy_original(name: str, folder) -> str:
    """The shared file as LLaMA-Factory would get it (decompressed), and its dataset_info entry."""
    src = shared(f"instruct/{name}" + (".gz" if name.startswith("dpo") else ""))
    with (gzip.open if str(src).endswith(".gz") else open)(src, "rb") as f, open(folder / name, "wb") as g:
        shutil.copyfileobj(f, g)
    info = folder / "dataset_info.json"
    cur = json.loads(info.read_text()) if info.exists() else {}
    cur["original"] = {"file_name": name, **ORIGINAL_INFO[name]}
    info.write_text(json.dumps(cur))
    return "original"


def _convert(folder, name: str, fmt: str) -> list[dict]:
    """``gristmill sft convert``, adding the output to dataset_info.json for the formats LLaMA-Factory reads."""
    out = folder / f"{fmt}.jsonl"
    info = [] if fmt in ("kto", "preference") else ["--dataset-info", f"gm_{fmt}"]
    r = CliRunner().invoke(app, ["sft", "convert", str(folder / name), "-o", str(out), "--to", fmt, *info])
    assert r.exit_code == 0, r.output
    return read_jsonl(out)


def lf_read(lf, folder, name: str) -> list[dict]:
    """What LLaMA-Factory's loader does with a local file: its dataset_info parser, datasets' json builder,
    then ``align_dataset`` (the converter for the entry's formatting)."""
    attr = lf.parser.get_dataset_list([name], str(folder))[0]
    ds = datasets.load_dataset("json", data_files=str(folder / attr.dataset_name), split="train",
                               cache_dir=str(folder / ".hf"))
    data_args = types.SimpleNamespace(streaming=False, preprocessing_num_workers=None, overwrite_cache=True,
                                      media_dir=str(folder))
    return list(lf.converter.align_dataset(ds, attr, data_args, types.SimpleNamespace(local_process_index=0)))


def lf_view(lf, row: dict, openai: bool = False) -> dict:
    """A converted row as LLaMA-Factory's templates will use it: tool calls and tool lists through its own
    formatters (so equal calls compare equal however they were spelled)."""
    call = lf.formatter.FunctionFormatter(slots=["{{content}}"], tool_format="qwen")

    def msg(m):
        return m["role"], "".join(call.apply(content=m["content"])) if m["role"] == "function" else m["content"]
    tools = "".join(lf.formatter.ToolFormatter(tool_format="qwen").apply(content=row["_tools"])) \
        if row["_tools"] else ""
    system = row["_system"] or ""
    if openai:  # the openai converter itself appends a "detailed thinking off" line to every system prompt
        system = system.removesuffix("detailed thinking off").rstrip("\n")
    return {"prompt": [msg(m) for m in row["_prompt"]], "response": [msg(m) for m in row["_response"]],
            "system": system, "tools": tools}


@pytest.mark.parametrize("name,fmt", [
    ("alpaca_en_demo.jsonl", "alpaca"), ("alpaca_zh_demo.jsonl", "openai"),
    ("fastchat_dummy_conversation.jsonl", "sharegpt"), ("fastchat_dummy_conversation.jsonl", "openai"),
    ("glaive_toolcall_en_demo.jsonl", "sharegpt"), ("glaive_toolcall_en_demo.jsonl", "openai"),
    ("dpo_en_demo.jsonl", "sharegpt_pref"),
])
def test_llamafactory_reads_each_output_as_the_original(lf, tmp_path, name, fmt):
    original = _copy_original(name, tmp_path)
    recs = _convert(tmp_path, name, fmt)
    assert not (tmp_path / f"{fmt}.jsonl.quarantine.jsonl").exists()
    want = [lf_view(lf, r) for r in lf_read(lf, tmp_path, original)]
    got = [lf_view(lf, r, openai=fmt == "openai") for r in lf_read(lf, tmp_path, f"gm_{fmt}")]
    assert len(got) == len(want) == len(recs)
    skipped = [i for i, g in enumerate(want) if not g["prompt"]]
    assert len(skipped) < len(want) // 10  # LLaMA-Factory's own reading of the demo file drops few, if any
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, (name, fmt, i)
    if name.startswith("glaive"):
        calls = [m for g in got for m in g["prompt"] + g["response"] if m[0] == "function"]
        assert len(calls) > 100 and all('"arguments": {' in c for _, c in calls)  # objects, not JSON text


def test_llamafactory_reads_kto_output_with_its_kto_tag(lf, tmp_path):
    """A preference pair becomes two KTO records; LLaMA-Factory's sharegpt converter reads each as a KTO
    example (a bool ``kto_tag``: the answer before or after an empty one) and its feedback processor keeps
    them all (it drops ``len(_prompt) % 2 != 1 or len(_response) < 2``: data/processor/feedback.py)."""
    original = _copy_original("dpo_en_demo.jsonl", tmp_path)
    recs = _convert(tmp_path, "dpo_en_demo.jsonl", "sharegpt_kto")
    assert len(recs) == 600 and Counter(r["kto_tag"] for r in recs) == {True: 300, False: 300}
    pairs = lf_read(lf, tmp_path, original)
    got = lf_read(lf, tmp_path, "gm_sharegpt_kto")
    kept = [r for r in got if len(r["_prompt"]) % 2 == 1 and len(r["_response"]) >= 2]
    assert len(kept) == sum(1 for p in pairs if p["_prompt"]) * 2 == 600
    for k, pair in enumerate(pairs):
        good, bad = got[2 * k], got[2 * k + 1]
        chosen, rejected = pair["_response"]
        assert good["_prompt"] == bad["_prompt"] == pair["_prompt"]
        assert good["_response"] == [chosen, {"role": "assistant", "content": ""}]
        assert bad["_response"] == [{"role": "assistant", "content": ""}, rejected]


def test_convert_names_formats_llamafactory_cannot_read(tmp_path):
    _copy_original("dpo_en_demo.jsonl", tmp_path)
    r = CliRunner().invoke(app, ["sft", "convert", str(tmp_path / "dpo_en_demo.jsonl"), "-o",
                                 str(tmp_path / "k.jsonl"), "--to", "kto", "--dataset-info", "k"])
    assert r.exit_code != 0 and "sharegpt_kto" in str(r.exception.hint)
    assert not (tmp_path / "k.jsonl").exists()


# -- TRL -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trl_tok():
    """A fast tokenizer with Qwen2.5's chat template (TRL ships it), as TRL's trainers use one."""
    trl = pytest.importorskip("trl", reason="TRL's dataset utilities are the client under test (test extra)")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = [json.dumps(r, ensure_ascii=False) for r in read_jsonl(shared("instruct/alpaca_zh_demo.jsonl"))[:200]]
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer, tk.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    tk.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=800, special_tokens=["<|im_end|>"],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    src = Path(trl.__file__).parent.joinpath("chat_templates", "qwen2_5.jinja").read_text(encoding="utf-8")
    return PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", chat_template=src)


def _load(path) -> list[dict]:
    return list(datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(path) + ".hf"))


@pytest.mark.parametrize("name", ["glaive_toolcall_en_demo.jsonl", "fastchat_dummy_conversation.jsonl",
                                  "alpaca_zh_demo.jsonl"])
def test_trl_reads_openai_output_as_the_original_conversation(tmp_path, trl_tok, name):
    from trl.data_utils import is_conversational, maybe_apply_chat_template

    from tests.test_chat_templates import reference

    originals = read_jsonl(shared(f"instruct/{name}"))[:120]
    (tmp_path / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in originals))
    _convert(tmp_path, name, "openai")
    rows = _load(tmp_path / "openai.jsonl")  # as TRL's trainers get them: through datasets
    assert len(rows) == len(originals)
    for row, orig in zip(rows, originals, strict=True):
        assert is_conversational(row)
        tools = json.loads(row["tools"]) if isinstance(row.get("tools"), str) else row.get("tools")  # as SFTTrainer
        got = maybe_apply_chat_template({"messages": row["messages"]}, trl_tok, tools=tools)["text"]
        msgs, ref_tools = reference(orig)
        assert got == trl_tok.apply_chat_template(msgs, tools=ref_tools, tokenize=False), orig["id"]


def test_trl_reads_kto_and_preference_outputs_and_unpairs_into_gristmills_kto(tmp_path, trl_tok):
    from trl.data_utils import is_conversational, maybe_apply_chat_template, unpair_preference_dataset

    from gristmill.sft.chat import Template, render
    from gristmill.sft.formats import parse

    _copy_original("dpo_en_demo.jsonl", tmp_path)
    originals = read_jsonl(tmp_path / "dpo_en_demo.jsonl")
    _convert(tmp_path, "dpo_en_demo.jsonl", "kto")
    _convert(tmp_path, "dpo_en_demo.jsonl", "preference")
    kto, pref = _load(tmp_path / "kto.jsonl"), _load(tmp_path / "preference.jsonl")
    assert len(kto) == 600 and len(pref) == 300
    (tmp_path / "chat_template.jinja").write_text(trl_tok.chat_template, encoding="utf-8")
    ours = Template(str(tmp_path / "chat_template.jinja"))  # the same template, rendered by gristmill
    for k, orig in enumerate(originals[:60]):
        s = parse(orig)
        for row, answer, label in ((kto[2 * k], orig["chosen"], True), (kto[2 * k + 1], orig["rejected"], False)):
            assert is_conversational(row) and row["label"] is label
            out = maybe_apply_chat_template({x: row[x] for x in ("prompt", "completion", "label")}, trl_tok)
            s.chosen = parse({"conversations": orig["conversations"] + [answer]}).messages[-1:]
            assert out["prompt"] + out["completion"] == render(s, ours).text and out["label"] is label
        p = maybe_apply_chat_template({x: pref[k][x] for x in ("prompt", "chosen", "rejected")}, trl_tok)
        s = parse(orig)
        assert p["prompt"] + p["chosen"] == render(s, ours).text
    unpaired = unpair_preference_dataset(datasets.Dataset.from_list(
        [{x: r[x] for x in ("prompt", "chosen", "rejected")} for r in pref]))

    def key(r):
        return json.dumps([r["prompt"], r["completion"], r["label"]], sort_keys=True, ensure_ascii=False)
    assert sorted(map(key, unpaired)) == sorted(key({x: r[x] for x in ("prompt", "completion", "label")})
                                                for r in kto)


def test_kto_layouts_convert_into_each_other_without_loss():
    """TRL's KTO layout and LLaMA-Factory's (``kto_tag``) hold the same records, tools included."""
    from gristmill.sft.formats import detect, parse, to_kto, write

    glaive = next(r for r in read_jsonl(shared("instruct/glaive_toolcall_en_demo.jsonl"))
                  if "function_call" in json.dumps(r) and r["tools"] != "[]")
    pairs = read_jsonl(shared("instruct/dpo_en_demo.jsonl.gz"))[:50]
    samples = [k for p in pairs for k in to_kto(parse(p))]
    g = parse(glaive)
    samples.append(type(g)("kto", g.messages, label=False, tools=g.tools, meta=g.meta))
    for s in samples:
        trl_rec = write(s, "kto")
        lf_rec = write(parse(trl_rec), "sharegpt_kto")
        assert detect(trl_rec) == "kto" and detect(lf_rec) == "sharegpt_kto"
        back = write(parse(lf_rec), "kto")  # (ShareGPT has no call ids: the same ones are generated again)
        assert back == trl_rec and write(parse(back), "sharegpt_kto") == lf_rec
        assert lf_rec["kto_tag"] is s.label and trl_rec["label"] is s.label
    assert json.loads(lf_rec["tools"]) == g.tools and trl_rec["tools"][0]["function"] == g.tools[0]
