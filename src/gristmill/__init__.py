"""gristmill: turn raw text into training data for large language models.

The Python API mirrors the command line:

>>> import gristmill
>>> recipe = gristmill.load_recipe()          # the default recipe
>>> [s.step for s in recipe.steps][:2]
['normalize', 'langid']

``gristmill.run(recipe, inputs=[...], output="out")`` runs it and returns the manifest (a dict).
"""

from __future__ import annotations

import os as _os
import sys as _sys

from gristmill.version import __version__

if "ARROW_DEFAULT_MEMORY_POOL" not in _os.environ:
    # Arrow batches come and go: the system allocator gives their memory back, mimalloc (pyarrow's default)
    # keeps it (measured: peak RSS of a run ~10% lower, and no slower). Set the variable to choose another.
    # pyarrow reads it when it first allocates: it is imported here only if it was imported before.
    _os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    if "pyarrow" in _sys.modules:
        import pyarrow as _pa

        _pa.set_memory_pool(_pa.system_memory_pool())

from gristmill.errors import GristmillError, RecipeError  # noqa: E402

_LAZY = {"run": "gristmill.exec.local", "Recipe": "gristmill.recipe", "load_recipe": "gristmill.recipe"}


def __getattr__(name: str):
    """``run``, ``Recipe`` and ``load_recipe`` load on first use, so importing a low layer (``gristmill.text``,
    ``gristmill.io``) does not load the executor and every step (docs/architecture.md)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gristmill' has no attribute {name!r}")


def demo(output: str = "gristmill-demo", workers: int | None = None, quiet: bool = True) -> dict:
    """Run the default recipe on the bundled English + Chinese sample (what ``gristmill demo`` does)."""
    from gristmill.demo import sample_paths
    from gristmill.exec.local import run

    return run(None, inputs=sample_paths(), output=output, workers=workers, resume=False, quiet=quiet)


def list_steps() -> dict[str, list[tuple[str, str, str, str]]]:
    """Every step with its parameters: name -> [(parameter, type, default, meaning)] (``gristmill steps``)."""
    from gristmill.params import param_docs
    from gristmill.steps import REGISTRY

    return {n: param_docs(REGISTRY[n].Params) for n in sorted(REGISTRY)}


__all__ = ["GristmillError", "Recipe", "RecipeError", "__version__", "demo", "list_steps", "load_recipe", "run"]
