"""Deduplication and decontamination: ``gristmill dedup`` and ``gristmill decontam build|scan``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gristmill.cli.app import ALLOW_PROBLEMS, _finish, app, out
from gristmill.errors import GristmillError


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
