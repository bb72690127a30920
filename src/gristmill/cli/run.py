"""Running recipes: ``gristmill run`` and ``gristmill demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gristmill.cli.app import ALLOW_PROBLEMS, _finish, app, out


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
    from gristmill.exec.pool import prestart

    prestart(workers, executor, input)  # the pool's forkserver imports now, beside the imports and check below
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
