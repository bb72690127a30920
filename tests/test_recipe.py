"""Recipes: YAML validated against the schema; errors name file, line, key and what was expected."""

from __future__ import annotations

import pytest

from gristmill.errors import GristmillError, MissingExtra, RecipeError
from gristmill.recipe import load_recipe


def test_default_recipe_loads_with_documented_steps():
    r = load_recipe()
    assert [s.step for s in r.steps] == ["normalize", "langid", "exact_dedup", "quality", "filter"]
    assert r.steps[-1].params.preset == ["bilingual"]
    assert r.output.format == "jsonl"
    assert len(r.plan_hash()) == 16


def test_error_names_file_line_key_and_expectation(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nsteps:\n  - step: normalize\n  - step: langid\n    min_score: 2.5\n")
    with pytest.raises(RecipeError) as e:
        load_recipe(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}:5: steps[1] (langid).min_score: expected a number between 0 and 1")
    assert "got 2.5" in msg


def test_unknown_step_suggests_the_closest(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("steps:\n  - step: langidd\n")
    with pytest.raises(RecipeError) as e:
        load_recipe(p)
    assert ":2: steps[0].step: expected a known step, got 'langidd'" in str(e.value)
    assert "did you mean 'langid'" in e.value.hint


def test_unknown_parameter_and_top_level_key():
    with pytest.raises(RecipeError) as e:
        load_recipe(text="steps:\n  - step: normalize\n    fom: NFKC\n")
    assert "<recipe>:3: steps[0] (normalize).fom" in str(e.value)
    assert "did you mean 'form'" in e.value.hint
    with pytest.raises(RecipeError) as e:
        load_recipe(text="stepz: []\n")
    assert "<recipe>:1: stepz" in str(e.value) and "did you mean 'steps'" in e.value.hint


def test_literal_language_and_size_validation():
    with pytest.raises(RecipeError, match=r"form: expected one of 'NFC', 'NFKC', 'none', got 'NFD'"):
        load_recipe(text="steps:\n  - step: normalize\n    form: NFD\n")
    with pytest.raises(RecipeError, match=r"keep: expected a list, each a language code"):
        load_recipe(text="steps:\n  - step: langid\n    keep: [english]\n")
    r = load_recipe(text="input:\n  shard_size: 8MiB\nsteps:\n  - step: langid\n    keep: [eng, cmn]\n")
    assert r.input.shard_size == 8 * 2**20
    assert r.steps[0].params.keep == ["en", "zh"]


def test_bad_yaml_and_duplicate_keys():
    with pytest.raises(RecipeError, match=r"<recipe>:3: \(document\): expected valid YAML"):
        load_recipe(text="steps:\n  - step: [unclosed\n")
    with pytest.raises(RecipeError, match=r"<recipe>:2: name: expected each key once"):
        load_recipe(text="name: a\nname: b\n")


def test_filter_expression_is_checked_at_load_time():
    with pytest.raises(RecipeError) as e:
        load_recipe(text="steps:\n  - step: filter\n    keep: \"__import__('os').system('x')\"\n")
    assert "<recipe>:3: steps[0] (filter).keep: expected a valid expression" in str(e.value)
    assert "only the functions" in e.value.hint


def test_every_step_with_a_problem_is_reported_at_its_own_line():
    with pytest.raises(RecipeError) as e:
        load_recipe(text="steps:\n  - step: langid\n    min_score: high\n  - step: filter\n    rules:\n"
                         "      ok: lang == 'zh'\n      bad: \"open('x')\"\n  - step: normalize\n    form: NFD\n")
    assert [(x.line, x.key) for x in e.value.errors] == [
        (3, "steps[0] (langid).min_score"), (7, "steps[1] (filter).rules.bad"), (9, "steps[2] (normalize).form")]


def test_missing_recipe_file_is_a_clear_error(tmp_path):
    with pytest.raises(GristmillError, match="recipe not found"):
        load_recipe(tmp_path / "nope.yaml")


def test_missing_extra_is_reported_at_load_time(monkeypatch):
    from gristmill.steps.base import Step

    class NeedsSomething(Step):
        name = "needs_something"
        requires = {"surely_not_installed_mod": "extra-x"}

    with pytest.raises(MissingExtra) as e:
        NeedsSomething.check_requirements()
    assert e.value.hint == "pip install 'gristmill[extra-x]'" and "surely_not_installed_mod" in str(e.value)


def test_the_readme_recipe_is_valid():
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("### A recipe\n\n```yaml\n", 1)[1].split("```", 1)[0]
    r = load_recipe(text=block)
    assert [s.step for s in r.steps][:3] == ["normalize", "langid", "exact_dedup"]
