"""``gristmill select-target``: keep the documents that look like a target sample (DSIR importance resampling,
per language); a run folder whose manifest records the selected share per language and source."""

from __future__ import annotations

from typing import Annotated

import typer

from gristmill.cli.app import app, out


@app.command("select-target")
def select_target(
    input: Annotated[list[str], typer.Option("--input", "-i", help="the raw corpus (files, folders, globs)")],
    target: Annotated[list[str], typer.Option("--target", "-T", help="the target sample (files, folders, globs; "
                                                                     "e.g. a run's kept/)")],
    output: Annotated[str, typer.Option("--output", "-o", help="output folder (a run: kept/, rejected/, manifest)")],
    budget: Annotated[float | None, typer.Option(help="how much to keep, in the unit (default: --fraction)")] = None,
    fraction: Annotated[float, typer.Option(min=0.0, max=1.0, help="share kept when no budget")] = 0.1,
    unit: Annotated[str, typer.Option(help="docs, tokens or chars")] = "docs",
    buckets: Annotated[int, typer.Option(min=16, help="hash buckets of the n-gram models")] = 65536,
    seed: Annotated[int, typer.Option(help="the Gumbel noise (which sample is drawn)")] = 0,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1)] = None,
) -> None:
    """Select documents like a target sample: per-language hashed n-gram importance weights + Gumbel top-k."""
    from gristmill.errors import GristmillError
    from gristmill.exec.local import run as run_recipe
    from gristmill.recipe import parse_recipe

    if unit not in ("docs", "tokens", "chars"):
        raise GristmillError(f"--unit must be docs, tokens or chars, got {unit!r}")
    step = {"step": "target_select", "target": list(target), "fraction": fraction, "unit": unit,
            "buckets": buckets, "seed": seed}
    if budget is not None:
        step["budget"] = budget
    recipe = parse_recipe({"name": "select-target", "steps": [step]}, "<gristmill select-target>")
    m = run_recipe(recipe, inputs=input, output=output, workers=workers, resume=False, quiet=True)
    info = m["global_steps"]["target_select"]
    for la, v in info["by_lang"].items():
        out.print(f"{la}: target share {v['target_share']:.1%}, selected {v['selected']:,.0f} of "
                  f"{v['available']:,.0f} {unit} ({v['share_selected']:.1%})", highlight=False)
    for s, v in info["by_source"].items():
        out.print(f"  {s or '(no source)'}: {v['selected_docs']:,} documents ({v['share_selected']:.1%})",
                  highlight=False)
    out.print(f"documents in {info['documents_in']:,} → selected {info['documents_out']:,}; "
              f"{output}/manifest.json global_steps.target_select has the details", highlight=False)
