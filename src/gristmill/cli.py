"""The ``gristmill`` command line. Every command has a Python API twin (see ``gristmill/__init__.py``).

Exit codes (docs/recipes.md): 0 success; 1 an unexpected failure (a bug: a traceback); 2 a usage or recipe
error (nothing ran, or the run stopped: one line and a hint); 3 the command finished but the input had
problems (quarantined records, unreadable files, invalid fine-tuning records; ``--allow-input-problems``
gives 0); 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gristmill.errors import GristmillError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="rich",
                  help="gristmill: turn raw text into training data for LLMs (English and Chinese first-class).")
out = Console()
err = Console(stderr=True)
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INPUT_PROBLEMS, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
ALLOW_PROBLEMS = typer.Option("--allow-input-problems", help="exit 0 even when records were quarantined or "
                              "input files had problems (default: exit 3)")


def _finish(manifest: dict, output: str, allow_input_problems: bool = False) -> None:
    """Print the run's summary; exit 3 when records were quarantined or inputs had problems (unless allowed)."""
    from gristmill.recipe_check import rejection_warnings
    from gristmill.report.summary import explain_run, step_table, totals_line

    out.print(step_table(manifest))
    for label, info in manifest.get("global_steps", {}).items():
        if "s_curve" in info:
            curve = ", ".join(f"P({j})={p:.3f}" for j, p in info["s_curve"].items())
            out.print(f"{label}: {info['bands']} bands x {info['rows']} rows; {curve}; "
                      f"{info['candidate_pairs']:,} candidate pairs, {info['verified_pairs']:,} verified, "
                      f"{info['clusters']:,} clusters; {info['state_bytes_per_doc']:,.0f} bytes of state per document",
                      highlight=False)
    out.print(totals_line(manifest))
    for item in explain_run(output) if os.path.isdir(output) else []:
        out.print(item, highlight=False, markup=False)
    problems = manifest.get("input_problems", [])
    if problems:
        out.print(f"input problems: {len(problems)} (first: {problems[0]['path']}: {problems[0]['problem']}); "
                  "see manifest.json", highlight=False, markup=False)
    if os.path.isdir(output):
        made = "report.html" if os.path.exists(os.path.join(output, "report.html")) else None
        out.print(f"outputs in {output}/ (kept/, rejected/, quarantine/, manifest.json"
                  f"{', ' + made if made else ''})", highlight=False)
    for w in rejection_warnings(manifest):
        err.print(f"[yellow]warning[/yellow]: {w}", highlight=False, soft_wrap=True)
    quarantined = manifest.get("counts", {}).get("quarantined", 0)
    if (problems or quarantined) and not allow_input_problems:
        err.print(f"exit code {EXIT_INPUT_PROBLEMS}: {quarantined:,} records quarantined, {len(problems)} input "
                  "problems (--allow-input-problems: exit 0)", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INPUT_PROBLEMS)


@app.command()
def run(
    recipe: Annotated[Path | None, typer.Argument(help="recipe YAML; omit for the default recipe")] = None,
    input: Annotated[list[str] | None, typer.Option("--input", "-i", help="input file, folder or glob "
                                                      "(repeatable); overrides the recipe's input.paths")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="output folder")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, help="processes (default: all cores)")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="continue an interrupted run in the "
                                         "same output folder / start over")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress display")] = False,
    executor: Annotated[str, typer.Option(help="local (process pool) or ray (a Ray cluster; the ray extra)")] = "local",
    address: Annotated[str | None, typer.Option(help="Ray cluster address (ray://… or auto); none: start a local "
                                                "Ray with --workers CPUs")] = None,
    allow_input_problems: Annotated[bool, ALLOW_PROBLEMS] = False,
) -> None:
    """Run a recipe over input data: kept/, rejected/, quarantine/ and manifest.json.

    The recipe is first checked as ``gristmill validate`` checks it (columns against the input's first records)."""
    from gristmill.exec.local import run as run_recipe
    from gristmill.recipe_check import check_recipe

    checked, _ = check_recipe(recipe, inputs=input)
    m = run_recipe(checked, inputs=input, output=output, workers=workers, resume=resume, quiet=quiet,
                   executor=executor, address=address)
    _finish(m, m["output"], allow_input_problems)


