"""``gristmill pii explain TEXT``: every PII candidate with its type, span, confidence and why it is kept or
dropped (validator results, context words), under the ``pii`` step's defaults or the options given."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gristmill.cli.app import app, out

pii_app = typer.Typer(help="PII detection: see why each candidate is kept or dropped.", no_args_is_help=True)
app.add_typer(pii_app, name="pii")


@pii_app.command("explain")
def pii_explain(
    text: Annotated[str, typer.Argument(help="the text to look at; '-' reads standard input")],
    region: Annotated[list[str] | None, typer.Option("--region", help="a phone region to read (repeat it); "
                                                                      "default: the pii step's list")] = None,
    min_confidence: Annotated[float, typer.Option(help="lowest confidence kept, for every type")] = 0.5,
    ip_rule: Annotated[str, typer.Option(help="context, strict or any")] = "context",
) -> None:
    """Print each candidate: TYPE [start:end] 'value' confidence, KEPT or DROPPED and why."""
    from gristmill.errors import GristmillError
    from gristmill.protect.pii import DEFAULT_REGIONS, TYPES, explain, make_config

    if ip_rule not in ("context", "strict", "any"):
        raise GristmillError(f"--ip-rule must be context, strict or any, got {ip_rule!r}")
    if text == "-":
        text = sys.stdin.read()
    cfg = make_config(TYPES, {t: min_confidence for t in TYPES}, region or DEFAULT_REGIONS, ip_rule)
    out.print(explain(text, cfg), highlight=False, markup=False)
