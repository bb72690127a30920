"""Selection from signals: ``signals`` (a sidecar), ``select``, ``calibrate``, ``train-classifier``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gristmill.cli.app import app, out


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
    model: Annotated[str, typer.Option("--model", "-m", help="where to write the model (.bin; .npz for embed)")],
    positive: Annotated[list[str] | None, typer.Option("--positive", "-p", help="JSONL/Parquet/text of good "
                                                       "examples")] = None,
    negative: Annotated[list[str] | None, typer.Option("--negative", "-n", help="JSONL/Parquet/text of bad "
                                                       "examples")] = None,
    scores: Annotated[list[str] | None, typer.Option("--scores", "-s", help="annotation files (gristmill "
                                                     "annotate output, or JSONL with text and a score)")] = None,
    model_type: Annotated[str, typer.Option(help="with --scores: fasttext, or embed (ridge over a local "
                                                 "model's hidden states)")] = "fasttext",
    target: Annotated[str | None, typer.Option(help="with --scores: ordinal (fasttext), regression (embed) "
                                                    "or binary (score >= threshold)")] = None,
    threshold: Annotated[float, typer.Option(help="with --scores: the score the F1 and binary target use")] = 3.0,
    encoder: Annotated[str | None, typer.Option(help="embed: a gristmill train folder or a local Hugging Face "
                                                     "model folder (never downloaded)")] = None,
    score_field: Annotated[str, typer.Option(help="score field of annotation files")] = "score",
    text_field: Annotated[str, typer.Option(help="text field of the inputs")] = "text",
    test_share: Annotated[float, typer.Option(min=0.0, max=0.9, help="held-out share")] = 0.1,
    epoch: Annotated[int | None, typer.Option(min=1, help="fastText epochs (default 10)")] = None,
    max_chars: Annotated[int, typer.Option(min=1, help="with --scores: fasttext and linear models read the first "
                                                       "this many characters of a document")] = 10_000,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train a classifier (offline): fastText from positive and negative sets (held-out accuracy/AUC), or a
    scorer from graded annotations (--scores: held-out Spearman/Pearson, F1, confusion, per language)."""
    import json

    if scores:
        from gristmill.classify.scores import read_annotations, train_scorer
        from gristmill.errors import GristmillError

        if positive or negative:
            raise GristmillError("give either --scores or --positive/--negative, not both")
        rows, unscored, scale = read_annotations(scores, score_field=score_field, text_field=text_field)
        rep = train_scorer(rows, model, model_type=model_type, target=target, threshold=threshold,
                           scale=scale or (0.0, 5.0), test_share=test_share, seed=seed, encoder=encoder,
                           epoch=epoch or 10, max_chars=max_chars)
        rep["unscored_skipped"] = unscored
        Path(model + ".report.json").write_text(json.dumps(rep, indent=2, ensure_ascii=False))
        t = Table(title=f"{rep['model_type']} {rep['target']} scorer → {model} ({rep['train_docs']:,} trained on, "
                        f"{rep['test_docs']:,} held out)", title_justify="left")
        for c in ("lang", "docs", "Spearman", "Pearson", "MAE", f"F1 @ {rep['held_out']['all']['threshold']:g}"
                  if rep.get("held_out") else "F1"):
            t.add_column(c, justify="left" if c == "lang" else "right")
        for g, r in rep.get("held_out", {}).items():
            t.add_row(g, f"{r['n']:,}", *(("" if r[k] is None else f"{r[k]:.3f}")
                                          for k in ("spearman", "pearson", "mae", "f1")))
        out.print(t)
        out.print(f"confusion per score and the full report: {model}.report.json", highlight=False)
        return
    from gristmill.classify.fasttext_model import train
    from gristmill.io.texts import read_texts

    if not positive or not negative:
        from gristmill.errors import GristmillError

        raise GristmillError("give --positive and --negative sets, or --scores annotation files")
    rep = train(read_texts(positive, text_field), read_texts(negative, text_field), model,
                test_share=test_share, epoch=epoch or 10, seed=seed)
    out.print_json(json.dumps(rep.to_dict()))
    Path(model + ".report.json").write_text(json.dumps(rep.to_dict(), indent=2))
