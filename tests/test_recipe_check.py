"""The recipe checker: columns named by rules must exist; every problem is reported in one pass, file:line each."""

from __future__ import annotations

import json

import pytest

from gristmill.errors import RecipeError
from gristmill.recipe import RecipeErrors, load_recipe
from gristmill.recipe_check import check_recipe, rejection_warnings
from tests.conftest import write_jsonl

SIX_MISTAKES = """\
name: six mistakes
inputs:
  paths: [data.jsonl]
output:
  format: jsonll
steps:
  - step: normalise
  - step: langid
    keep: [english, zh]
  - step: quality
    familes: [gopher]
  - step: filter
    rules:
      long_enough: n_char >= 200
"""

FIXED = """\
name: six mistakes, fixed
input:
  paths: [data.jsonl]
output:
  format: jsonl
steps:
  - step: normalize
  - step: langid
    keep: [en, zh]
  - step: quality
    families: [gopher]
  - step: filter
    rules:
      long_enough: n_chars >= 200
"""


def test_the_n_char_typo_is_rejected_with_a_did_you_mean_hint():
    with pytest.raises(RecipeError) as e:
        load_recipe(text="steps:\n  - step: quality\n  - step: filter\n    rules:\n      long: n_char >= 200\n")
    assert str(e.value) == ("<recipe>:5: steps[1] (filter).rules.long: expected a column that exists before this "
                            "step, got 'n_char'")
    assert e.value.hint.startswith("did you mean 'n_chars'? in rule long: n_char >= 200")


def test_six_mistakes_are_reported_in_one_pass_and_the_fixed_recipe_loads(tmp_path):
    p = tmp_path / "six.yaml"
    p.write_text(SIX_MISTAKES)
    with pytest.raises(RecipeErrors) as e:
        load_recipe(p)
    got = [(x.line, x.key) for x in e.value.errors]
    assert got == [(2, "inputs"), (5, "output.format"), (7, "steps[0].step"), (9, "steps[1] (langid).keep"),
                   (11, "steps[2] (quality).familes"), (14, "steps[3] (filter).rules.long_enough")]
    text = str(e.value)
    assert text.startswith(f"6 problems in {p}:\n")
    for hint in ("did you mean 'input'?", "did you mean 'normalize'?", "did you mean 'families'?",
                 "did you mean 'n_chars'?"):
        assert hint in text
    assert all(line.startswith(f"  {p}:") for line in text.splitlines()[1:])
    p.write_text(FIXED)
    r = load_recipe(p)
    assert [s.step for s in r.steps] == ["normalize", "langid", "quality", "filter"]


def test_a_column_made_by_a_later_step_is_named(tmp_path):
    with pytest.raises(RecipeError) as e:
        load_recipe(text="steps:\n  - step: filter\n    keep: lang == 'zh'\n  - step: langid\n")
    assert "got 'lang'" in str(e.value) and "made by step langid, which runs after this one" in e.value.hint


def test_input_fields_come_from_a_sample_of_the_first_records(tmp_path, zh_docs):
    data = write_jsonl(tmp_path / "zh.jsonl", [{"text": d["text"], "source": "man", "doc": {"url": f"u{i}"}}
                                               for i, d in enumerate(zh_docs[:20])])
    ok = "steps:\n  - step: langid\n  - step: filter\n    rules:\n      man: source == 'man' and lang == 'zh'\n" \
         "  - step: exact_dedup\n    key: doc.url\n"
    recipe, sample = check_recipe(text=ok, inputs=[str(data)])
    assert {"source", "doc", "doc.url", "id", "text"} <= sample.fields
    assert sample.where == "the first 100 records of zh.jsonl"
    # without an input, a name no step makes may be an input field: not an error
    load_recipe(text="steps:\n  - step: filter\n    keep: source == 'man'\n")
    with pytest.raises(RecipeError) as e:
        check_recipe(text="steps:\n  - step: filter\n    keep: sorce == 'man'\n", inputs=[str(data)])
    assert "got 'sorce'" in str(e.value) and "did you mean 'source'?" in e.value.hint
    assert ("input fields in the first 100 records of zh.jsonl: doc, doc.url, encoding, encoding_confidence, id, "
            "source, text") in e.value.hint


def test_a_preset_without_the_step_that_makes_its_columns(tmp_path, en_docs):
    data = write_jsonl(tmp_path / "en.jsonl", [{"text": d["text"]} for d in en_docs[:10]])
    with pytest.raises(RecipeError) as e:
        check_recipe(text="steps:\n  - step: filter\n    preset: [gopher]\n", inputs=[str(data)])
    assert "preset gopher" in str(e.value) and "is made by the quality step: add one before this one" in str(e.value)


