"""Commands from data to evidence: ``mix``, ``tokenizer train``, ``tokenize``, ``train``, ``ablate``."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gristmill.cli.app import app, out
from gristmill.errors import GristmillError

tokenizer_app = typer.Typer(help="Tokenizers: train a byte-level BPE on a sample of your data.", no_args_is_help=True)
app.add_typer(tokenizer_app, name="tokenizer")


def _weights(spec: str) -> dict[str, float]:
    try:
        return {k.strip(): float(v) for k, v in (x.split("=") for x in spec.split(",") if x.strip())}
    except ValueError:
        raise GristmillError(f"weights {spec!r} are not NAME=SHARE pairs", hint="--weights en=0.7,zh=0.3") from None


@app.command()
def mix(
    input: Annotated[list[str], typer.Option("--input", "-i", help="data to mix (files, folders, globs)")],
    output: Annotated[str, typer.Option("--output", "-o", help="output folder (a run: kept/, rejected/, manifest)")],
    weights: Annotated[str, typer.Option("--weights", "-W", help="target shares, e.g. en=0.7,zh=0.3")],
    by: Annotated[str, typer.Option(help="field naming the group: lang, source, …; _file for the input file")] = "lang",
    unit: Annotated[str, typer.Option(help="tokens, bytes or docs")] = "bytes",
    tokenizer: Annotated[str | None, typer.Option("--tokenizer", "-t", help="tokenizer.json (unit tokens)")] = None,
    total: Annotated[float | None, typer.Option(help="total amount in the unit (default: the most allowed)")] = None,
    max_epochs: Annotated[float, typer.Option(help="most repetitions of any group")] = 1.0,
    seed: Annotated[int, typer.Option()] = 0,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1)] = None,
) -> None:
    """Mix data to target shares by language or source (tokens, bytes or documents); records the achieved mix."""
    from gristmill.exec.local import run as run_recipe
    from gristmill.recipe import parse_recipe

    step = {"step": "mix", "weights": _weights(weights), "by": by, "unit": unit, "max_epochs": max_epochs,
            "seed": seed}
    if tokenizer:
        step["tokenizer"] = tokenizer
    if total is not None:
        step["total"] = total
    recipe = parse_recipe({"name": "mix", "steps": [step]}, "<gristmill mix>")
    m = run_recipe(recipe, inputs=input, output=output, workers=workers, resume=False, quiet=True)
    info = m["global_steps"]["mix"]
    for g in info["target"]:
        out.print(f"{g}: target {info['weights'][g]:.1%}, achieved {info['shares'].get(g, 0):.2%} "
                  f"({info['achieved'][g]:,.0f} {unit}, {info['epochs'][g]:.2f} epochs)", highlight=False)
    out.print(f"documents in {info['documents_in']:,} → out {info['documents_out']:,} (with repeats); "
              f"{output}/manifest.json global_steps.mix has the details", highlight=False)


@tokenizer_app.command("train")
def tokenizer_train(
    input: Annotated[list[str], typer.Option("--input", "-i", help="text to learn from (files, folders, globs)")],
    output: Annotated[str, typer.Option("--output", "-o", help="folder to write (tokenizer.json + transformers "
                                        "config files), or a .json file path")] = "tokenizer",
    vocab_size: Annotated[int, typer.Option(help="vocabulary size (≤ 65,536 keeps shards uint16)")] = 16000,
    sample_docs: Annotated[int, typer.Option(help="documents sampled (uniformly, by id hash)")] = 100_000,
    model_max_length: Annotated[int, typer.Option(min=1, help="context length transformers truncates to")] = 2048,
    text_field: Annotated[str, typer.Option("--text-field")] = "text",
) -> None:
    """Train a byte-level BPE (lossless for every language; <|endoftext|> is id 0, <|pad|> id 1) on a sample of
    the data; a folder output loads with transformers' AutoTokenizer.from_pretrained."""
    from gristmill.tokenize.folder import save_tokenizer
    from gristmill.tokenize.tokenizer import sample_texts, train_tokenizer

    texts = sample_texts([(list(input), text_field, "id")], sample_docs)
    tok = train_tokenizer(texts, vocab_size=vocab_size)
    files = save_tokenizer(tok, output, model_max_length=model_max_length)
    out.print(f"{files[0]}: {tok.get_vocab_size():,} tokens from {len(texts):,} documents", highlight=False)
    if len(files) > 1:
        out.print(f"transformers: AutoTokenizer.from_pretrained({os.path.dirname(os.path.abspath(files[0]))!r})",
                  highlight=False)
    else:
        out.print("a plain tokenizer.json; for transformers' AutoTokenizer give a folder: -o DIR", highlight=False)


