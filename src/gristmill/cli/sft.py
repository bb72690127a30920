"""Commands for fine-tuning data: ``sft detect|convert|render|select``, ``synth``, ``serve``.

Filtering fine-tuning data is a recipe with ``input: {sft: auto}`` (see docs/sft.md): invalid records are
quarantined with the exact problem, and the ``sft_signals``, ``filter`` (preset ``sft``), ``exact_dedup``,
``rouge_dedup``, ``minhash_dedup`` and ``decontaminate`` steps apply.
"""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from typing import Annotated

import typer

from gristmill.cli.app import app, out
from gristmill.errors import GristmillError

sft_app = typer.Typer(help="Fine-tuning data: detect and validate formats, convert, render with chat templates, "
                           "select.", no_args_is_help=True)
app.add_typer(sft_app, name="sft")


def _checked(rec, err: str | None):
    """The parsed, validated sample of one input record, or FormatError naming the first problems."""
    from gristmill.sft.formats import FormatError, parse
    from gristmill.sft.validate import problems

    if err:
        raise FormatError("", err)
    s = parse(rec)
    bad = problems(s)
    if bad:
        raise FormatError("", "; ".join(bad[:3]))
    return s


def _records(path: str):
    if not os.path.exists(path):
        raise GristmillError(f"no such file: {path}")
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line), None
            except json.JSONDecodeError as e:
                yield n, None, f"invalid JSON: {e}"


def _samples(path: str) -> list[tuple[dict, object]]:
    """(record, Sample) for every record of a file; the first unreadable or invalid one stops with its line."""
    from gristmill.sft.formats import FormatError, parse
    from gristmill.sft.validate import problems

    out = []
    for line, rec, err in _records(path):
        try:
            if err:
                raise FormatError("", err)
            s = parse(rec)
            bad = problems(s)
            if bad:
                raise FormatError("", bad[0])
        except FormatError as e:
            raise GristmillError(f"{path}:{line}: {e}", hint=f"gristmill sft detect {path} lists every problem; "
                                 f"gristmill sft convert quarantines invalid records") from None
        out.append((rec, s))
    return out


def _write(path: str, rows) -> int:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    k = 0
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            k += 1
    return k


@sft_app.command("detect")
def sft_detect(files: Annotated[list[str], typer.Argument(help="JSONL files (.gz too)")]) -> None:
    """Report each file's format(s) and every validation problem, by kind, with examples."""
    from gristmill.sft.formats import FormatError, detect, parse
    from gristmill.sft.validate import problems

    invalid = 0
    for path in files:
        fmts, probs, examples, n = Counter(), Counter(), {}, 0
        for line, rec, err in _records(path):
            n += 1
            try:
                if err:
                    raise FormatError("", err)
                fmt = detect(rec)
                fmts[fmt] += 1
                bad = problems(parse(rec, fmt))
            except FormatError as e:
                bad = [str(e)]
            for b in bad:
                kind = b.split(": ", 1)[-1][:60]
                probs[kind] += 1
                examples.setdefault(kind, f"line {line}: {b}")
        out.print(f"{path}: {n:,} records; formats: " + (", ".join(f"{k} {v:,}" for k, v in fmts.most_common())
                                                        or "none"), highlight=False)
        for kind, c in probs.most_common(10):
            out.print(f"  {c:,} × {examples[kind]}", highlight=False, markup=False)
        if not probs:
            out.print("  every record is valid", highlight=False)
        invalid += sum(probs.values())
    if invalid:  # exit code 3: the input has problems (gristmill.cli.EXIT_INPUT_PROBLEMS)
        raise typer.Exit(3)


@sft_app.command("convert")
def sft_convert(
    input: Annotated[str, typer.Argument(help="JSONL file in any supported format")],
    output: Annotated[str, typer.Option("--output", "-o", help="JSONL to write")],
    to: Annotated[str, typer.Option("--to", help="alpaca, sharegpt, openai, preference, sharegpt_pref, kto "
                                                 "(TRL), sharegpt_kto (LLaMA-Factory)")],
    arguments: Annotated[str, typer.Option(help="tool-call arguments as JSON object (chat templates, TRL, "
                                                "LLaMA-Factory) or string (OpenAI's API)")] = "object",
    dataset_info: Annotated[str | None, typer.Option(help="also add this name to dataset_info.json beside the "
                                                          "output, for LLaMA-Factory")] = None,
) -> None:
    """Convert between formats without loss; records a format cannot hold go to OUTPUT.quarantine.jsonl with why."""
    from gristmill.sft.formats import FORMATS, KIND, FormatError, to_kto, write

    if to not in FORMATS:
        raise GristmillError(f"unknown format {to!r}", hint=", ".join(FORMATS))
    if arguments not in ("object", "string"):
        raise GristmillError(f"--arguments must be object or string, not {arguments!r}")
    if dataset_info:
        from gristmill.sft.dataset_info import entry

        entry(to, os.path.basename(output), set())  # a format LLaMA-Factory cannot read fails before converting
    good, bad = [], []
    for line, rec, err in _records(input):
        try:
            s = _checked(rec, err)
            split = KIND[to] == "kto" and s.kind == "preference"
            good += [write(x, to, arguments=arguments) for x in (to_kto(s) if split else [s])]
        except FormatError as e:
            bad.append({"source": input, "line": line, "error": str(e), "record": rec})
    _write(output, good)
    if dataset_info:
        from gristmill.sft.dataset_info import add_to, entry

        info = os.path.join(os.path.dirname(os.path.abspath(output)), "dataset_info.json")
        add_to(info, dataset_info, entry(to, os.path.basename(output), {k for r in good for k in r}))
    qpath = output + ".quarantine.jsonl"
    if bad:
        _write(qpath, bad)
    elif os.path.exists(qpath):
        os.remove(qpath)
    out.print(f"{len(good):,} records written to {output}" + (f"; {len(bad):,} quarantined in {qpath} "
              f"(first: line {bad[0]['line']}: {bad[0]['error']})" if bad else ""), highlight=False, markup=False)


