"""Protection: ``gristmill toxicity train`` (``pii explain`` and ``spam train`` are registered beside it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gristmill.cli.app import app, out

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
