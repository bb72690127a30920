"""Model-based quality labels: ``annotate`` (an LLM judge behind any OpenAI-compatible endpoint scores a
deterministic, stratified sample) and ``keep-top`` (per-language cut-offs that keep the top share by a score).
Training a scorer from the labels is ``gristmill train-classifier --scores``. See docs/quality.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gristmill.cli.app import app, out


@app.command()
def annotate(
    input: Annotated[list[str], typer.Argument(help="input files, folders or globs (any format gristmill reads)")],
    output: Annotated[str, typer.Option("--output", "-o", help="folder: records.jsonl, state.json, cache.sqlite, "
                                                               "failed.jsonl")],
    n: Annotated[int, typer.Option("-n", min=1, help="documents to annotate (the sample's size)")] = 1000,
    prompt: Annotated[str, typer.Option(help="edu (educational value 0-5), quality (quality and coherence "
                                             "0-5), or a prompt file with {text} and {lang}")] = "edu",
    scale: Annotated[str, typer.Option(help="a prompt file's scale, LOW-HIGH")] = "0-5",
    model: Annotated[str, typer.Option(help="model name sent to the endpoint")] = "default",
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL (or OPENAI_BASE_URL)")] = None,
    seed: Annotated[int, typer.Option(help="the sample's hash seed")] = 0,
    allocation: Annotated[str, typer.Option(help="equal (per language, then per source) or proportional")] = "equal",
    max_chars: Annotated[int, typer.Option(min=1, help="documents are cut to this many characters")] = 6000,
    max_tokens: Annotated[int, typer.Option(min=1, help="longest reply (tokens)")] = 256,
    concurrency: Annotated[int, typer.Option(min=1, help="requests in flight at most")] = 8,
    max_failures: Annotated[int, typer.Option(min=1, help="stop after this many failed requests")] = 20,
    text_field: Annotated[str, typer.Option(help="text field of the inputs")] = "text",
    price_in: Annotated[float, typer.Option(help="cost per million prompt tokens")] = 0.0,
    price_out: Annotated[float, typer.Option(help="cost per million completion tokens")] = 0.0,
) -> None:
    """Score a stratified sample of documents with an LLM judge; resumable (rerun the same command)."""
    from gristmill.annotate.parse import scale_of
    from gristmill.annotate.prompts import BUILTIN, from_file
    from gristmill.annotate.run import annotate as run
    from gristmill.annotate.sample import read_documents, stratified

    p = prompt if (prompt, "en") in BUILTIN else from_file(prompt, scale_of(scale))
    docs, bad, skipped = read_documents(input, text_field=text_field)
    sample = stratified(docs, n, seed=seed, allocation=allocation)
    r = run(sample, output, model=model, prompt=p, base_url=base_url, concurrency=concurrency,
            max_chars=max_chars, max_tokens=max_tokens, price_in=price_in, price_out=price_out,
            max_failures=max_failures)
    t = Table(title=f"annotations in {r['output']}", title_justify="left")
    for c in ("lang", "documents", "scored", "no score", "truncated", "scores"):
        t.add_column(c, justify="left" if c in ("lang", "scores") else "right")
    for lang, g in r["languages"].items():
        t.add_row(lang, f"{g['documents']:,}", f"{g['scored']:,}", f"{g['unparsed']:,}", f"{g['truncated']:,}",
                  " ".join(f"{k}:{v}" for k, v in g["scores"].items()))
    out.print(t)
    u, tot = r["usage"], r["usage_total"]
    out.print(f"sample of {len(sample):,} from {len(docs):,} documents ({bad:,} unreadable records, {skipped:,} "
              "with a repeated id or no text); "
              f"{r['skipped_done']:,} annotated before; this run: {u['requests']:,} requests, {u['cache_hits']:,} "
              f"from cache, {u['retries']:,} retries, tokens {u['prompt_tokens']:,} in + {u['completion_tokens']:,} "
              f"out, cost {u['cost']:.4f}; all runs: cost {tot['cost']:.4f}"
              + (f"; {r['failed']:,} failed (sent again by a rerun): {r['failed_path']}" if r["failed"] else ""),
              highlight=False)


@app.command("keep-top")
def keep_top(
    sidecar: Annotated[str, typer.Argument(help="sidecar folder written by gristmill signals")],
    column: Annotated[str, typer.Option(help="score column")] = "quality_score",
    share: Annotated[float, typer.Option(min=0.0, max=1.0, help="share of each language's documents to keep")] = 0.3,
    by: Annotated[str, typer.Option(help="group column")] = "lang",
    rules_out: Annotated[Path | None, typer.Option("--rules", help="write the filter rules as YAML (a "
                                                   "filter step's rules: mapping)")] = None,
    recipe: Annotated[Path | None, typer.Option(help="a recipe with a filter step named STEP: write a copy "
                                                     "with these rules to --recipe-out")] = None,
    recipe_out: Annotated[Path | None, typer.Option(help="where to write that recipe")] = None,
    step: Annotated[str, typer.Option(help="the name of the recipe's filter step to fill")] = "classifier_top",
) -> None:
    """Per-language thresholds that keep the top SHARE of documents by a score, as filter rules (and a recipe
    that applies them)."""
    from gristmill.annotate.threshold import rules, top_share, with_rules
    from gristmill.errors import GristmillError
    from gristmill.select.calibrate import load

    if (recipe is None) != (recipe_out is None):
        raise GristmillError("--recipe and --recipe-out go together")

    cuts = top_share(load(sidecar), column, share, by)
    t = Table(title=f"top {share:.0%} by {column}", title_justify="left")
    for c in (by, "documents", "threshold", "kept"):
        t.add_column(c, justify="left" if c == by else "right")
    for g, c in cuts.items():
        t.add_row(g, f"{c['documents']:,}", f"{c['threshold']:.6g}", f"{c['kept']:,}")
    out.print(t)
    r = rules(cuts, column, by)
    for k, v in r.items():
        out.print(f"  {k}: \"{v}\"", highlight=False, markup=False)
    if recipe and recipe_out:
        recipe_out.write_text(with_rules(recipe, step, r, f"gristmill keep-top {sidecar} --column {column} "
                                                           f"--share {share}"), encoding="utf-8")
        out.print(f"recipe with these rules: {recipe_out}", highlight=False)
    if rules_out:
        rules_out.write_text("# gristmill keep-top " + json.dumps({"column": column, "share": share}) + "\n"
                             + "".join(f"{k}: \"{v}\"\n" for k, v in r.items()))