@app.command()
def demo(
    output: Annotated[str, typer.Option("--output", "-o", help="output folder")] = "gristmill-demo",
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1)] = None,
) -> None:
    """Run the default recipe on the bundled English + Chinese sample and write a report."""
    from gristmill.demo import describe, sample_paths
    from gristmill.exec.local import run as run_recipe

    out.print(describe(), highlight=False, markup=False)
    m = run_recipe(None, inputs=sample_paths(), output=output, workers=workers, resume=False)
    _finish(m, output)


@app.command()
def report(
    run_dir: Annotated[str, typer.Argument(help="output folder of a finished run")],
    output: Annotated[str | None, typer.Option("--output", "-o", help="write the HTML here instead of "
                                               "RUN_DIR/report.html")] = None,
) -> None:
    """Write a run's self-contained HTML data report from its manifest and profile (not from the corpus)."""
    from gristmill.report import report_for_run

    out.print(f"report: {report_for_run(run_dir, output)}", highlight=False)


@app.command()
def analyze(
    data: Annotated[list[str], typer.Argument(help="files, folders or globs (JSONL, Parquet, text)")],
    output: Annotated[str, typer.Option("--output", "-o", help="folder for report.html and analysis.json")] = "gristmill-analysis",
    text_field: Annotated[str, typer.Option("--text-field", help="field holding the text")] = "text",
    recipe: Annotated[str | None, typer.Option("--recipe", "-r", help="draw this recipe's thresholds on the "
                                               "signal histograms (default: the default recipe's)")] = None,
    signals: Annotated[bool, typer.Option("--signals/--no-signals", help="compute quality signals (the "
                                          "slowest part)")] = True,
    pii: Annotated[bool, typer.Option("--pii/--no-pii", help="count PII by type")] = True,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1)] = None,
) -> None:
    """The same data report for any dataset, without a run: languages, lengths, signals, duplicates, PII, diversity, bias."""
    from gristmill.exec.local import default_workers
    from gristmill.report.analyze import analyze as run_analysis

    a = run_analysis(list(data), output, text_field=text_field, workers=workers or default_workers(),
                     quality=signals, pii=pii, recipe=recipe)
    s = a["summary"]
    out.print(f"{s['docs_in']:,} documents, {s['bytes_in'] / 1e6:,.2f} MB of text, "
              f"{len(a['languages'])} languages; report: {os.path.join(output, 'report.html')}", highlight=False)


@app.command()
def validate(
    recipe: Annotated[Path, typer.Argument(help="recipe YAML (or a bundled name: default, sft)")],
    input: Annotated[list[str] | None, typer.Option("--input", "-i", help="input to check the recipe's column "
                                                      "names against (default: the recipe's input.paths)")] = None,
) -> None:
    """Check a recipe without running it: the schema, and every column a rule names (all problems at once)."""
    from gristmill.recipe_check import check_recipe

    r, sample = check_recipe(recipe, inputs=input)
    out.print(f"[green]ok[/green]: {recipe} ({len(r.steps)} steps: {', '.join(s.label for s in r.steps)})",
              soft_wrap=True)
    out.print(f"columns checked against {sample.where}" if sample else "input fields not checked (no input: "
              "pass --input FILE)", highlight=False, soft_wrap=True)


@app.command()
def steps(name: Annotated[str | None, typer.Argument(help="show one step's parameters")] = None) -> None:
    """List the steps a recipe can use, with every parameter and its default."""
    from gristmill.params import param_docs
    from gristmill.steps import REGISTRY

    names = [name] if name else sorted(REGISTRY)
    for n in names:
        if n not in REGISTRY:
            raise GristmillError(f"unknown step {n!r}", hint="known steps: " + ", ".join(sorted(REGISTRY)))
        cls = REGISTRY[n]
        t = Table(title=f"[bold]{n}[/bold] ({cls.kind}): {cls.summary()}", title_justify="left", expand=False)
        for c in ("parameter", "type", "default", "meaning"):
            t.add_column(c, overflow="fold")
        for row in param_docs(cls.Params):
            t.add_row(*row)
        out.print(t)
        if n == name == "quality":  # the signal columns and what they measure
            from gristmill.steps.quality import signal_docs

            sig = Table(title="signal columns", title_justify="left")
            for c in ("column", "family", "meaning"):
                sig.add_column(c, overflow="fold")
            for row in signal_docs():
                sig.add_row(*row)
            out.print(sig)


