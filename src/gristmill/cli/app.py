"""The command line's typer app, its consoles, exit codes and the run summary every running command prints.

Exit codes (docs/recipes.md): 0 success; 1 an unexpected failure (a bug: a traceback); 2 a usage or recipe
error (nothing ran, or the run stopped: one line and a hint); 3 the command finished but the input had
problems (quarantined records, unreadable files, invalid fine-tuning records; ``--allow-input-problems``
gives 0); 130 interrupted.
"""

from __future__ import annotations

import copy
import os
import sys

import typer
from rich.console import Console

from gristmill.errors import GristmillError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="rich",
                  help="gristmill: turn raw text into training data for LLMs (English and Chinese first-class).")


@app.callback()
def _group() -> None:
    # no options of its own; a callback keeps an app a group of commands however few it holds (see invoked_app)
    pass


class LineConsole(Console):
    """A rich console whose text prints whole: rich breaks a long line at the console's width (80 columns when
    the output is a pipe or a file), which cuts a printed path or command in two (a copied
    ``AutoTokenizer.from_pretrained('...')`` then fails). Strings print with ``soft_wrap`` (the terminal wraps
    them, if anything); tables and other renderables are still laid out at the width."""

    def print(self, *objects, soft_wrap: bool | None = None, **kw) -> None:
        if soft_wrap is None and objects and all(isinstance(o, str) for o in objects):
            soft_wrap = True
        super().print(*objects, soft_wrap=soft_wrap, **kw)


out = LineConsole()
err = LineConsole(stderr=True)
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INPUT_PROBLEMS, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
ALLOW_PROBLEMS = typer.Option("--allow-input-problems", help="exit 0 even when records were quarantined or "
                              "input files had problems (default: exit 3)")


def _finish(manifest: dict, output: str, allow_input_problems: bool = False) -> None:
    """Print the run's summary; exit 3 when records were quarantined or inputs had problems (unless allowed)."""
    from gristmill.recipe_check import rejection_warnings
    from gristmill.report.summary import explain_run, step_table, totals_line

    out.print(step_table(manifest))
    for label, info in manifest.get("global_steps", {}).items():
        if "s_curve" in info:
            curve = ", ".join(f"P({j})={p:.3f}" for j, p in info["s_curve"].items())
            out.print(f"{label}: {info['bands']} bands x {info['rows']} rows; {curve}; "
                      f"{info['candidate_pairs']:,} candidate pairs, {info['verified_pairs']:,} verified, "
                      f"{info['clusters']:,} clusters; {info['state_bytes_per_doc']:,.0f} bytes of state per document",
                      highlight=False)
    out.print(totals_line(manifest))
    for item in explain_run(output) if os.path.isdir(output) else []:
        out.print(item, highlight=False, markup=False)
    problems = manifest.get("input_problems", [])
    if problems:
        out.print(f"input problems: {len(problems)} (first: {problems[0]['path']}: {problems[0]['problem']}); "
                  "see manifest.json", highlight=False, markup=False)
    if os.path.isdir(output):
        made = "report.html" if os.path.exists(os.path.join(output, "report.html")) else None
        out.print(f"outputs in {output}/ (kept/, rejected/, quarantine/, manifest.json"
                  f"{', ' + made if made else ''})", highlight=False)
    for w in rejection_warnings(manifest):
        err.print(f"[yellow]warning[/yellow]: {w}", highlight=False)
    quarantined = manifest.get("counts", {}).get("quarantined", 0)
    if (problems or quarantined) and not allow_input_problems:
        err.print(f"exit code {EXIT_INPUT_PROBLEMS}: {quarantined:,} records quarantined, {len(problems)} input "
                  "problems (--allow-input-problems: exit 0)", highlight=False)
        raise typer.Exit(EXIT_INPUT_PROBLEMS)


def invoked_app(args: list[str]) -> typer.Typer:
    """The app to run for the command line ``args``: where the first word names a command (or a group of
    them), a copy of :data:`app` holding only that one, else the whole app (help, a misspelt command). Typer
    builds every command of the app it runs, evaluating each one's signature; the others would never be used.

    >>> [c.callback.__name__ for c in invoked_app(["run", "--help"]).registered_commands]
    ['run']
    >>> invoked_app(["--help"]) is app and invoked_app(["rnu"]) is app
    True
    """
    from typer.main import get_command_name

    name = args[0] if args else None
    commands = [c for c in app.registered_commands if (c.name or get_command_name(c.callback.__name__)) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    one = copy.copy(app)
    one.registered_commands, one.registered_groups = commands, groups
    return one


def main() -> None:
    from gristmill.exec.owned import arrow_without_pandas

    arrow_without_pandas()  # this process runs gristmill only: pyarrow need not import pandas
    try:
        rc = invoked_app(sys.argv[1:])(standalone_mode=False)
    except GristmillError as e:
        from rich.markup import escape

        err.print(f"[bold red]error[/bold red]: {escape(str(e))}", highlight=False)
        if e.hint:  # escaped: "pip install 'gristmill[web]'" must not lose its [web]
            err.print(f"[yellow]hint[/yellow]: {escape(e.hint)}", highlight=False)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as e:  # usage errors (typer vendors its own click: match by shape, not class)
        if hasattr(e, "show") and hasattr(e, "exit_code"):
            e.show()
            sys.exit(e.exit_code)
        if type(e).__name__ == "Abort":
            sys.exit(EXIT_FAILED)
        raise
    sys.exit(rc if isinstance(rc, int) else EXIT_OK)


def entry() -> None:
    """The ``gristmill`` command (console script and ``python -m gristmill``): :func:`main`, then the process
    ends without the interpreter's teardown (:func:`gristmill.exec.exit.exit_process`); a caller that embeds
    :func:`main` gets its ``SystemExit`` as before."""
    try:
        main()
        code = EXIT_OK
    except SystemExit as e:
        if e.code is not None and not isinstance(e.code, int):
            raise  # a message: Python prints it and exits 1
        code = e.code or EXIT_OK
    from gristmill.exec.exit import exit_process

    exit_process(code)