def _variables(items: list[str]) -> dict:
    out = {}
    for it in items:
        key, eq, value = it.partition("=")
        if not eq or not key.isidentifier():
            raise GristmillError(f"--var {it!r}: expected NAME=VALUE", hint="e.g. --var enable_thinking=false")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


@sft_app.command("render")
def sft_render(
    input: Annotated[str, typer.Argument(help="JSONL fine-tuning records")],
    output: Annotated[str, typer.Option("--output", "-o")],
    template: Annotated[str | None, typer.Option(help="tokenizer_config.json, chat_template.jinja or a model "
                                                 "folder with a Jinja chat template; default ChatML")] = None,
    backend: Annotated[str, typer.Option(help="auto (transformers when installed), transformers or builtin")] = "auto",
    var: Annotated[list[str] | None, typer.Option("--var", help="template variable NAME=VALUE (JSON or text), "
                                                  "repeatable: bos_token, enable_thinking, date_string …")] = None,
    mask: Annotated[str, typer.Option(help="loss on: all (assistant turns), last, weights (per message)")] = "all",
    tokenizer: Annotated[str | None, typer.Option("--tokenizer", "-t", help="also write token ids and weights")] = None,
    time_limit: Annotated[float, typer.Option(help="seconds a record may take to render")] = 10.0,
    max_chars: Annotated[int, typer.Option(help="longest rendered text (characters)")] = 4_000_000,
    max_memory_mb: Annotated[int, typer.Option(help="memory the renderer process may add")] = 2048,
) -> None:
    """Render records with a chat template: text, the character spans (and token weights) the loss uses, and the
    record's id. A record that is invalid, that the template rejects or that runs past a limit goes to
    OUTPUT.quarantine.jsonl with its line and the reason; the rest render."""
    from gristmill.sft.chat import Template, token_mask
    from gristmill.sft.formats import FormatError
    from gristmill.sft.jinja_env import Limits, TemplateRejected
    from gristmill.sft.render_worker import IsolatedRenderer

    if mask not in ("all", "last", "weights"):
        raise GristmillError(f"unknown loss mask mode {mask!r}", hint="all, last or weights")
    if time_limit <= 0 or max_chars <= 0 or max_memory_mb <= 0:
        raise GristmillError("--time-limit, --max-chars and --max-memory-mb must be positive")
    limits = Limits(time_limit, max_chars)
    args = (template, backend, _variables(var or []), limits)
    Template(*args)  # a bad path or template fails here, before any worker starts
    tok = None
    if tokenizer:
        from gristmill.tokenize.tokenizer import load_tokenizer

        tok = load_tokenizer(tokenizer)
    qpath = output + ".quarantine.jsonl"
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    n = q = 0
    first = ""
    with IsolatedRenderer(args, mask, max_memory_mb) as renderer, open(output, "w", encoding="utf-8") as f, \
            open(qpath, "w", encoding="utf-8") as fq:
        for line, rec, err in _records(input):
            try:
                r = renderer.render(_checked(rec, err))
            except (FormatError, TemplateRejected) as e:
                why = f"{'invalid record' if isinstance(e, FormatError) else 'chat template'}: {e}"
                fq.write(json.dumps({"source": input, "line": line, "error": why, "record": rec},
                                    ensure_ascii=False) + "\n")
                q += 1
                first = first or f"line {line}: {why}"
                continue
            row = {"id": rec["id"]} if "id" in rec else {}
            row.update(text=r.text, loss_spans=[[a, b, w] for a, b, w in r.spans])
            if tok is not None:
                row["input_ids"], row["loss_weights"] = token_mask(r, tok)
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
        used = renderer.backend
    if not q:
        os.remove(qpath)
    out.print(f"{n:,} rendered records in {output} ({used} renderer)" + (f"; {q:,} quarantined in {qpath} "
              f"(first: {first})" if q else ""), highlight=False, markup=False)


