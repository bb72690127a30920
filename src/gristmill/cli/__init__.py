"""The ``gristmill`` command line: one module per command family, each registering its commands on the one
typer ``app`` (``cli/app.py``). Every command has a Python API twin (see ``gristmill/__init__.py``).

Exit codes (docs/recipes.md): 0 success; 1 an unexpected failure (a bug: a traceback); 2 a usage or recipe
error (nothing ran, or the run stopped: one line and a hint); 3 the command finished but the input had
problems (quarantined records, unreadable files, invalid fine-tuning records; ``--allow-input-problems``
gives 0); 130 interrupted.

    >>> from gristmill.cli import app
    >>> "run" in {c.name or c.callback.__name__ for c in app.registered_commands}
    True
"""

from importlib import import_module

from gristmill.cli.app import app, entry, main, out

# each module registers its commands when imported; help lists them in this order
FAMILIES = ("run", "report", "inspect", "select", "select_target", "dedup", "protect", "pii", "spam", "sft",
            "training", "annotate")
for _family in FAMILIES:
    import_module(f"gristmill.cli.{_family}")

__all__ = ["app", "entry", "main", "out"]
