"""Looking before running: ``validate`` a recipe, list ``steps`` and ``presets``, print the ``version``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gristmill.cli.app import app, out
from gristmill.errors import GristmillError


@app.command()
def validate(
    recipe: Annotated[Path, typer.Argument(help="recipe YAML (or a bundled name: default, sft)")],
    input: Annotated[list[str] | None, typer.Option("--input", "-i", help="input to check the recipe's column "
                                                      "names against (default: the recipe's input.paths)")] = None,
) -> None:
    """Check a recipe without running it: the schema, and every column a rule names (all problems at once)."""
    from gristmill.recipe_check import check_recipe

    r, sample = check_recipe(recipe, inputs=input)
    out.print(f"[green]ok[/green]: {recipe} ({len(r.steps)} steps: {', '.join(s.label for s in r.steps)})")
    out.print(f"columns checked against {sample.where}" if sample else "input fields not checked (no input: "
              "pass --input FILE)", highlight=False)


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
def presets(name: Annotated[str | None, typer.Argument(help="show one preset's rules")] = None) -> None:
    """List the selection presets (gopher, c4, fineweb, zh-web, bilingual …) and their rules."""
    from gristmill.presets import available, describe, load_preset

    for n in [name] if name else available():
        out.print(f"[bold]{n}[/bold]: {describe(n)}")
        if name:
            for k, v in load_preset(n).items():
                out.print(f"  {k}: {v}", highlight=False)


@app.command()
def version() -> None:
    """Print the gristmill version."""
    from gristmill import __version__

    out.print(__version__)
