"""The ``gristmill`` command line. Every command has a Python API twin (see ``gristmill/__init__.py``)."""

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


def _finish(manifest: dict, output: str) -> None:
    from gristmill.report.summary import render_html, step_table, totals_line

    out.print(step_table(manifest))
    out.print(totals_line(manifest))
    if os.path.isdir(output):
        Path(output, "report.html").write_text(render_html(manifest), encoding="utf-8")
        out.print(f"outputs in {output}/ (kept/, rejected/, quarantine/, manifest.json, report.html)")


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
) -> None:
    """Run a recipe over input data: kept/, rejected/, quarantine/ and manifest.json."""
    from gristmill.exec.local import run as run_recipe

    m = run_recipe(recipe, inputs=input, output=output, workers=workers, resume=resume, quiet=quiet)
    _finish(m, m["output"])


@app.command()
def demo(
    output: Annotated[str, typer.Option("--output", "-o", help="output folder")] = "gristmill-demo",
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1)] = None,
) -> None:
    """Run the default recipe on the bundled English + Chinese sample and write a report."""
    from gristmill.demo import sample_paths
    from gristmill.exec.local import run as run_recipe

    m = run_recipe(None, inputs=sample_paths(), output=output, workers=workers, resume=False)
    _finish(m, output)


@app.command()
def validate(recipe: Annotated[Path, typer.Argument(help="recipe YAML")]) -> None:
    """Check a recipe against the schema without running it."""
    from gristmill.recipe import load_recipe

    r = load_recipe(recipe)
    out.print(f"[green]ok[/green]: {recipe} ({len(r.steps)} steps: {', '.join(s.label for s in r.steps)})")


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


@app.command()
def version() -> None:
    """Print the gristmill version."""
    from gristmill import __version__

    out.print(__version__)


def main() -> None:
    try:
        app(standalone_mode=False)
    except GristmillError as e:
        err.print(f"[bold red]error[/bold red]: {e}", highlight=False)
        if e.hint:
            err.print(f"[yellow]hint[/yellow]: {e.hint}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as e:  # click usage errors and aborts
        import click

        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if isinstance(e, click.exceptions.Abort):
            sys.exit(1)
        raise
