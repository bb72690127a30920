"""Reports: ``gristmill report`` (a run's HTML report) and ``gristmill analyze`` (any dataset)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gristmill.cli.app import app, out


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
