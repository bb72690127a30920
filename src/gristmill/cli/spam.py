"""Command for the Chinese spam classifier: ``gristmill spam train SPEC``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gristmill.cli.app import app, out

spam_app = typer.Typer(help="Chinese spam and ads: train the zh_spam classifier from labelled sources.",
                       no_args_is_help=True)
app.add_typer(spam_app, name="spam")


@spam_app.command("train")
def spam_train(
    spec: Annotated[Path, typer.Argument(help="YAML of train and held_out sources (see "
                                              "recipes/zh-spam-bundled.yaml)")],
    root: Annotated[Path, typer.Option(help="folder the spec's paths are relative to")] = Path("."),
    output: Annotated[str, typer.Option("--output", "-o", help="folder for zh-spam.ftz and its report")] = "models",
) -> None:
    """Train the Chinese spam model (fastText on words and characters) and report held-out precision, recall,
    false-positive rate and ROC AUC per source; score with it: ``- step: zh_spam {model: OUTPUT/zh-spam.ftz}``."""
    from gristmill.classify.spam import train_from_spec

    out.print_json(json.dumps(train_from_spec(str(spec), str(root), output), ensure_ascii=False))