@app.command()
def signals(
    recipe: Annotated[Path | None, typer.Argument(help="recipe whose annotating steps compute the signals")] = None,
    input: Annotated[list[str] | None, typer.Option("--input", "-i", help="input file, folder or glob")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="sidecar folder")] = "gristmill-signals",
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1)] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume")] = True,
) -> None:
    """Compute signals only and write a Parquet sidecar keyed by id (no selection)."""
    from gristmill.select.sidecar import write_signals

    m = write_signals(recipe, inputs=input, output=output, workers=workers, resume=resume)
    out.print(f"signals of {m['counts']['kept']:,} documents in {output}/kept/ "
              f"({len(m['files']['kept'])} Parquet files); quarantined {m['counts']['quarantined']:,}")


@app.command()
def select(
    sidecar: Annotated[str, typer.Argument(help="sidecar folder written by gristmill signals")],
    recipe: Annotated[Path | None, typer.Option("--recipe", "-r", help="recipe whose filter steps select")] = None,
    output: Annotated[str, typer.Option("--output", "-o")] = "gristmill-selection",
) -> None:
    """Apply a recipe's filters to an existing sidecar, without recomputing any signal."""
    from gristmill.select.sidecar import select as run_select

    res = run_select(sidecar, recipe, output)
    t = Table(title=f"selection → {output}/", title_justify="left")
    t.add_column("rule")
    t.add_column("rejected", justify="right")
    for k, v in res["reasons"].items():
        t.add_row(k, f"{v:,}")
    out.print(t)
    share = res["kept_bytes"] / res["bytes"] if res["bytes"] else 0
    out.print(f"kept {res['kept']:,} of {res['documents']:,} documents ({share:.1%} of bytes)")


