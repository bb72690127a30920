"""Write docs/recipes.md from the parameter definitions in the code: ``python tools/gen_recipe_docs.py``.

``tests/test_docs_commands.py`` fails when docs/recipes.md differs from what this writes.
"""

from __future__ import annotations

from pathlib import Path

from gristmill.recipe_docs import render

if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "recipes.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
