"""gristmill: turn raw text into training data for large language models.

The Python API mirrors the command line:

>>> import gristmill
>>> recipe = gristmill.load_recipe()          # the default recipe
>>> [s.step for s in recipe.steps][:2]
['normalize', 'langid']

``gristmill.run(recipe, inputs=[...], output="out")`` runs it and returns the manifest (a dict).
"""

from __future__ import annotations

__version__ = "0.1.0"

from gristmill.errors import GristmillError, RecipeError  # noqa: E402
from gristmill.exec.local import run  # noqa: E402
from gristmill.recipe import Recipe, load_recipe  # noqa: E402

__all__ = ["GristmillError", "Recipe", "RecipeError", "__version__", "load_recipe", "run"]
