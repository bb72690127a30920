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