@app.command()
def tokenize(
    input: Annotated[list[str], typer.Option("--input", "-i", help="documents (e.g. a run's kept/)")],
    tokenizer: Annotated[str, typer.Option("--tokenizer", "-t", help="tokenizer.json or a folder holding one")],
    output: Annotated[str, typer.Option("--output", "-o", help="folder for the shards (new, empty or earlier shards)")],
    format: Annotated[str, typer.Option(help="numpy (memmap + index) or megatron (.bin/.idx)")] = "numpy",
    seed: Annotated[int, typer.Option(help="document order")] = 0,
    shard_tokens: Annotated[int, typer.Option(help="tokens per shard at most")] = 1 << 28,
    text_field: Annotated[str, typer.Option("--text-field")] = "text",
) -> None:
    """Pack documents into shuffled token shards (EOS between documents; honours mix_repeats)."""
    from gristmill.tokenize.pack import pack

    m = pack(input, tokenizer, output, fmt=format, seed=seed, shard_tokens=shard_tokens, text_field=text_field)
    out.print(f"{m['documents_out']:,} documents, {m['tokens']:,} tokens ({m['dtype']}) in {len(m['shards'])} "
              f"shard(s) under {output}; per language: "
              + ", ".join(f"{k} {v:,}" for k, v in m["tokens_by"].get("lang", {}).items()), highlight=False)


@app.command()
def train(
    shards: Annotated[str, typer.Argument(help="a gristmill tokenize output folder")],
    output: Annotated[str, typer.Option("--output", "-o", help="model folder to write")] = "model",
    preset: Annotated[str, typer.Option(help="cpu-tiny, cpu-small, gpu-small, gpu-base")] = "cpu-tiny",
    tokens: Annotated[int | None, typer.Option(help="training budget in tokens (default: the preset's)")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    eval: Annotated[list[str] | None, typer.Option("--eval", help="bundled set (en, zh, en-domains, zh-domains) or NAME=PATH (JSONL/Parquet file or folder)")] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda or auto")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="CPU threads (default: the cores not busy now)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress lines (the log is still written)")] = False,
    progress_every: Annotated[float, typer.Option(help="seconds between progress lines when not a terminal")] = 5.0,
) -> None:
    """Train a proxy GPT for a token budget and report bits per byte on the held-out sets.

    Progress (step, tokens/s, loss, ETA) goes to stderr and, as JSON lines, to OUTPUT/train_log.jsonl."""
    from gristmill.train import evalsets
    from gristmill.train.trainer import train as train_model

    spec = None
    if eval:
        spec = {(e.split("=", 1)[0] if "=" in e else e): (e.split("=", 1)[1] if "=" in e else e) for e in eval}
    r = train_model(shards, preset=preset, tokens=tokens, seed=seed, out=output, eval_sets=evalsets.load(spec),
                    device=device, threads=threads, quiet=quiet, progress_every=progress_every)
    out.print(f"{r['params']:,} parameters, {r['tokens_trained']:,} tokens in {r['train_seconds']:.1f} s "
              f"({r['tokens_per_second']:,.0f} tokens/s on {r['device']}, {r['threads']} threads); "
              f"loss {r['loss_first']} → {r['loss_last']}", highlight=False)
    for k, v in r["eval"].items():
        out.print(f"eval {k}: {v['bpb']:.4f} bits per byte ({v['bytes']:,} bytes)", highlight=False)
    out.print(f"model: {output}/ (model.pt, config.json, tokenizer.json, train_log.jsonl); use it in a perplexity step", highlight=False)


@app.command()
def ablate(
    spec: Annotated[str, typer.Argument(help="ablation YAML (see ablations/)")],
    output: Annotated[str | None, typer.Option("--output", "-o", help="results folder (default ablations-out/NAME)")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1)] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="run only these variants")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress lines (logs are still written)")] = False,
    progress_every: Annotated[float, typer.Option(help="seconds between progress lines when not a terminal")] = 5.0,
) -> None:
    """Variants × seeds with the same training budget: a results table (mean ± std bits per byte), noise, plot."""
    from gristmill.ablate.runner import ablate as run_ablation
    from gristmill.ablate.runner import load_spec
    from gristmill.ablate.stats import markdown

    name = load_spec(spec)["name"]
    r = run_ablation(spec, output or os.path.join("ablations-out", name), workers=workers, only=only, quiet=quiet,
                     progress_every=progress_every)
    out.print(markdown(r), highlight=False, markup=False)
    out.print(f"results: {output or os.path.join('ablations-out', name)}/results.{{json,md,html}}; "
              f"{r['seconds']:.0f} s", highlight=False)