@app.command()
def calibrate(
    sidecar: Annotated[str, typer.Argument(help="sidecar folder written by gristmill signals")],
    threshold: Annotated[list[str] | None, typer.Option("--threshold", "-t", help="a keep-expression to "
                                                          "assess, e.g. 'gq_words >= 50' (repeatable)")] = None,
    signal: Annotated[list[str] | None, typer.Option("--signal", "-s", help="only these signals in the "
                                                       "percentile table")] = None,
    by: Annotated[str, typer.Option(help="group column")] = "lang",
    json_out: Annotated[Path | None, typer.Option("--json", help="write everything as JSON")] = None,
) -> None:
    """Per-language percentiles of every signal, and what a proposed threshold would remove."""
    import json

    from gristmill.select.calibrate import PERCENTILES, load, percentiles, threshold_report

    t = load(sidecar)
    pct = percentiles(t, by)
    reports = [threshold_report(t, th, by=by) for th in threshold or []]
    for g, table in pct.items():
        rows = [(c, ["" if v is None else f"{v:.4g}" for v in vals]) for c, vals in table.items()
                if c != "documents" and (not signal or c in signal)]
        # as many percentile columns as the terminal holds beside whole signal names; the rest in a second table
        name_w = max([len("signal")] + [len(c) for c, _ in rows])
        cell_w = max([4] + [len(x) for _, v in rows for x in v]) + 3
        per = max(1, min(len(PERCENTILES), (out.width - name_w - 4) // cell_w))
        for k in range(0, len(PERCENTILES), per):
            cols = range(k, min(k + per, len(PERCENTILES)))
            tt = Table(title=f"{by} = {g}: {table['documents'][0]:,} documents", title_justify="left")
            tt.add_column("signal", no_wrap=True, min_width=name_w)
            for j in cols:
                tt.add_column(f"p{PERCENTILES[j]}", justify="right", no_wrap=True)
            for c, v in rows:
                tt.add_row(c, *(v[j] for j in cols))
            out.print(tt)
    for r in reports:
        out.print(f"[bold]{r['threshold']}[/bold]")
        for g, v in r["groups"].items():
            out.print(f"  {g}: removes {v['removed_docs']:,} of {v['documents']:,} documents "
                      f"({v['removed_doc_share']:.1%}), {v['removed_byte_share'] or 0:.1%} of bytes")
        for side in ("just_removed", "just_kept"):
            for s in r.get(side, []):
                out.print(f"  {side}: {s['id']} ({[k for k in s if k not in ('id', 'text')][0]}="
                          f"{list(s.values())[1]:.4g}) {s['text'][:120]!r}", highlight=False)
    if json_out:
        json_out.write_text(json.dumps({"percentiles": pct, "thresholds": reports}, ensure_ascii=False, indent=2))


@app.command("train-classifier")
def train_classifier(
    positive: Annotated[list[str], typer.Option("--positive", "-p", help="JSONL/Parquet/text of good examples")],
    negative: Annotated[list[str], typer.Option("--negative", "-n", help="JSONL/Parquet/text of bad examples")],
    model: Annotated[str, typer.Option("--model", "-m", help="where to write the model (.bin)")],
    text_field: Annotated[str, typer.Option(help="text field of the inputs")] = "text",
    test_share: Annotated[float, typer.Option(min=0.0, max=0.9, help="held-out share")] = 0.1,
    epoch: Annotated[int, typer.Option(min=1)] = 10,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train a fastText classifier (offline) from positive and negative sets; report held-out accuracy/AUC."""
    import json

    from gristmill.classify.fasttext_model import train
    from gristmill.io.texts import read_texts

    rep = train(read_texts(positive, text_field), read_texts(negative, text_field), model,
                test_share=test_share, epoch=epoch, seed=seed)
    out.print_json(json.dumps(rep.to_dict()))
    Path(model + ".report.json").write_text(json.dumps(rep.to_dict(), indent=2))


@app.command()
def presets(name: Annotated[str | None, typer.Argument(help="show one preset's rules")] = None) -> None:
    """List the selection presets (gopher, c4, fineweb, zh-web, bilingual …) and their rules."""
    from gristmill.presets import available, describe, load_preset

    for n in [name] if name else available():
        out.print(f"[bold]{n}[/bold]: {describe(n)}")
        if name:
            for k, v in load_preset(n).items():
                out.print(f"  {k}: {v}", highlight=False)


@app.command()
def dedup(
    input: Annotated[list[str] | None, typer.Option("--input", "-i", help="input file, folder or glob")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="output folder")] = "gristmill-dedup",
    method: Annotated[str, typer.Option(help="minhash, exact, lines or substring")] = "minhash",
    threshold: Annotated[float, typer.Option(help="minhash: Jaccard threshold")] = 0.7,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1)] = None,
    explain: Annotated[str | None, typer.Option(help="show the cluster of this document id in --output")] = None,
    allow_input_problems: Annotated[bool, ALLOW_PROBLEMS] = False,
) -> None:
    """Deduplicate a dataset (MinHash near-duplicates by default), or --explain a cluster of a finished run."""
    if explain:
        from gristmill.dedup.explain import cluster_of

        members = cluster_of(output, explain)
        t = Table(title=f"cluster of {explain}: {len(members)} documents", title_justify="left", show_lines=True)
        for c in ("id", "status", "text"):
            t.add_column(c, overflow="fold")
        for r in members:
            status = "kept" if r.get("reason") is None else f"rejected ({r.get('detail')})"
            t.add_row(str(r.get("id")), status, str(r.get("text", ""))[:400])
        out.print(t)
        return
    from gristmill.exec.local import run as run_recipe
    from gristmill.recipe import load_recipe

    step = {"minhash": f"minhash_dedup\n    threshold: {threshold}", "exact": "exact_dedup",
            "lines": "line_dedup", "substring": "substring_dedup"}.get(method)
    if step is None:
        raise GristmillError(f"unknown method {method!r}", hint="minhash, exact, lines or substring")
    m = run_recipe(load_recipe(text=f"name: dedup-{method}\nsteps:\n  - step: {step}\n"), inputs=input,
                   output=output, workers=workers)
    _finish(m, m["output"], allow_input_problems)


decontam_app = typer.Typer(help="Benchmark decontamination: build an n-gram index, scan a corpus with it.",
                           no_args_is_help=True)
app.add_typer(decontam_app, name="decontam")


@decontam_app.command("build")
def decontam_build(
    spec: Annotated[Path, typer.Argument(help="YAML listing benchmarks (name, path, fields), or a benchmark file")],
    output: Annotated[str, typer.Option("--output", "-o", help="index folder")] = "gristmill-decontam-index",
    root: Annotated[Path, typer.Option(help="folder the spec's paths are relative to")] = Path("."),
    field: Annotated[list[str] | None, typer.Option(help="fields to index, for a single benchmark file")] = None,
    n: Annotated[int | None, typer.Option(min=3, help="n-gram length in tokens (default 13)")] = None,
) -> None:
    """Build an n-gram index from benchmark files (JSONL/CSV/Parquet)."""
    import json
    import time

    from gristmill.decontam.index import build_index
    from gristmill.decontam.items import IndexSettings, read_spec

    if spec.suffix in (".yaml", ".yml"):
        sources, settings = read_spec(spec, root, n)
    else:
        sources = [(spec.name.split(".")[0], str(spec), field or ["text"])]
        settings = IndexSettings().with_n(n)
    t0 = time.perf_counter()
    meta = build_index(sources, output, settings=settings)
    meta["seconds"] = round(time.perf_counter() - t0, 2)
    out.print_json(json.dumps(meta))


@decontam_app.command("scan")
def decontam_scan(
    index: Annotated[str, typer.Argument(help="index folder")],
    input: Annotated[list[str], typer.Option("--input", "-i", help="corpus files or folders")],
    output: Annotated[str, typer.Option("--output", "-o")] = "gristmill-decontam-scan",
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1)] = None,
) -> None:
    """Report, per benchmark, how many items a corpus contains (documents are marked, not removed)."""
    from gristmill.decontam.report import scan

    res = scan(index, input, output, workers=workers)
    t = Table(title=f"benchmark items found in {', '.join(input)}", title_justify="left")
    for c in ("benchmark", "items", "found", "share", "documents"):
        t.add_column(c, justify="right" if c != "benchmark" else "left")
    for b, v in res["benchmarks"].items():
        t.add_row(b, f"{v['items']:,}", f"{v['found']:,}", f"{v['found'] / max(v['items'], 1):.1%}", f"{v['documents']:,}")
    out.print(t)


toxicity_app = typer.Typer(help="Toxicity models: train them from labelled files.", no_args_is_help=True)
app.add_typer(toxicity_app, name="toxicity")


@toxicity_app.command("train")
def toxicity_train(
    spec: Annotated[Path, typer.Argument(help="YAML naming one labelled file per language (see "
                                              "recipes/toxicity-shared.yaml)")],
    root: Annotated[Path, typer.Option(help="folder the spec's paths are relative to")] = Path("."),
    output: Annotated[str, typer.Option("--output", "-o", help="folder for the models")] = "models",
) -> None:
    """Train one toxicity model per language (toxicity and hate scores); report held-out ROC AUC."""
    import json

    from gristmill.classify.toxicity import train_from_spec

    out.print_json(json.dumps(train_from_spec(str(spec), str(root), output)))


@app.command()
def version() -> None:
    """Print the gristmill version."""
    from gristmill import __version__

    out.print(__version__)


import gristmill.cli_pii  # noqa: E402,F401  (registers pii explain)
import gristmill.cli_select_target  # noqa: E402,F401  (registers select-target)
import gristmill.cli_sft  # noqa: E402,F401  (registers sft, synth, serve)
import gristmill.cli_spam  # noqa: E402,F401  (registers spam train)
import gristmill.cli_training  # noqa: E402,F401  (registers mix, tokenizer, tokenize, train, ablate)


def main() -> None:
    try:
        rc = app(standalone_mode=False)
    except GristmillError as e:
        from rich.markup import escape

        err.print(f"[bold red]error[/bold red]: {escape(str(e))}", highlight=False, soft_wrap=True)
        if e.hint:  # escaped: "pip install 'gristmill[web]'" must not lose its [web]
            err.print(f"[yellow]hint[/yellow]: {escape(e.hint)}", highlight=False, soft_wrap=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as e:  # usage errors (typer vendors its own click: match by shape, not class)
        if hasattr(e, "show") and hasattr(e, "exit_code"):
            e.show()
            sys.exit(e.exit_code)
        if type(e).__name__ == "Abort":
            sys.exit(EXIT_FAILED)
        raise
    sys.exit(rc if isinstance(rc, int) else EXIT_OK)