def test_every_parameter_that_names_a_column_is_checked(tmp_path, en_docs):
    data = write_jsonl(tmp_path / "en.jsonl", [{"text": d["text"], "url": f"https://example.com/{i}"}
                                               for i, d in enumerate(en_docs[:10])])
    cases = {
        "  - step: exact_dedup\n    key: urll\n": ("exact_dedup).key", "'url'"),
        "  - step: langid\n  - step: mix\n    by: lnag\n    weights: {en: 1}\n": ("mix).by", "'lang'"),
        "  - step: quality\n  - step: minhash_dedup\n    keep: max:n_word\n": ("minhash_dedup).keep", "'n_words'"),
        "  - step: template\n    template: '{txt}'\n": ("template).template", "'text'"),
        "  - step: url_filter\n    field: uri\n": ("url_filter).field", "'url'"),
    }
    for steps, (key, close) in cases.items():
        with pytest.raises(RecipeError) as e:
            check_recipe(text="steps:\n" + steps, inputs=[str(data)])
        assert key in str(e.value) and f"did you mean {close}?" in e.value.hint, (steps, str(e.value), e.value.hint)
        check_recipe(text="steps:\n" + steps.replace("urll", "url").replace("lnag", "lang").replace(
            "n_word\n", "n_words\n").replace("{txt}", "{text}").replace("uri", "url"), inputs=[str(data)])
    with pytest.raises(RecipeError, match=r"<recipe>:2: output.columns: expected a column of the kept rows, got "
                                          r"'lang_scor'"):
        load_recipe(text="output:\n  columns: [id, lang_scor]\nsteps:\n  - step: langid\n")
    r = load_recipe(text="output:\n  columns: [id, lang_score, text_preview]\nsteps:\n  - step: langid\n")
    assert r.output.columns == ["id", "lang_score", "text_preview"]


def test_every_bundled_pipeline_recipe_passes_the_checker():
    for name in ("default", "sft"):
        assert load_recipe(name).steps


def test_the_python_api_accepts_the_default_recipe_by_name(tmp_path, en_docs, zh_docs):
    import gristmill

    data = write_jsonl(tmp_path / "in.jsonl", [{"text": d["text"]} for d in en_docs[:4] + zh_docs[:4]])
    m = gristmill.run("default", inputs=[str(data)], output=str(tmp_path / "o"), workers=1, quiet=True)
    assert m["counts"]["input"] == 8 and m["reconciled"]
    assert [s["name"] for s in m["steps"]][:2] == ["normalize", "langid"]


def test_a_step_rejecting_nearly_everything_is_warned_about(tmp_path, zh_docs):
    import gristmill

    data = write_jsonl(tmp_path / "zh.jsonl", [{"text": d["text"]} for d in zh_docs[:30]])
    recipe = load_recipe(text="steps:\n  - step: quality\n  - step: filter\n    rules:\n"
                              "      huge: n_chars >= 10000000\n")
    m = gristmill.run(recipe, inputs=[str(data)], output=str(tmp_path / "o"), workers=1, quiet=True)
    warnings = rejection_warnings(m)
    assert warnings == ["step filter rejected 30 of 30 documents (100.0%); top reason: huge (30 documents; rule: "
                        "n_chars >= 10000000); check its thresholds and the columns it reads (gristmill calibrate "
                        "shows their percentiles)"]
    m["steps"][-1]["rejected"] = {"huge": 29}
    m["steps"][-1]["kept"] = 1
    assert rejection_warnings(json.loads(json.dumps(m))) == []  # 96.7%: no warning


def test_the_python_api_checks_columns_against_the_input_before_it_starts(tmp_path):
    import gristmill
    from gristmill.errors import RecipeError

    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "A short English text for the check.", "url": "https://example.org/"}\n')
    recipe = tmp_path / "typo.yaml"
    recipe.write_text("steps:\n  - step: quality\n  - step: filter\n    rules:\n      long: \"n_char >= 200\"\n")
    with pytest.raises(RecipeError, match="n_char"):
        gristmill.run(str(recipe), inputs=[str(src)], output=str(tmp_path / "o"), quiet=True)
    assert not (tmp_path / "o").exists()
    recipe.write_text("steps:\n  - step: filter\n    rules:\n      has_url: \"len(url) > 0\"\n")
    m = gristmill.run(str(recipe), inputs=[str(src)], output=str(tmp_path / "o"), quiet=True, workers=1)
    assert m["counts"]["kept"] == 1  # an input field is a column the check knows