@sft_app.command("select")
def sft_select(
    input: Annotated[str, typer.Argument(help="JSONL fine-tuning records")],
    output: Annotated[str, typer.Option("--output", "-o")],
    n: Annotated[int, typer.Option("-n", help="how many to keep")],
    method: Annotated[str, typer.Option(help="kcenter, ifd or ifd+kcenter")] = "kcenter",
    model: Annotated[str | None, typer.Option(help="model folder for IFD / embeddings")] = None,
    max_ifd: Annotated[float, typer.Option(help="drop samples whose IFD is above this")] = 1.0,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Pick N samples: the most informative (IFD with a local causal LM) and/or the most diverse (k-center)."""
    from gristmill.sft.select import select

    pairs = _samples(input)
    recs = [r for r, _ in pairs]
    idx, info = select([s for _, s in pairs], n, method=method, model=model, max_ifd=max_ifd, seed=seed)
    rows = []
    for i in idx:
        r = dict(recs[i])
        if "ifd" in info:
            r["sft_ifd"] = round(info["ifd"][i], 5)
        rows.append(r)
    out.print(f"{_write(output, rows):,} of {len(recs):,} records selected ({method}) into {output}", highlight=False)


@app.command()
def synth(
    method: Annotated[str, typer.Argument(help="self-instruct or evol-instruct")],
    seeds: Annotated[str, typer.Option("--seeds", "-s", help="seed instructions (JSONL: Alpaca, ShareGPT, OpenAI)")],
    output: Annotated[str, typer.Option("--output", "-o", help="folder: records.jsonl, state.json, cache.sqlite")],
    model: Annotated[str, typer.Option(help="model name sent to the endpoint")] = "default",
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL (or OPENAI_BASE_URL)")] = None,
    n: Annotated[int, typer.Option("-n", help="self-instruct: records to generate")] = 100,
    generations: Annotated[int, typer.Option(help="evol-instruct: rounds of evolution")] = 1,
    lang: Annotated[str, typer.Option(help="prompt set: en or zh")] = "en",
    seed: Annotated[int, typer.Option()] = 0,
    concurrency: Annotated[int, typer.Option(help="requests in flight at most")] = 8,
    max_tokens: Annotated[int, typer.Option()] = 512,
    temperature: Annotated[float, typer.Option()] = 1.0,
    batch: Annotated[int, typer.Option(help="self-instruct rounds per batch")] = 4,
    price_in: Annotated[float, typer.Option(help="cost per million prompt tokens")] = 0.0,
    price_out: Annotated[float, typer.Option(help="cost per million completion tokens")] = 0.0,
) -> None:
    """Generate instruction data (Self-Instruct, Evol-Instruct) through an OpenAI-compatible endpoint; resumable."""
    from gristmill.sft.synth import synthesize

    seed_recs = [rec for _, rec, err in _records(seeds) if not err]
    r = synthesize(method, seed_recs, output, model=model, base_url=base_url, n=n, generations=generations,
                   lang=lang, seed=seed, concurrency=concurrency, max_tokens=max_tokens, temperature=temperature,
                   batch=batch, price_in=price_in, price_out=price_out)
    u = r["usage"]
    out.print(f"{r['records']:,} records in {r['output']} ({r['batches']} batches); {u['requests']:,} requests, "
              f"{u['cache_hits']:,} from cache, {u['retries']:,} retries; tokens {u['prompt_tokens']:,} in + "
              f"{u['completion_tokens']:,} out, cost {u['cost']:.4f}", highlight=False)


@app.command()
def serve(
    model: Annotated[str, typer.Argument(help="gristmill train folder, or a Hugging Face causal-LM folder")],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    api_key: Annotated[str | None, typer.Option(help="require this bearer key")] = None,
    max_body_bytes: Annotated[int, typer.Option(min=1, help="larger request bodies get 413")] = 4 * 2**20,
    read_timeout: Annotated[float, typer.Option(min=0.1, help="seconds to receive a request")] = 30.0,
    max_tokens: Annotated[int, typer.Option(min=1, help="cap on max_tokens / max_completion_tokens")] = 1024,
    max_n: Annotated[int, typer.Option(min=1, help="cap on n")] = 8,
    max_queue: Annotated[int, typer.Option(min=0, help="requests waiting for the model; more get 429")] = 16,
    generation_seconds: Annotated[float, typer.Option(min=0.1, help="time limit of one completion")] = 300.0,
) -> None:
    """An OpenAI-compatible chat-completions server over a local model (offline synthesis and evaluation)."""
    from gristmill.sft.serve import Limits, make_server

    limits = Limits(max_body_bytes=max_body_bytes, read_timeout=read_timeout, max_tokens=max_tokens, max_n=max_n,
                    max_queue=max_queue, generation_seconds=generation_seconds)
    srv = make_server(model, host, port, api_key=api_key, limits=limits)
    out.print(f"serving {model} on http://{host}:{srv.server_address[1]}/v1 (Ctrl-C to stop)", highlight=False)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
